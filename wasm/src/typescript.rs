//! The TypeScript types of the options, results and events, appended to the generated `.d.ts`.
//!
//! wasm-bindgen types the exported class from its Rust signatures; the plain objects that cross
//! the boundary (options, join info, messages, events) are built by hand in `convert.rs`, so
//! their shapes are declared here, next to nothing else, and `on`/`off` are declared here with
//! a type parameter (which `#[wasm_bindgen]` cannot express) by merging into `class Client`.
//! A native unit test keeps [`TYPES`]'s `ErrorName` in step with the core's error-code table.

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const APPENDED: &str = TYPES;

/// The text appended to `enchufe.d.ts`.
#[allow(dead_code)] // read by the macro above (rustc does not see it) and by the test
const TYPES: &str = r#"
/** Options of a {@link Client}. Every field is optional. */
export interface ClientOptions {
  /** The display name others see as the sender of your messages and in presence. */
  name?: string;
  /** An auth token (a JWT), for servers that require one. */
  token?: string;
  /**
   * Gives a fresh token (or a promise of one), called before the token in use expires, when
   * the server says it expired (`token_expired`), and before reconnecting with one that expired
   * while offline; the client then sends it with `refresh`, and the connection stays up. A
   * rejection is reported as an `error` event (`unauthorized`).
   */
  getToken?: () => string | Promise<string>;
  /**
   * Reconnect timing. After the n-th failed attempt in a row (n from 0) the client waits a
   * random time in `[0, min(capMs, baseMs * 2^n)]` ("full jitter"), so that clients cut off
   * together do not come back together. Defaults: `baseMs` 500, `capMs` 30000.
   */
  reconnect?: { baseMs?: number; capMs?: number };
  /**
   * The most publishes that may wait for their acknowledgement, including those queued while
   * offline (default 256). A publish beyond it is rejected with `outbox_full` (4016).
   */
  outboxCapacity?: number;
  /** The heartbeat interval in ms until the server announces its own (default 15000). */
  heartbeatMs?: number;
  /** How long one connection attempt may take, in ms (default 10000). */
  connectTimeoutMs?: number;
  /**
   * The WebSocket message encoding: always `"binary"`, the only one the client speaks (JSON
   * bodies travel as JSON text inside binary frames; `JSON.parse` and `JSON.stringify` convert
   * them). Kept so that older code passing `"binary"` still works.
   */
  encoding?: "binary";
  /**
   * The WebSocket constructor to connect with, where the runtime has no global `WebSocket`
   * (Node before 22: `import WebSocket from "ws"`). Default: the global one.
   */
  WebSocket?: new (url: string) => unknown;
}

/** Options of {@link Client.join}. */
export interface JoinOptions {
  /**
   * The last seq you have already seen in this room (e.g. kept from an earlier session): the
   * server replays every later message it still holds. Without it, messages start from now.
   */
  since?: number;
}

/** Options of {@link Client.history}. */
export interface HistoryOptions {
  /** Only messages with a seq greater than this (default: from the oldest stored). */
  since?: number;
  /** At most this many messages (the server caps it, 1000 by default). */
  limit?: number;
}

/** A member of a room. */
export interface Member {
  /** The member's session id, unique on the server. */
  session: string;
  /** The member's display name, if it gave one. */
  name?: string;
}

/** What {@link Client.join} resolves with, and the payload of the `joined` event. */
export interface JoinInfo {
  /** The room. */
  room: string;
  /** The room's current seq (0 when nothing was ever published). */
  seq: number;
  /** Who is in the room now, you included. */
  members: Member[];
  /**
   * False when the server's history no longer reached back to what you had seen: a `gap`
   * event with the lost range follows (or a `reset` event, when the room was numbered anew).
   */
  recovered: boolean;
  /**
   * The room's epoch: the id of its numbering. It changes when the server restarts or
   * re-creates the room, and seqs then start again from 1 (a `reset` event says so).
   */
  epoch: string;
}

/**
 * A message of a room. `T` is the type of its body (default `any`): `Message<Chat>` for a
 * room whose bodies you know, e.g. `client.on("message", (m: Message<Chat>) => …)` or
 * `await client.history<Chat>(room)`.
 */
export interface Message<T = any> {
  /** The room. */
  room: string;
  /** The room's sequence number for this message: 1, 2, 3, … without gaps. */
  seq: number;
  /** The sender's display name, or its session id when it gave none. */
  from: string;
  /** When the server stored it, in ms since the Unix epoch (for `new Date(ts)`). */
  ts: number;
  /** The body as published: any JSON value, or a `Uint8Array` for a bytes body. */
  body: T;
}

/** Someone joined or left a room you are in (`presence` event). */
export interface Presence {
  /** The room. */
  room: string;
  /** Whether the member came or went. */
  action: "join" | "leave";
  /** Who. */
  member: Member;
}

/**
 * The messages `from..=to` of `room` will not be delivered (`gap` event): history no longer
 * held them when the client re-joined after a disconnection. {@link Client.history} can fetch
 * whatever is still stored.
 */
export interface Gap {
  /** The room. */
  room: string;
  /** The first missing seq. */
  from: number;
  /** The last missing seq. */
  to: number;
}

/**
 * The room was numbered anew (`reset` event): the server restarted or re-created it, so its
 * seqs start again from 1 under a new `epoch`. Comes right after the `joined` that revealed it,
 * before any message of the new numbering; those messages then follow in full (what the new
 * server's history no longer holds is a `gap`). Messages you kept from before are not
 * comparable by seq with the new ones: start a new view of the room, or key them by epoch.
 */
