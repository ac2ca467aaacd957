// The browser benchmark's driver (`cargo xtask bench` runs it; docs/PERFORMANCE.md, "The
// browser benchmark"). `node run.js PLAN.json`, where the plan is
//
//   { "reps": 3, "warmup": 20000, "windowMs": 3000, "timeoutMs": 60000,
//     "burst": 50000, "backlog": 200000, "pollMs": 20,
//     "cells": [ { "client": "enchufe" | "nats", "server": "ws://…",
//                  "room": "…", "publisher": ["taskset", "-c", "0", "…/enchufe", "bench", …] } ] }
//
// For every repetition and cell, in turn, a fresh tab opens the page, which subscribes; then
// the cell's publisher (a native process that publishes `burst` messages and exits) is run
// again and again, each time the messages published but not yet received by the page fall
// below `backlog − burst`. So the page always has messages waiting — it, not the supply, sets
// the pace — and the server never holds more than `backlog` for it: far under both servers'
// 64 MiB bound per connection, past which a slow reader is cut. The page measures; one JSON
// line per run goes to stdout.

import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { launch } from "./chromium.js";
import { serve } from "./serve.js";

const plan = JSON.parse(await readFile(process.argv[2], "utf8"));
const site = await serve();
const browser = await launch();
let failed = false;
try {
  for (let rep = 0; rep < plan.reps; rep++) {
    for (const cell of plan.cells) {
      const line = { client: cell.client, rep };
      try {
        Object.assign(line, await measure(cell));
      } catch (error) {
        failed = true;
        line.error = String(error?.message ?? error);
      }
      console.log(JSON.stringify(line));
    }
  }
} finally {
  await browser.close();
  site.close();
}
process.exitCode = failed ? 1 : 0;

/** One run: the page's measurement, and how well the supply kept up. */
async function measure(cell) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  try {
    const query = new URLSearchParams({
      client: cell.client,
      server: cell.server,
      room: cell.room,
      warmup: String(plan.warmup),
      windowMs: String(plan.windowMs),
    });
    await page.goto(`${site.url}/?${query}`);
    const deadline = Date.now() + plan.timeoutMs;
    const late = (what) =>
      new Error(`${what} took over ${plan.timeoutMs} ms; page errors: ${errors}`);
    // Unreferenced: the timer must not keep the driver alive once every run is done.
    const timeout = sleep(plan.timeoutMs, null, { ref: false }).then(() => {
      throw late("subscribing");
    });
    await Promise.race([page.evaluate(() => window.ready), timeout]);

    let result;
    page.evaluate(() => window.result).then(
      (value) => (result = { value }),
      (error) => (result = { error }),
    );
    const supply = { published: 0, bursts: 0, running: false, failure: null, dry: 0 };
    while (!result) {
      if (supply.failure) throw supply.failure;
      if (Date.now() > deadline) throw late("the page's window");
      const progress = await page.evaluate(() => window.progress());
      const waiting = supply.published - progress;
      // A poll inside the window that finds nothing waiting (counting finished bursts only):
      // the page may have waited for the supply.
      if (progress >= plan.warmup && waiting <= 0) supply.dry += 1;
      if (!supply.running && waiting < plan.backlog - plan.burst) publish(cell, supply);
      await sleep(plan.pollMs);
    }
    if (result.error) throw result.error;
    return { ...result.value, bursts: supply.bursts, dryPolls: supply.dry };
  } finally {
    await page.close();
  }
}

/** Runs one burst of the publisher; its messages count once it exited cleanly. */
function publish(cell, supply) {
  supply.running = true;
  const [program, ...args] = cell.publisher;
  const child = spawn(program, args, { stdio: ["ignore", "ignore", "inherit"] });
  child.on("error", (error) => (supply.failure = error));
  child.on("exit", (code) => {
    supply.running = false;
    if (code !== 0) supply.failure = new Error(`the publisher exited with ${code}`);
    supply.published += plan.burst;
    supply.bursts += 1;
  });
}
