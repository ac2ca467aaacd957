// The packed `enchufe` tarball as a user meets it: installed with npm, used through webpack
// and through a plain <script type="module">, in headless Chromium against a live server.
// `cargo xtask test` builds the package and the bundle first and sets ENCHUFE_TEST_URL.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { launch } from "../chromium.js";
import { serve } from "../serve.js";

const server = process.env.ENCHUFE_TEST_URL;
const TIMEOUT_MS = 15_000;

let browser;
let pages;

before(async () => {
  assert.ok(server, "ENCHUFE_TEST_URL (the live server's ws:// URL) must be set");
  pages = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  pages?.close();
});

/** Opens `page` of the app, waits for its outcome, and checks what a user would. */
async function connectPublishReceive(page) {
  const tab = await browser.newPage();
  const errors = [];
  tab.on("pageerror", (e) => errors.push(e.message));
  try {
    const room = `consumer-${randomUUID().slice(0, 8)}`;
    const query = new URLSearchParams({ server, room });
    await tab.goto(`${pages.url}/${page}?${query}`);
    await tab.waitForFunction(() => window.outcome !== undefined, null, { timeout: TIMEOUT_MS });
    const outcome = await Promise.race([
      tab.evaluate(() => window.outcome),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no outcome within ${TIMEOUT_MS} ms`)), TIMEOUT_MS),
      ),
    ]);
    assert.deepEqual(errors, []);
    assert.equal(outcome.joined.room, room);
    assert.equal(outcome.joined.seq, 0);
    assert.equal(outcome.joined.members.length, 1);
    assert.equal(outcome.joined.members[0].name, "consumer");
    assert.equal(outcome.seq, 1, "the publish is acknowledged with its seq");
    assert.deepEqual(outcome.message.body, { text: "hola from the package", n: 42 });
    assert.equal(outcome.message.seq, 1);
    assert.equal(outcome.message.from, "consumer");
    assert.deepEqual(outcome.history.map((m) => m.seq), [1]);
    assert.equal(outcome.state, "online");
    // Listeners added right after the constructor see every state; close() reports the last.
    assert.deepEqual(outcome.states, ["connecting", "online", "closed"]);
  } finally {
    await tab.close();
  }
}

test("a webpack bundle of the package connects, publishes and receives its message", () =>
  connectPublishReceive("bundle.html"));

test("the package's web build works from a plain <script type=module>", () =>
  connectPublishReceive("web.html"));

test("the webpack bundle's size (JavaScript and wasm, gzipped)", () => {
  const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist");
  const sizes = { js: 0, wasm: 0 };
  for (const file of readdirSync(dist)) {
    const kind = path.extname(file).slice(1);
    if (kind in sizes) sizes[kind] += gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
  }
  assert.ok(sizes.wasm > 0, "the bundle emits the .wasm as an asset");
  console.log(
    `size: webpack 5 bundle: ${sizes.js + sizes.wasm} bytes gzipped ` +
      `(wasm ${sizes.wasm}, JavaScript ${sizes.js}; gzip -9)`,
  );
});
