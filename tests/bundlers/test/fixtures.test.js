// The packed `enchufe` tarball (installed into node_modules by `cargo xtask browser`) in the
// bundlers and runtimes its users have, each with no configuration: Vite 7 and Vite 8, both
// their dev server and their production build, and a webpack 5 production build, in headless
// Chromium; and Node through the package's `exports` (with the `ws` package's WebSocket on a
// Node without a global one). Each runs app/flow.js against the live server at
// ENCHUFE_TEST_URL; app/loading.mjs makes clients while the module is still loading, and
// app/unloadable.mjs one whose module cannot be loaded. The production builds' JavaScript and
// wasm are also weighed, gzipped, against ENCHUFE_SIZE_BUDGET.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serveDir } from "../support/serve.js";
import { weigh } from "../support/size.js";

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const server = process.env.ENCHUFE_TEST_URL;
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** Bytes of JavaScript and wasm (gzipped) a connect-and-subscribe app may ship. */
const BUDGET = Number(process.env.ENCHUFE_SIZE_BUDGET ?? Infinity);
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const TIMEOUT_MS = 20_000;
const VITES = ["vite7", "vite8"];

let browser;

before(async () => {
  assert.ok(server, "ENCHUFE_TEST_URL (the live server's ws:// URL) must be set");
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

/** The checks every fixture's outcome must pass. */
function checkOutcome(outcome, room) {
  assert.equal(outcome.joined.room, room);
  assert.equal(outcome.joined.seq, 0);
  assert.deepEqual(
    outcome.joined.members.map((m) => m.name),
    ["fixture"],
  );
  assert.equal(outcome.seq, 1, "the publish is acknowledged with its seq");
  assert.deepEqual(outcome.message.body, { text: "hola from a fixture", n: 7 });
  assert.equal(outcome.message.from, "fixture");
  assert.deepEqual(
    outcome.history.map((m) => m.seq),
    [1],
  );
  assert.equal(outcome.state, "online");
  assert.deepEqual(outcome.states, ["connecting", "online", "closed"]);
  assert.equal(outcome.onceCalls, 1, "a once() listener runs for one event");
  assert.equal(outcome.removedCalls, 0, "the function on() returns removes the listener");
  assert.equal(outcome.invalid, "invalid_room 4002");
  assert.equal(outcome.disposed, "closed 4018", "a disposed client rejects with a named error");
  assert.equal(outcome.stateAfterFree, "closed");
  assert.equal(outcome.notAnError, false);
}

/** Opens `base` + the app's page in Chromium and checks its outcome. */
async function runPage(base) {
  const tab = await browser.newPage();
  const errors = [];
  tab.on("pageerror", (e) => errors.push(e.message));
  tab.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  try {
    const room = `fixture-${randomUUID().slice(0, 8)}`;
    await tab.goto(`${base}/?${new URLSearchParams({ server, room })}`);
    await tab.waitForFunction(() => window.outcome !== undefined, null, { timeout: TIMEOUT_MS });
    const outcome = await tab.evaluate(() => window.outcome);
    assert.deepEqual(errors, []);
    checkOutcome(outcome, room);
  } finally {
    await tab.close();
  }
}

function vite(version, args, options = {}) {
  return [process.execPath, [path.join(here, "node_modules", version, "bin/vite.js"), ...args], options];
}

async function freePort() {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address();
  probe.close();
  return port;
}

/**
 * Weighs the production build in `outDir` (printing the figure), runs it in Chromium, and
 * holds it to the budget.
 */
async function weighAndRun(bundler, outDir) {
  const size = weigh(outDir);
  console.log(
    `size: ${bundler} build of a connect-and-subscribe app: ${size.total} bytes gzipped ` +
      `(wasm ${size.wasm}, JavaScript ${size.js}; gzip -9), budget ${BUDGET}`,
  );
  const pages = await serveDir(outDir);
  try {
    await runPage(pages.url);
  } finally {
    pages.close();
  }
  assert.ok(size.total <= BUDGET, `${size.total} bytes gzipped is over the budget of ${BUDGET}`);
}

for (const version of VITES) {
  describe(version, () => {
    test(`${version} build (no configuration) runs in Chromium`, async () => {
      const outDir = path.join(here, `dist-${version}`);
      const [node, args] = vite(version, ["build", "app", "--outDir", outDir, "--emptyOutDir"]);
      const built = spawnSync(node, args, { cwd: here, encoding: "utf8" });
      assert.equal(built.status, 0, `vite build failed:\n${built.stdout}${built.stderr}`);
      await weighAndRun(version, outDir);
    });

    test(`${version} dev server (no configuration) runs in Chromium`, async () => {
      const port = await freePort();
      const [node, args] = vite(version, [
        "app",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--strictPort",
        "--force",
      ]);
      const dev = spawn(node, args, { cwd: here, stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      dev.stdout.on("data", (d) => (log += d));
      dev.stderr.on("data", (d) => (log += d));
      try {
        await waitFor(() => log.includes(`${port}`), 20_000, () => `vite did not start:\n${log}`);
        await runPage(`http://127.0.0.1:${port}`);
        assert.doesNotMatch(log, /error/i, log);
      } finally {
        dev.kill();
      }
    });
  });
}

test("webpack 5 build (no configuration for enchufe) runs in Chromium", async () => {
  const outDir = path.join(here, "dist-webpack");
  const cli = path.join(here, "node_modules/webpack-cli/bin/cli.js");
  const built = spawnSync(process.execPath, [cli, "--config", "webpack.config.js"], {
    cwd: here,
    encoding: "utf8",
  });
  assert.equal(built.status, 0, `webpack failed:\n${built.stdout}${built.stderr}`);
  // The same page as Vite's (webpack emits no HTML without a plugin).
  copyFileSync(path.join(here, "app/index.html"), path.join(outDir, "index.html"));
  await weighAndRun("webpack", outDir);
});

/** Runs app/`script` in Node against the live server and a fresh room; its JSON and the room. */
function runInNode(script) {
  const room = `fixture-${randomUUID().slice(0, 8)}`;
  const ran = spawnSync(process.execPath, [path.join(here, "app", script), server, room], {
    cwd: here,
    encoding: "utf8",
    timeout: TIMEOUT_MS,
  });
  assert.equal(ran.status, 0, `node failed (${process.version}):\n${ran.stdout}${ran.stderr}`);
  return [JSON.parse(ran.stdout), room];
}

test("Node imports the package through its exports and runs the flow", () => {
  checkOutcome(...runInNode("node.mjs"));
});

test("clients made while the module is loading wait for it (and a bad URL still throws)", () => {
  const [outcome, room] = runInNode("loading.mjs");
  assert.equal(outcome.badUrl, "SyntaxError");
  assert.equal(outcome.stateBefore, "idle");
  assert.equal(outcome.joined, room);
  assert.equal(typeof outcome.seq, "number");
  assert.deepEqual(outcome.states.slice(0, 2), ["connecting", "online"]);
  assert.equal(outcome.stateAfter, "online");
  assert.equal(outcome.freed, "closed");
});

test("a client whose module cannot be loaded says so, and what it was asked rejects", () => {
  const [outcome] = runInNode("unloadable.mjs");
  assert.equal(outcome.seen.length, 2, JSON.stringify(outcome.seen));
  assert.match(outcome.seen[0], /^error closed: the client's wasm module could not be loaded: /);
  assert.equal(outcome.seen[1], "state closed");
  assert.equal(outcome.joined, "closed");
  assert.equal(outcome.later, "closed");
  assert.equal(outcome.state, "closed");
});

test("Node without a WebSocket is told to pass one", () => {
  const script = `
    import { Client } from "enchufe";
    const saved = globalThis.WebSocket;
    delete globalThis.WebSocket;
    try { new Client("ws://127.0.0.1:9/ws"); console.log("no error"); }
    catch (e) { console.log(e.name + ": " + e.message); }`;
  const ran = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: here,
    encoding: "utf8",
    timeout: TIMEOUT_MS,
  });
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(ran.stdout, /^TypeError: .*WebSocket/);
});

async function waitFor(condition, ms, message) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 100));
  }
}
