// The app's one use of the `enchufe` package: a Client for the page's server, with its events
// turned into the few shapes the app shows. Everything the app knows about the package's API
// is in this file.

import { Client } from "enchufe";

/**
 * The connection badge's state.
 * @typedef {{kind: "connecting"|"online"|"reconnecting"|"offline", retryAt?: number, attempt?: number}} Status
 */

/** The WebSocket URL of the server that served this page. */
export function serverUrl(location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/**
 * Reads a `state` event as a badge status. `retryAt` is on Date.now()'s clock.
 * @returns {Status}
 */
export function status(event) {
  const name = typeof event === "string" ? event : (event?.state ?? event?.name ?? "");
  const attempt = event?.attempt ?? 0;
  switch (name) {
    case "online":
      return { kind: "online" };
    case "connecting":
      return { kind: attempt > 0 ? "reconnecting" : "connecting", attempt };
    case "waiting":
    case "reconnecting": {
      const delay = event?.retryInMs ?? event?.delayMs ?? event?.retryMs;
      const retryAt = typeof delay === "number" ? Date.now() + delay : undefined;
      return { kind: "reconnecting", retryAt, attempt };
    }
    default:
      return { kind: "offline" };
  }
}

/**
 * Opens a client.
 * @param {{name: string, on: {message: Function, presence: Function, gap: Function, reset: Function, joined: Function, status: Function, error: Function}}} options
 */
export function open(location, { name, on }) {
  const client = new Client(serverUrl(location), {
    name,
    reconnect: { baseMs: 500, capMs: 8000 },
    outboxCapacity: 256,
  });
  client.on("message", (m) => on.message(m));
  client.on("presence", (p) => on.presence(p));
  client.on("gap", (g) => on.gap(g));
  // The server restarted (or re-created the room): its seqs start again from 1, delivered in
  // full after this; the one signal the timeline starts a new epoch on.
  client.on("reset", (r) => on.reset(r));
  // After every reconnect too: the member list of the fresh join replaces the stale one.
  client.on("joined", (j) => on.joined(j));
  client.on("state", (s) => on.status(status(s)));
  client.on("error", (e) => on.error(e));
  return client;
}

/** A short human text for a rejected promise or error event. */
export function errorText(error) {
  if (!error) return "unknown error";
  const name = error.name && error.name !== "Error" ? error.name : null;
  const message = error.message || String(error);
  return name && !message.includes(name) ? `${message} (${name})` : message;
}
