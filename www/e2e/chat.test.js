// End to end: the built web app (www/dist), served by the real `enchufe serve`, driven in
// headless Chromium; other clients are the real CLI over TCP, REST through fetch, and a raw
// TCP socket sending what the page's nc command sends.
//
//   cargo xtask test        (builds everything, then runs this)
//   node --test e2e/        (from www/, after `cargo build -p enchufe` and `npm run build`)
//
// Environment: ENCHUFE_BIN (default ../target/debug/enchufe), ENCHUFE_WWW (default dist),
// CHROMIUM (default /usr/bin/chromium), ENCHUFE_E2E_ARTIFACTS (screenshots; default
// ../target/e2e-artifacts).

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { Server } from "./server.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const bin = path.resolve(process.env.ENCHUFE_BIN ?? path.join(root, "target/debug/enchufe"));
const www = path.resolve(process.env.ENCHUFE_WWW ?? path.join(here, "../dist"));
const artifacts = path.resolve(process.env.ENCHUFE_E2E_ARTIFACTS ?? path.join(root, "target/e2e-artifacts"));
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Flags from ../../docs/TOOLCHAIN.md: without the networking ones Chromium's background
 * connections fail against the closed network and clutter the run. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** A bound on every wait for something the page should show. */
const WAIT_MS = 20_000;

const room = `e2e-${process.pid}`;
const server = new Server({ bin, www });
let browser;
/** Pages by user name, and what each logged as errors. */
const pages = {};
const errors = [];

/** Errors the browser logs by design while the server is down. */
const EXPECTED_OFFLINE = /WebSocket connection to|ERR_CONNECTION_REFUSED|Failed to fetch/;

async function openPage(name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(`${name}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !EXPECTED_OFFLINE.test(message.text())) {
      errors.push(`${name}: ${message.text()}`);
    }
  });
  await page.goto(`${server.url}/#${room}`);
  // First visit: the app asks for a display name, and connects only once it has one.
  await page.getByLabel("Choose a display name").waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator("#connection").textContent(), "Not connected");
  if (name === "ana") await shot(page, "0-choose-a-name");
  await page.getByLabel("Choose a display name").fill(name);
  await page.getByRole("button", { name: "Start chatting" }).click();
  await waitForBadge(page, "online");
  await page.locator("#room-title", { hasText: `# ${room}` }).waitFor({ timeout: WAIT_MS });
  pages[name] = page;
  return page;
}

/** The message box. */
function composer(page) {
  return page.getByRole("textbox", { name: "Message", exact: true });
}

function waitForBadge(page, state) {
  return page.waitForFunction(
    (wanted) => document.getElementById("connection")?.dataset.state === wanted,
    state,
    { timeout: WAIT_MS },
  );
}

/** The log as the user sees it: messages (with seq, sender, text), pending, notices, dividers. */
function readLog(page) {
  return page.$$eval("#messages > li", (items) =>
    items.map((li) => ({
      kind: li.classList.contains("pending") ? "pending" : li.classList[0],
      status: li.dataset.status ?? null,
      seq: li.dataset.seq ? Number(li.dataset.seq) : null,
      from: li.dataset.from ?? null,
      body: li.querySelector(".body")?.textContent ?? li.textContent,
    })),
  );
}

/** Waits until the log holds a delivered message with each of `bodies`; a timeout names
 * what the log held instead, and leaves a screenshot. */
async function waitForMessages(page, bodies) {
  try {
    await page.waitForFunction(
      (wanted) => {
        const shown = [...document.querySelectorAll("#messages > li.message:not(.pending) .body")].map(
          (b) => b.textContent,
        );
        return wanted.every((w) => shown.includes(w));
      },
      bodies,
      { timeout: WAIT_MS },
    );
  } catch (error) {
    await shot(page, `failed-waiting-${Date.now()}`).catch(() => {});
    const badge = await page.locator("#connection").textContent().catch(() => "?");
    const log = JSON.stringify(await readLog(page).catch(() => "?"));
    throw new Error(`${error.message}\nwanted ${JSON.stringify(bodies)}; badge "${badge}"; log: ${log}`, {
      cause: error,
    });
  }
}

