// The types of the enchufe package: hand-written next to enchufe.js (the JavaScript API around
// the wasm module's state machine). The interfaces of the options, results and events are
// checked against the core's error-code table by a test in wasm/src/typescript.rs.

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
  /** A server error not tied to a request (e.g. `kicked`, `slow_consumer`, `unauthorized`), or the package's module failing to load (`closed`). */
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

/**
 * A connection to an enchufe server that survives network failures.
 *
 * It connects as soon as it is created, and reconnects by itself after a network loss or a
 * server restart (exponential backoff with jitter; watch the `state` event). After each
 * reconnect it re-joins your rooms and recovers the messages you missed, without loss or
 * duplicate while the server's history reaches back (otherwise a `gap` event says what is
 * lost). Publishes wait in a bounded outbox while offline and are retried with the same id,
 * so each lands exactly once.
 *
 * ```js
 * import { Client } from "enchufe";
 * const client = new Client("ws://127.0.0.1:8480/ws", { name: "ana" });
 * client.on("message", (m) => console.log(`#${m.seq} ${m.from}:`, m.body));
 * await client.join("lobby");
 * const seq = await client.publish("lobby", { text: "hola" });
 * ```
 *
 * Keep a reference to the client while you use it, and call `close()` when done.
 */
export class Client {
    /**
     * Releases the client: it is closed first (what is pending rejects with `closed`), and
     * afterwards every call rejects (or throws) a `closed` error.
     */
    free(): void;
    /** `free()`, for `using`. */
    [Symbol.dispose](): void;
    /**
     * Closes the connection for good: no reconnect. Pending publishes, joins and history
     * requests reject with `closed` (4018). `connect()` starts over.
     */
    close(): void;
    /**
     * Connects again after `close()` (or after the server refused the token), with no rooms
     * joined. Does nothing while the client is connected or reconnecting.
     */
    connect(): void;
    /**
     * Resolves with the stored messages of `room`, oldest first: those with a seq above
     * `since` (from the oldest stored without it), at most `limit` (the server caps it).
     * Joining the room is not needed; offline, the request waits for the next connection.
     */
    history(room: string, options?: HistoryOptions | null): Promise<Message[]>;
    /**
     * Joins `room` and resolves once the server confirms, with who is there
     * (`{ room, seq, members, recovered }`). The client stays in the room across reconnects
     * (a `joined` event each time) until `leave`. Works offline too: the join goes out when
     * the client is next online.
     *
     * With `since`, the last seq you have seen (e.g. stored from an earlier visit), the server
     * first replays every later message it still holds as `message` events.
     *
     * Rejects with an `EnchufeError`: `invalid_room`, `too_many_rooms`, `closed` (the client
     * was closed, or left the room, before the answer), …
     */
    join(room: string, options?: JoinOptions | null): Promise<JoinInfo>;
    /**
     * Leaves `room`: no more of its messages, and it is not re-joined after a reconnect.
     * Resolves once the server confirms (at once when offline); rejects with an
     * `EnchufeError` such as `not_joined`.
     */
    leave(room: string): Promise<void>;
    /**
     * Creates a client for the server's WebSocket endpoint `url` (e.g.
     * `"ws://127.0.0.1:8480/ws"`; `wss:` behind TLS) and starts connecting. Made while the
     * package's module is still loading (the entries start loading it at import), the client
     * opens its WebSocket at once and does the rest, and what is asked of it meanwhile, once the
     * module is ready; its `state` is `"idle"` until then. If the module cannot be loaded, the
     * client emits an `error` (`closed`) saying why, then the state `closed`, and what was
     * asked of it rejects with that error.
     *
     * Throws a `TypeError` for an option of the wrong type, and what `new WebSocket(url)`
     * throws for a URL the browser refuses (a `SyntaxError`).
     */
    constructor(url: string, options?: ClientOptions | null);
    /**
     * Publishes `body` into `room` (joining it is not needed) and resolves with the message's
     * seq once the server has stored it. `body` is any JSON value (sent through
     * `JSON.stringify`), or a `Uint8Array`/`ArrayBuffer` for bytes (sent as a binary frame).
     *
     * While offline the publish waits in the outbox and goes out on reconnect; it is retried
     * with the same id until acknowledged, and the server stores it once. Rejects with an
     * `EnchufeError`: `outbox_full` (4016) when `outboxCapacity` publishes already wait,
     * `too_large`, `invalid_room`, `invalid_field` (a body that is not JSON), or `closed`
     * (the client was closed first: the message may or may not have been stored).
     */
    publish(room: string, body: any): Promise<number>;
    /**
     * Retries now: ends the wait before the next connection attempt (the `state` event's
     * countdown), or starts over after `close()`. Does nothing while connecting or online.
     * The client also does this by itself when the browser's `online` event says the network
     * is back.
     */
    reconnect(): void;
    /**
     * Replaces the token: every later connection uses it, and an online connection sends it
     * to the server now (a `refresh`; the connection stays up, and rooms the new token no
     * longer allows are left). With the `getToken` option the client does this by itself
     * before the token expires; call it yourself otherwise (e.g. on an `error` event named
     * `token_expired`).
     */
    refresh(token: string): void;
    /**
     * This connection's session id on the server while online, else `undefined`.
     */
    readonly session: string | undefined;
    /**
     * The connection state: `"connecting"`, `"online"`, `"waiting"` (to retry), `"closed"`
     * (the `state` event has the details, such as the retry countdown).
     */
    readonly state: ConnectionStateName;
}


/** What {@link init} and {@link initSync} take: the module, or where to fetch it. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
/** What {@link initSync} takes. */
export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the WebAssembly module from `module` (bytes or a compiled module), at once.
 * The package's own entries do this; only `enchufe/web` needs it (or {@link init}).
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): unknown;

/**
 * Instantiates the WebAssembly module (fetched next to this file, or from `module_or_path`).
 * `enchufe/web` needs one `await init()` before `new Client(…)`; the package's own entries do
 * it themselves.
 */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<unknown>;