export interface RoomReset {
  /** The room. */
  room: string;
  /** The room's new epoch (as in {@link JoinInfo.epoch}). */
  epoch: string;
}

/** The name of a connection state; see {@link ConnectionState}. */
export type ConnectionStateName = "idle" | "connecting" | "online" | "waiting" | "closed";

/** The connection state, as the `state` event reports every change of it. */
export type ConnectionState =
  | { state: "idle" }
  /** A connection attempt is under way; `attempt` counts the failed ones before it. */
  | { state: "connecting"; attempt: number }
  /** Connected: frames flow. `session` is this connection's id on the server. */
  | { state: "online"; session: string }
  /**
   * Waiting before the next attempt: `retryInMs` is the delay (for a countdown), `retryAt`
   * when it ends on the `performance.now()` clock. `code` and `reason` say why the last
   * connection ended or the last attempt failed: the WebSocket close code (1006 for a
   * connection refused, a server that is down or a path that is no WebSocket endpoint: the
   * browser tells no more; a protocol code 4000–4999 from the server; 0 when the client gave
   * up on a silent server) and a sentence.
   */
  | {
      state: "waiting";
      attempt: number;
      retryAt: number;
      retryInMs: number;
      code?: number;
      reason?: string;
    }
  /** Closed by {@link Client.close}, or refused by the server (`unauthorized`). */
  | { state: "closed" };

/** The names of the protocol's error codes (docs/PROTOCOL.md has the table). */
export type ErrorName =
  | "malformed" | "unknown_type" | "invalid_room" | "too_large" | "unsupported_version"
  | "hello_required" | "too_many_rooms" | "not_joined" | "invalid_field" | "unauthorized"
  | "rate_limited" | "slow_consumer" | "too_large_for_datagram" | "idle_timeout" | "kicked"
  | "shutting_down" | "outbox_full" | "internal" | "closed" | "server_busy" | "room_limit"
  | "forbidden" | "token_expired" | "unavailable";

/**
 * What enchufe rejects a promise with, and the payload of the `error` event: an `Error` whose
 * `name` and `code` come from the protocol's error-code table, like a `DOMException`'s.
 * Test `err.name === "outbox_full"` or `err.code === 4016`.
 */
export interface EnchufeError extends Error {
  /** The error's name, e.g. `"outbox_full"` (a newer server may send a code this package does not know: then `"unknown"`). */
  name: ErrorName | "unknown";
  /** The error's number, 4000–4999 (also the WebSocket close code). */
  code: number;
  /** For a failed publish, its room. */
  room?: string;
}

/** Each event's name and the type its listeners receive. */
export interface ClientEventMap {
  /**
   * A message of a joined room, in seq order, each at most once (also across reconnects;
   * after a `reset` event the room's seqs start again from 1).
   */
  message: Message;
  /** Someone joined or left a joined room. */
  presence: Presence;
  /** Messages that will not be delivered (see {@link Gap}). */
  gap: Gap;
  /** A room's numbering started again after a server restart (see {@link RoomReset}). */
  reset: RoomReset;
  /** The connection state changed (every change, including each retry countdown). */
  state: ConnectionState;
  /** A join was confirmed: after {@link Client.join}, and again after every reconnect. */
  joined: JoinInfo;
  /** A server error not tied to a request (e.g. `kicked`, `slow_consumer`, `unauthorized`). */
  error: EnchufeError;
}

/**
 * Whether `error` is an {@link EnchufeError} — for `catch (e)`, where TypeScript types `e` as
 * `unknown`:
 * ```ts
 * try { await client.publish("lobby", "hola"); }
 * catch (e) { if (isEnchufeError(e) && e.name === "outbox_full") retryLater(); else throw e; }
 * ```
 */
export function isEnchufeError(error: unknown): error is EnchufeError;

/** The type of a listener of event `K`. */
export type ClientListener<K extends keyof ClientEventMap> = (event: ClientEventMap[K]) => void;

export interface Client {
  /**
   * Calls `listener` for every `type` event; returns a function that removes it. Adding the
   * same listener twice adds it once. Listeners run in the order they were added; one that
   * throws is reported on the console and does not stop the others.
   */
  on<K extends keyof ClientEventMap>(type: K, listener: ClientListener<K>): () => void;
  /** Like {@link Client.on}, for the next `type` event only. */
  once<K extends keyof ClientEventMap>(type: K, listener: ClientListener<K>): () => void;
  /** Removes a listener added with {@link Client.on} or {@link Client.once}. */
  off<K extends keyof ClientEventMap>(type: K, listener: ClientListener<K>): void;
  /** Resolves with the stored messages of `room` (see the method's documentation). */
  history<T = any>(room: string, options?: HistoryOptions | null): Promise<Message<T>[]>;
}

// `Client` declares `[Symbol.dispose]` (for `using`). Declared here too, so that projects
// whose `lib` lacks "esnext.disposable" compile this file without `skipLibCheck`.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}
"#;

#[cfg(test)]
mod tests {
    use enchufe_core::ErrorCode;

    use crate::prelude::*;

    use super::TYPES;

    /// The `ErrorName` union lists exactly the core's error names, in its order.
    #[test]
    fn error_names_match_the_core_table() {
        let start = TYPES.find("export type ErrorName =").expect("ErrorName is declared");
        let end = start + TYPES[start..].find(';').expect("the union ends");
        let declared: Vec<&str> = TYPES[start..end].split('"').skip(1).step_by(2).collect();
        let table: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.name()).collect();
        assert_eq!(declared, table);
    }
}