async function membersOf(page) {
  return page.$$eval("#members .who", (names) => names.map((n) => n.textContent));
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Publishes over REST, as the page's curl command does. */
async function restPublish(text, from = "rest") {
  const response = await fetch(`${server.url}/api/rooms/${room}/messages?from=${from}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(text),
  });
  const answer = await response.text();
  assert.equal(response.status, 201, `POST answered ${response.status}: ${answer}`);
  return JSON.parse(answer).seq;
}

/** The command the page's "connect from anywhere" panel shows in `group` for `label`. */
async function panelCommand(page, group, label) {
  return page.evaluate(
    ([group, label]) => {
      for (const section of document.querySelectorAll("#anywhere .group")) {
        if (!section.querySelector("h3").textContent.startsWith(group)) continue;
        for (const command of section.querySelectorAll(".command")) {
          if (command.querySelector(".label").textContent.startsWith(label)) {
            return command.querySelector("code").textContent;
          }
        }
      }
      return null;
    },
    [group, label],
  );
}

/** Runs a CLI command from the panel with the built binary standing for `enchufe`. */
function cliCommand(command) {
  return ["sh", ["-c", command.replace(/^enchufe /, `'${bin}' `)]];
}

/** Sends what `echo '<frame>' | nc -w 1 HOST PORT` sends, and waits for the server's welcome. */
async function ncPublish(command) {
  const match = /^echo '(.*)' \| nc -w 1 (\S+) (\d+)$/.exec(command);
  assert.ok(match, `unexpected nc command: ${command}`);
  const [, frame, host, port] = match;
  const socket = connect(Number(port), host);
  socket.setEncoding("utf8");
  socket.write(`${frame}\n`);
  let received = "";
  for await (const chunk of socket) {
    received += chunk;
    if (received.includes('"welcome"')) break;
  }
  socket.destroy();
  assert.match(received, /"type":"welcome"/);
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  await server.start();
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server.stop();
});

describe("the server sends the app", () => {
  it("compressed (brotli, else gzip), hashed files immutable and index.html revalidated", async () => {
    const get = (path, encoding) =>
      fetch(`${server.url}${path}`, { headers: { "accept-encoding": encoding } });
    const index = await get("/", "br, gzip");
    assert.equal(index.headers.get("cache-control"), "no-cache");
    assert.equal(index.headers.get("content-encoding"), "br");
    const html = await index.text();
    // The build's assets (hashed names), each referenced by the page or its script.
    const assets = readdirSync(www).filter((name) => /\.(js|css|wasm)$/.test(name));
    assert.deepEqual(assets.map((a) => path.extname(a)).sort(), [".css", ".js", ".wasm"]);
    for (const asset of assets.filter((a) => !a.endsWith(".wasm"))) assert.ok(html.includes(asset), asset);
    for (const path of assets) {
      for (const [accept, encoding] of [["br, gzip", "br"], ["gzip", "gzip"], ["identity", null]]) {
        const response = await get(`/${path}`, accept);
        await response.arrayBuffer();
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get("content-encoding"), encoding, `${path} for ${accept}`);
        assert.equal(response.headers.get("cache-control"), "public, max-age=31536000, immutable", path);
      }
    }
  });
});

describe("the chat in a browser", { timeout: 180_000 }, () => {
  it("lets two pages chat in one room, with presence", async () => {
    const ana = await openPage("ana");
    const bob = await openPage("bob");
    await ana.waitForFunction(() => document.querySelector("#members")?.textContent.includes("bob"), null, {
      timeout: WAIT_MS,
    });
    assert.deepEqual(await membersOf(ana), ["ana", "bob"]);
    assert.deepEqual(await membersOf(bob), ["ana", "bob"]);

    await composer(ana).fill("hello bob");
    await composer(ana).press("Enter");
    await waitForMessages(bob, ["hello bob"]);
    await composer(bob).fill("hi ana");
    await composer(bob).press("Enter");
    await waitForMessages(ana, ["hello bob", "hi ana"]);

    const log = (await readLog(ana)).filter((i) => i.kind === "message");
    assert.deepEqual(
      log.map((m) => [m.from, m.body]),
      [
        ["ana", "hello bob"],
        ["bob", "hi ana"],
      ],
    );
    assert.ok(log[0].seq < log[1].seq);
    assert.equal(await ana.locator("#messages .notice", { hasText: "bob joined" }).count(), 1);
    await shot(ana, "1-two-pages-ana");
    await shot(bob, "1-two-pages-bob");
  });

  it("shows messages from the CLI over TCP, from REST and from nc, in seq order; the panel's commands work", async () => {
    const ana = pages.ana;
    const cli = await panelCommand(ana, "enchufe CLI", "Publish");
    assert.match(cli, new RegExp(`^enchufe pub ${room} 'hello from the CLI' --name cli --url tcp://127\\.0\\.0\\.1:\\d+$`));
    const { stdout, stderr } = await promisify(execFile)(...cliCommand(cli), { timeout: WAIT_MS });
    await waitForMessages(ana, ["hello from the CLI"]);

    // The panel's UDP subscriber sees the next message too.
    const udp = await panelCommand(ana, "enchufe CLI", "Subscribe over UDP");
    assert.match(udp, /--url udp:\/\/127\.0\.0\.1:\d+$/);
    const sub = spawn(...cliCommand(`${udp} --count 1`), { stdio: ["ignore", "pipe", "pipe"], timeout: WAIT_MS });
    let subOut = "";
    let subErr = "";
    sub.stdout.on("data", (chunk) => (subOut += chunk));
    const joined = new Promise((resolve) =>
      sub.stderr.on("data", (chunk) => {
        subErr += chunk;
        if (/joined/.test(subErr)) resolve();
      }),
    );
    const exited = once(sub, "exit");
    await Promise.race([joined, exited]);
    assert.match(subErr, /joined/, `the UDP subscriber did not join: ${subErr}`);

    const restSeq = await restPublish("hello from REST");
    await waitForMessages(ana, ["hello from REST"]);
    const [code] = await exited;
    assert.equal(code, 0, subErr);
    assert.deepEqual(
      { ...JSON.parse(subOut), ts: 0 },
      { room, seq: restSeq, from: "rest", ts: 0, body: "hello from REST" },
    );
    await ncPublish(await panelCommand(ana, "nc", "Publish"));
    await waitForMessages(ana, ["hello from nc"]);

    const log = (await readLog(ana)).filter((i) => i.kind === "message");
    assert.deepEqual(
      log.map((m) => m.body),
      ["hello bob", "hi ana", "hello from the CLI", "hello from REST", "hello from nc"],
      `CLI printed: ${stdout}${stderr}`,
    );
    assert.deepEqual(
      log.map((m) => m.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(log[3].seq, restSeq);
    assert.equal(log[2].from, "cli");
    assert.equal(log[3].from, "rest");
    await shot(ana, "2-cli-rest-nc");
  });

  it("updates presence when a page closes", async () => {
    const ana = pages.ana;
    await pages.bob.context().close();
    delete pages.bob;
    await ana.locator("#messages .notice", { hasText: "bob left" }).waitFor({ timeout: WAIT_MS });
    // (The UDP subscriber of the previous test may still be listed: a UDP session without a
    // leave ends only at its idle expiry.)
    const members = await membersOf(ana);
    assert.ok(members.includes("ana") && !members.includes("bob"), `members: ${members}`);
  });

  it("reconnects after a server restart and shows what was published since, once", async () => {
    const ana = pages.ana;
    await server.stop();
    await ana.waitForFunction(
      () => /^Reconnecting in \d+ s/.test(document.getElementById("connection")?.textContent ?? ""),
      null,
      { timeout: WAIT_MS },
    );
    // Written while offline: shown as pending, sent once the client is back.
    await composer(ana).fill("sent while offline");
    await composer(ana).press("Enter");
    await ana.locator("#messages li.pending", { hasText: "sent while offline" }).waitFor({ timeout: WAIT_MS });
    // Who is here and the room counts are the last known ones, and say so.
    await ana.locator(".presence .stale-note").waitFor({ state: "visible", timeout: WAIT_MS });
    assert.ok(await ana.locator(".rooms .stale-note").isVisible());
    await shot(ana, "3-reconnecting");

    // Renamed while offline: the conversation stays, the message stays pending, and the new
    // session sends it under the new name.
    await ana.getByLabel("Your name").fill("ana-away");
    await ana.getByLabel("Your name").press("Enter");
    await ana.locator("#messages li.pending", { hasText: "sent while offline" }).waitFor({ timeout: WAIT_MS });
    assert.equal((await readLog(ana)).filter((i) => i.kind === "message").length, 5, "the log is still shown");
    await shot(ana, "3b-renamed-while-offline");
    await ana.setViewportSize({ width: 390, height: 844 });
    await shot(ana, "3c-offline-phone");
    await ana.setViewportSize({ width: 1280, height: 800 });

    await server.start();
    // The hub keeps history in memory: the restarted server numbers the room from 1 again, and
    // these are the messages the page must catch up on (likely before it is back online).
    await restPublish("after restart 1");
    await restPublish("after restart 2");
    await waitForBadge(ana, "online");
    await waitForMessages(ana, ["after restart 1", "after restart 2", "sent while offline"]);
    // More than the page saw before the restart (5): the new seqs pass its old last one.
    const live = ["live after restart", "live after restart 2", "live after restart 3", "live after restart 4"];
    for (const text of live) await restPublish(text);
    // (One connection delivers in seq order: a duplicate would have come before the last one.)
    await waitForMessages(ana, live);

    const log = await readLog(ana);
    const bodies = log.filter((i) => i.kind === "message").map((m) => m.body);
    assert.equal(new Set(bodies).size, bodies.length, `duplicates in ${JSON.stringify(bodies)}`);
    assert.equal(log.filter((i) => i.kind === "pending").length, 0);
    const divider = log.findIndex((i) => i.kind === "divider");
    assert.ok(divider > 0, "a divider marks the restart");
    const before = log.slice(0, divider).filter((i) => i.kind === "message");
    const since = log.slice(divider).filter((i) => i.kind === "message");
    assert.equal(log.filter((i) => i.kind === "divider").length, 1, "one divider");
    assert.equal(before.length, 5);
    assert.deepEqual(
      since.map((m) => m.seq),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(new Set(since.slice(0, 3).map((m) => m.body)), new Set(["after restart 1", "after restart 2", "sent while offline"]));
    assert.deepEqual(since.slice(3).map((m) => m.body), live);
    assert.equal(since.find((m) => m.body === "sent while offline").from, "ana-away");
    // Reconnecting (and renaming) is not news: no "joined" line after the restart.
    const notices = log.slice(divider).filter((i) => i.kind === "notice").map((i) => i.body);
    assert.deepEqual(notices.filter((n) => /joined|left/.test(n)), [], `notices: ${notices}`);
    assert.equal(await ana.locator(".presence .stale-note").isVisible(), false);
    await shot(ana, "4-after-restart");

    // Back to the old name (online), for the tests below.
    await ana.getByLabel("Your name").fill("ana");
    await ana.getByLabel("Your name").press("Enter");
    await ana.waitForFunction(() => document.querySelector("#members li.me .who")?.textContent === "ana", null, {
      timeout: WAIT_MS,
    });
  });

  it("remembers the name and room across a reload, shows the room's history, and renames", async () => {
    const ana = pages.ana;
    await ana.reload();
    await waitForBadge(ana, "online");
    assert.equal(await ana.locator("#name-dialog").evaluate((d) => d.open), false);
    assert.equal(await ana.getByLabel("Your name").inputValue(), "ana");
    await ana.locator("#room-title", { hasText: `# ${room}` }).waitFor({ timeout: WAIT_MS });
    await waitForMessages(ana, ["after restart 1", "live after restart"]);
    const log = (await readLog(ana)).filter((i) => i.kind === "message");
    assert.deepEqual(
      log.map((m) => m.seq),
      [1, 2, 3, 4, 5, 6, 7],
    );
    // The room list (GET /api/rooms) shows the room with its one member.
    await ana.waitForFunction(
      (room) => {
        const buttons = [...document.querySelectorAll("#room-list button")];
        return buttons.length === 1 && buttons[0].dataset.room === room && buttons[0].querySelector(".count").textContent === "1";
      },
      room,
      { timeout: WAIT_MS },
    );
    await shot(ana, "5-after-reload");

    // A new name takes a new session; the room and its log come back under it.
    await ana.getByLabel("Your name").fill("ana2");
    await ana.getByLabel("Your name").press("Enter");
    await ana.waitForFunction(() => document.querySelector("#members li.me .who")?.textContent === "ana2", null, {
      timeout: WAIT_MS,
    });
    await waitForBadge(ana, "online");
    await composer(ana).fill("renamed");
    await composer(ana).press("Enter");
    await waitForMessages(ana, ["renamed"]);
    const renamed = (await readLog(ana)).filter((i) => i.kind === "message").at(-1);
    assert.deepEqual([renamed.from, renamed.seq], ["ana2", 8]);
  });

  it("fits a phone (390×844): rooms and who is here above the fold, commands unbroken", async () => {
    const ana = pages.ana;
    await ana.setViewportSize({ width: 390, height: 844 });
    await ana.reload();
    await waitForBadge(ana, "online");
    await ana.locator("#members li").first().waitFor({ timeout: WAIT_MS });
    await ana.locator("#room-list button").first().waitFor({ timeout: WAIT_MS });
    const box = async (selector) => ana.locator(selector).first().boundingBox();
    const rooms = await box("#room-list button");
    const members = await box("#members li");
    const composerBox = await box("#composer-input");
    assert.ok(rooms && rooms.y + rooms.height <= 844, `the room list is below the fold: ${JSON.stringify(rooms)}`);
    assert.ok(members && members.y + members.height <= 844, `"Here now" is below the fold: ${JSON.stringify(members)}`);
    assert.ok(composerBox && composerBox.y + composerBox.height <= 844, `the message box is below the fold: ${JSON.stringify(composerBox)}`);
    // The commands fold away under their heading on a phone (the page loaded narrow).
    const folded = await box(".anywhere");
    assert.ok(folded.height < 80, `the folded "Connect from anywhere" panel is ${folded.height} px tall`);
    assert.equal(await ana.locator("#anywhere-details").evaluate((d) => d.open), false);
    await shot(ana, "6-phone");
    await ana.locator("#anywhere-details summary").click();
    const anywhere = await box(".anywhere");
    assert.ok(anywhere.height < 900, `the "Connect from anywhere" panel is ${anywhere.height} px tall`);
    const wrapping = await ana.$$eval("#anywhere pre", (pres) =>
      pres.filter((pre) => getComputedStyle(pre).whiteSpace !== "pre").length,
    );
    assert.equal(wrapping, 0, "commands are never broken mid-word");
    await shot(ana, "6b-phone-commands");
    await ana.setViewportSize({ width: 1280, height: 800 });
  });

  it("marks a message the server refuses as failed, with Retry and Discard", async () => {
    const ana = pages.ana;
    // Over the server's 64 KiB frame limit (set by script: typing stops at the maxlength).
    await composer(ana).evaluate((box) => (box.value = "x".repeat(70_000)));
    await composer(ana).press("Enter");
    const failed = ana.locator("#messages li.pending.failed");
    await failed.waitFor({ timeout: WAIT_MS });
    assert.equal(await failed.locator(".status").textContent(), "Not sent: the message is too long");
    await shot(ana, "7-failed");
    await failed.getByRole("button", { name: "Retry" }).click();
    await failed.waitFor({ timeout: WAIT_MS });
    // What was never confirmed survives a reload: sent again, and marked "Not sent" again.
    await ana.reload();
    await waitForBadge(ana, "online");
    await failed.waitFor({ timeout: WAIT_MS });
    assert.equal(await failed.locator(".status").textContent(), "Not sent: the message is too long");
    await shot(ana, "7b-failed-after-reload");
    await failed.getByRole("button", { name: "Discard" }).click();
    assert.equal(await ana.locator("#messages li.pending").count(), 0);
    await waitForBadge(ana, "online");
  });

  it("logged no unexpected browser errors", () => {
    assert.deepEqual(errors, []);
  });
});

describe("the chat against a server that requires tokens", { timeout: 60_000 }, () => {
  const secret = "e2e-token-secret";
  const tokens = new Server({ bin, www, args: ["--auth-secret", secret] });

  before(async () => {
    await tokens.start();
  });
  after(async () => {
    await tokens.stop();
  });

  /** A first visit (a fresh browser profile) to the chat at `#fragment`, naming oneself. */
  async function openWith(fragment) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.once("close", () => context.close());
    await page.goto(`${tokens.url}/#${fragment}`);
    await page.getByLabel("Choose a display name").fill("not-me");
    await page.getByRole("button", { name: "Start chatting" }).click();
    return page;
  }

  it("connects with the token of its URL fragment, and the token's sub is the sender", async () => {
    const { stdout } = await promisify(execFile)(bin, ["token", "--secret", secret, "--sub", "zoe", "--ttl", "600"]);
    const page = await openWith(`${room}&token=${stdout.trim()}`);
    await waitForBadge(page, "online");
    await page.locator("#room-title", { hasText: `# ${room}` }).waitFor({ timeout: WAIT_MS });
    await composer(page).fill("signed in");
    await composer(page).press("Enter");
    await waitForMessages(page, ["signed in"]);
    const mine = (await readLog(page)).find((m) => m.body === "signed in");
    assert.equal(mine.from, "zoe", "the token's sub, not the name typed in the page");
    await shot(page, "8-token");
    await page.close();
  });

  it("without a token it does not get in, and says why in plain words", async () => {
    const page = await openWith(room);
    await page.getByText("the server refused this connection").first().waitFor({ timeout: WAIT_MS });
    assert.notEqual(await page.locator("#connection").evaluate((b) => b.dataset.state), "online");
    await shot(page, "8b-no-token");
    await page.close();
  });
});
