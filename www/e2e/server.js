// Runs the real `enchufe serve` binary for the end-to-end tests: first on free ports (port 0,
// read back from the lines it prints), and again on the same ports after a stop, which is how
// the tests restart the server under a connected page.
//
// The test owns the process (rather than xtask's live_server) because it must stop and start
// the server in the middle of a test, between browser steps.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** `enchufe: http listening on http://127.0.0.1:PORT` (and the tcp and udp lines). */
const LISTENING = /enchufe: (http|tcp|udp) listening on (\S+)/;

/** How long the server may take to print its addresses. */
const START_TIMEOUT_MS = 20_000;
/** How long a stopped server may take to drain and exit. */
const STOP_TIMEOUT_MS = 10_000;

export class Server {
  /**
   * @param {{bin: string, www: string, args?: string[]}} options the server binary, the web
   *   app's directory, and more `serve` arguments
   */
  constructor({ bin, www, args = [] }) {
    this.bin = bin;
    this.www = www;
    /** More `serve` arguments (e.g. an auth secret). */
    this.extra = args;
    /** @type {{http: string, tcp: string, udp: string} | null} host:port of each listener */
    this.addresses = null;
    this.child = null;
    /** Everything the server printed, for a failure's message. */
    this.output = [];
  }

  /** The page's URL. */
  get url() {
    return `http://${this.addresses.http}`;
  }

  /** Starts the server: on free ports the first time, on the same ports after a stop. */
  async start() {
    const { http = "127.0.0.1:0", tcp = "127.0.0.1:0", udp = "127.0.0.1:0" } = this.addresses ?? {};
    const args = ["serve", "--http", http, "--tcp", tcp, "--udp", udp, "--www", this.www, ...this.extra];
    const child = spawn(this.bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    const found = {};
    const ready = new Promise((resolve, reject) => {
      const onLine = (line) => {
        this.output.push(line);
        const match = LISTENING.exec(line);
        if (!match) return;
        found[match[1]] = match[2].replace(/^\w+:\/\//, "").replace(/\/$/, "");
        if (found.http && found.tcp && found.udp) resolve(found);
      };
      createInterface({ input: child.stdout }).on("line", onLine);
      createInterface({ input: child.stderr }).on("line", onLine);
      child.once("exit", (code, signal) =>
        reject(new Error(`enchufe serve exited (${code ?? signal}) before listening:\n${this.log()}`)),
      );
      child.once("error", reject);
    });
    this.addresses = await withTimeout(ready, START_TIMEOUT_MS, () => `enchufe serve did not print its addresses:\n${this.log()}`);
    return this.addresses;
  }

  /** Stops the server (SIGTERM: it drains, tells clients, and exits) and waits for it. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    try {
      await withTimeout(exited, STOP_TIMEOUT_MS, () => "enchufe serve did not exit after SIGTERM");
    } catch (error) {
      child.kill("SIGKILL");
      await exited;
      throw error;
    }
    this.child = null;
  }

  /** The last lines the server printed. */
  log() {
    return this.output.slice(-40).join("\n");
  }
}

/** Rejects with `message()` if `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
