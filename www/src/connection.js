// The app's one use of the `enchufe` package: a Client for the page's server, with its events
// turned into the few shapes the app shows. Everything the app knows about the package's API
// is in this file.

import { Client } from "enchufe";
import { tokenFrom } from "./token.js";

/**
 * The connection badge's state.
 * @typedef {{kind: "idle"|"connecting"|"online"|"reconnecting"|"offline", retryAt?: number, attempt?: number}} Status
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
    token: tokenFrom(location),
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

/** What the errors a chat user can meet mean, in plain words (by the error's name). */
const PLAIN = {
  closed: "the connection closed before the server confirmed it",
  outbox_full: "too many messages are waiting to be sent; try again when you are back online",
  too_large: "the message is too long",
  shutting_down: "the server is restarting; the chat reconnects by itself",
  kicked: "the server disconnected this tab",
  rate_limited: "too many messages at once; wait a moment and retry",
  slow_consumer: "the connection was too slow to keep up; reconnecting",
  idle_timeout: "the connection was idle for too long; reconnecting",
  unauthorized: "the server refused this connection",
  invalid_room: "that is not a valid room name",
  too_many_rooms: "too many rooms are open at once",
  server_busy: "the server is busy; try again shortly",
  room_limit: "the server holds too many rooms to open another",
  forbidden: "your sign-in does not allow that in this room",
  token_expired: "your sign-in expired; renewing it",
  unavailable: "the server cannot store messages right now; try again in a moment",
  internal: "the server had a problem",
};

/** A short human text for a rejected promise or error event. */
export function errorText(error) {
  if (!error) return "something went wrong";
  if (PLAIN[error.name]) return PLAIN[error.name];
  return error.message || String(error);
}

/** `text` with a capital first letter, for a sentence of its own. */
export function sentence(text) {
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}
