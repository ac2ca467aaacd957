// What a page of another origin can do to an enchufe server, in headless Chromium: with origins
// restricted (any auth key configured) it cannot open the WebSocket; in no configuration can a
// cross-site form-style request (`Content-Type: text/plain`, which needs no CORS preflight)
// publish; and two anonymous REST clients that send the same idempotency key (short, or long)
// never lose a message silently. The pages come from this test's own static server, so they
// are a foreign origin to every enchufe server started here. ENCHUFE_BIN is the server binary.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { launch } from "../chromium.js";
import { serve } from "../serve.js";

const binary = process.env.ENCHUFE_BIN;
const TIMEOUT_MS = 15_000;

let browser;
let pages;
const servers = [];

before(async () => {
  assert.ok(binary, "ENCHUFE_BIN (the enchufe server binary) must be set");
  pages = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  pages?.close();
  for (const server of servers) server.kill();
});

/** Starts `enchufe serve` on free loopback ports with `args`; resolves with its http base URL. */
async function start(args) {
  const child = spawn(
    binary,
    ["serve", "--http", "127.0.0.1:0", "--tcp", "off", "--udp", "off", ...args],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  servers.push(child);
  const lines = createInterface({ input: child.stdout });
  const deadline = setTimeout(() => child.kill(), TIMEOUT_MS);
  for await (const line of lines) {
    const match = line.match(/http listening on (http:\/\/\S+)/);
    if (match) {
      clearTimeout(deadline);
      return match[1];
    }
  }
  throw new Error("the server did not start");
}

/** Runs `fn(arg)` in a fresh tab of the foreign origin; resolves with its result. */
async function inForeignPage(fn, arg) {
  const tab = await browser.newPage();
  try {
    await tab.goto(`${pages.url}/bundle.html`);
    return await tab.evaluate(fn, arg);
  } finally {
    await tab.close();
  }
}

/** Whether a WebSocket to `url` opens (true) or fails (false), from the page. */
function opens(url) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onopen = () => {
      ws.close();
      resolve(true);
    };
    ws.onerror = () => resolve(false);
    setTimeout(() => resolve(false), 10_000);
  });
}

/** A cross-site "form" post from the page: text/plain, no preflight, response unreadable. */
async function formPost({ url, body }) {
  try {
    await fetch(url, {
      method: "POST",
      mode: "no-cors",
      headers: { "Content-Type": "text/plain" },
      body,
    });
  } catch {
    // refused or opaque: what matters is whether the server stored it
  }
  return true;
}

async function stored(http, room) {
  const answer = await fetch(`${http}/api/rooms/${room}/messages`);
  assert.equal(answer.status, 200);
  return (await answer.json()).messages;
}

test("with an auth key configured a foreign page cannot open the WebSocket", async () => {
  const http = await start(["--auth-secret", "origins-test-secret", "--anonymous", "full"]);
  const ws = http.replace("http://", "ws://") + "/ws";
  assert.equal(await inForeignPage(opens, ws), false, "a foreign origin was let in");
});

test("an explicit origin list lets its origin in and keeps others out", async () => {
  const http = await start(["--allowed-origins", pages.url]);
  const ws = http.replace("http://", "ws://") + "/ws";
  assert.equal(await inForeignPage(opens, ws), true, "the listed origin was refused");
  const other = await start(["--allowed-origins", "http://elsewhere.example"]);
  const otherWs = other.replace("http://", "ws://") + "/ws";
  assert.equal(await inForeignPage(opens, otherWs), false, "an unlisted origin was let in");
});

for (const [label, args] of [
  ["no auth", []],
  ["CORS open to every origin", ["--cors", "*"]],
  ["auth configured", ["--auth-secret", "origins-test-secret", "--anonymous", "full"]],
]) {
  test(`a cross-site text/plain POST never publishes (${label})`, async () => {
    const http = await start(args);
    const room = `form-${label.replaceAll(" ", "-").replaceAll("*", "x")}`;
    const url = `${http}/api/rooms/${room}/messages`;
    await inForeignPage(formPost, { url, body: '"forged"' });
    assert.deepEqual(await stored(http, room), [], "the forged message was stored");
  });
}

// A short key ("1") is the accidental collision; a long one shared on purpose (or by a bug) is
// the other way two clients can meet. Either way each post is stored or visibly refused.
for (const key of ["1", "0123456789abcdef0123456789abcdef"]) {
  test(`two anonymous REST clients with the same idempotency key ${key} lose nothing silently`, async () => {
    const http = await start(["--cors", pages.url]);
    const room = `idempotency-${key.length}`;
    const url = `${http}/api/rooms/${room}/messages`;
    const statuses = await inForeignPage(
      async ({ url, key }) => {
        const post = (text) =>
          fetch(url, {
            method: "POST",
            headers: { "Content-Type": "application/json", "Idempotency-Key": key },
            body: JSON.stringify(text),
          }).then((r) => r.status);
        return [await post("first client"), await post("second client")];
      },
      { url, key },
    );
    const texts = (await stored(http, room)).map((m) => m.body);
    for (const [i, status] of statuses.entries()) {
      const text = i === 0 ? "first client" : "second client";
      if (status >= 200 && status < 300) {
        assert.ok(texts.includes(text), `answered ${status} but "${text}" is not stored: ${texts}`);
      } else {
        assert.ok(status >= 400, `"${text}" got ${status}: neither stored nor refused`);
      }
    }
  });
}
