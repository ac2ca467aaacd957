// The JavaScript API of the enchufe browser client: the class `Client` (options, listeners,
// promises, the WebSocket, timers, the `online` event, the token provider, errors) around the
// wasm module's state machine (`Machine`, wasm/src/machine.rs). The protocol exists once, in
// Rust: frames are encoded and decoded, and reconnects, recovery and the outbox run, only in
// the module. This file carries the machine's outputs out in the runtime and turns them into
// the API's objects. The types are in enchufe.d.ts, written by hand next to this file.
//
// Internal state lives in closures (`start`), not in properties: a minifier renames local
// names, never property names.

// The module's exports, under the short names `cargo xtask pack` gives them
// (xtask/src/imports.rs): `m` its memory; the machine's `n` new, `b` buf, `i` input, `d` drive,
// `f` free (each but `n` taking the machine's address first, as machine.rs's `machine_*`);
// wasm-bindgen's `s` start.
let wasm;

const decoder = new TextDecoder();
const bytesAt = (at, length) => new Uint8Array(wasm.m.buffer, at, length);

// What the module imports from wasm-bindgen's runtime, under the names the packer gives them.
const imports = {
  a: {
    // Throws with the module's message (a bug: wasm-bindgen's own checks).
    t(at, length) {
      throw new Error(decoder.decode(bytesAt(at, length)));
    },
    // Would fill wasm-bindgen's externref table, which the module does not use: no JavaScript
    // value crosses (`cargo xtask pack` checks that the module has no table).
    x() {},
  },
};

const started = (instance) => {
  wasm = instance.exports;
  wasm.s();
  return wasm;
};

// `{ [key]: value }` as wasm-bindgen's loaders take it, or the value itself.
const given = (options, key) =>
  options !== undefined && Object.getPrototypeOf(options) === Object.prototype
    ? options[key]
    : options;

// The last `init()`'s promise: clients made before it resolves wait for it (`start`).
let loading;

/**
 * Instantiates the module: fetched from `module_or_path` (a URL, a `Response`, bytes, a compiled
 * module), by default from `enchufe_bg.wasm` next to this file. Once only.
 */
export default function init(options) {
  return (loading = load(options));
}

async function load(options) {
  if (wasm) return wasm;
  let source = given(options, "module_or_path") ?? new URL("enchufe_bg.wasm", import.meta.url);
  if (typeof source === "string" || source instanceof URL || source instanceof Request) {
    source = fetch(source);
  }
  source = await source;
  if (source instanceof Response) {
    if (!source.ok) throw new Error(`failed to fetch Wasm: ${source.status} fetching ${source.url}`);
    // The bytes, not `instantiateStreaming`: that refuses a server's wrong MIME type.
    source = await source.arrayBuffer();
  }
  const result = await WebAssembly.instantiate(source, imports);
  return wasm ?? started(result.instance ?? result);
}

/** Instantiates the module at once from `module` (bytes or a compiled module). */
export function initSync(options) {
  if (wasm) return wasm;
  let module = given(options, "module");
  if (!(module instanceof WebAssembly.Module)) module = new WebAssembly.Module(module);
  return started(new WebAssembly.Instance(module, imports));
}

// The machine's inputs are numbered as `kind` in wasm/src/machine.rs says: 0 create,
// 1 connect, 2 close, 3 timeout, 4 opened, 5 closed, 6 refresh, 7 received, 8 join, 9 leave,
// 10 history, 11 publish, 13 token expires.

const encoder = new TextEncoder();

/**
 * Runs input `kind` of `machine` at `now` with `args` (numbers, strings, bytes, `undefined`),
 * written into the module's memory as machine.rs's `Args` reads them.
 */
function input(machine, kind, now, ...args) {
  args = args.map((value) => (typeof value === "string" ? encoder.encode(value) : value));
  const size = (value) =>
    value === undefined ? 1 : typeof value === "number" ? 9 : 5 + value.length;
  let at = wasm.b(machine, args.reduce((n, value) => n + size(value), 0)) >>> 0;
  const view = new DataView(wasm.m.buffer);
  for (const value of args) {
    // The buffer comes zeroed: an absent value is its tag, 0.
    if (typeof value === "number") {
      view.setUint8(at, 1);
      view.setFloat64(at + 1, value, true);
    } else if (value !== undefined) {
      view.setUint8(at, 2);
      view.setUint32(at + 1, value.length, true);
      new Uint8Array(view.buffer).set(value, at + 5);
    }
    at += size(value);
  }
  return wasm.i(machine, kind, now);
}

/** A copy of the output record at `at` (its length first). */
function output(at) {
  return bytesAt(at + 4, new DataView(wasm.m.buffer).getUint32(at, true)).slice();
}

const EVENTS = ["message", "presence", "gap", "reset", "state", "joined", "error"];
const STATES = ["idle", "connecting", "online", "waiting", "closed"];
/** An `EnchufeError`: an `Error` with the protocol's `name` and `code` (and a publish's room). */
function failure(code, name, message, room) {
  const error = new Error(message);
  error.name = name;
  error.code = code;
  if (room !== undefined) error.room = room;
  return error;
}

const invalidField = (message) => failure(4008, "invalid_field", message);

/** What a thrown value says: an `Error`'s message, or the value itself. */
const what = (thrown) => thrown?.message ?? thrown;

/** Whether `error` is an `EnchufeError`. */
export function isEnchufeError(error) {
  return error instanceof Error && typeof error.code === "number";
}

/** `options[key]`, `undefined` when `options` is no object. */
function field(options, key) {
  return options !== null && (typeof options === "object" || typeof options === "function")
    ? options[key]
    : undefined;
}

const absent = (value) => value === undefined || value === null;

/**
 * An optional whole number ≥ 0 (a seq, a count or milliseconds); throws `make(message)`,
 * naming the option `prefix` + `key`.
 */
function whole(options, key, make, prefix = "") {
  const value = field(options, key);
  if (absent(value)) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw make(`\`${prefix}${key}\` must be a whole number ≥ 0`);
  }
  return value;
}

const typeError = (message) => new TypeError(message);

/** An optional field of `typeof` `type`; `expected` says what it must be. */
function typed(options, key, type, expected) {
  const value = field(options, key);
  if (absent(value)) return undefined;
  if (typeof value !== type) throw typeError(`\`${key}\` must be ${expected}`);
  return value;
}

const ENCODING =
  '`encoding` can only be "binary": the browser client speaks the binary encoding (JSON bodies stay JSON)';

/** A timer for deadlines on the client's clock; `fire` runs when one is reached. */
function timer(fire) {
  let at = null;
  let handle;
  const cancel = () => {
    if (at !== null) clearTimeout(handle);
    at = null;
  };
  return {
    // Rescheduling to the same deadline keeps the running timer. At least 1 ms: a deadline
    // reached already still runs after the current task.
    set(deadline, now) {
      if (deadline === at) return;
      cancel();
      if (deadline !== null) {
        at = deadline;
        handle = setTimeout(() => {
          at = null;
          fire();
        }, Math.max(1, deadline - now));
      }
    },
    cancel,
  };
}

/** The random bytes of `array` (crypto.getRandomValues). */
const random = (array) => crypto.getRandomValues(array);

// Cleans up after a client the application let go of: its socket, timers, `online` listener
// and machine.
const finalizer = new FinalizationRegistry((release) => release());

/**
 * Starts a client's driver: reads the options, makes the machine, connects. Returns what the
 * class calls. Its event handlers hold the driver weakly (`ref`), so that a client the page
 * forgets is collected, and `finalizer` closes its socket and frees its machine.
 */
function start(client, url, options) {
  const name = typed(options, "name", "string", "a string");
  const token = typed(options, "token", "string", "a string");
  const reconnect = field(options, "reconnect");
  if (!absent(reconnect) && typeof reconnect !== "object") {
    throw typeError("`reconnect` must be an object { baseMs, capMs }");
  }
  const base = whole(reconnect, "baseMs", typeError, "reconnect.") ?? 500;
  const cap = whole(reconnect, "capMs", typeError, "reconnect.") ?? 30000;
  const outbox = whole(options, "outboxCapacity", typeError) ?? 256;
  const heartbeat = whole(options, "heartbeatMs", typeError) ?? 15000;
  const timeout = whole(options, "connectTimeoutMs", typeError) ?? 10000;
  const encoding = typed(options, "encoding", "string", "a string");
  if (encoding !== undefined && encoding !== "binary") throw typeError(ENCODING);
  const Socket =
    typed(options, "WebSocket", "function", "a WebSocket constructor (such as the ws package's)") ??
    globalThis.WebSocket;
  const getToken = typed(
    options,
    "getToken",
    "function",
    "a function returning a token (or a promise of one)",
  );
  if (typeof Socket !== "function") {
    throw typeError(
      'this runtime has no global WebSocket: pass one, e.g. `new Client(url, { WebSocket })` with `import WebSocket from "ws"`',
    );
  }
  const id = random(new Uint8Array(12)).reduce((s, b) => s + (b + 256).toString(16).slice(1), "w-");
  const [low, high] = random(new Uint32Array(2));
  // The machine: −1 until the module is ready (`begin`), 0 once released.
  let machine = -1;
  // Until the module is ready, what needs the machine waits here, in order (then null).
  let early = [];
  // Why the client cannot run (its module failed to load), for every call after it.
  let unusable = null;
  // Whether the first socket was opened before the module was ready, for the machine's first
  // "open" to take.
  let adopt = false;

  // The handlers hold the driver weakly (made outside this scope, whose variables they would
  // otherwise keep); only the client holds it.
  const d = {};
  const ref = new WeakRef(d);
  let ws = null; // the current socket
  let opened = false; // whether it opened
  let lastFailure = null; // [code, reason] of the last connection that ended
  let openError = null; // what the WebSocket constructor threw, for the client's constructor
  let skew = 0; // what `reconnect()` skipped of a wait
  let state = { state: "idle" };
  let until = 0; // the end of the current wait
  let fetching = false; // a getToken() call in flight
  const pending = new Map(); // id → [resolve, reject]
  const listeners = new Map(EVENTS.map((e) => [e, []]));
  const queue = [];
  // Like a WebSocket, the client reports its first events after the constructor's caller has
  // had the chance to add listeners.
  let delivering = true;

  const now = () => Math.floor(performance.now()) + skew;
  const machineTimer = timer(weakly(ref, "timer"));
  const tokenTimer = timer(weakly(ref, "token"));
  const online = weakly(ref, "reconnect");
  const hasGlobalEvents = typeof globalThis.addEventListener === "function";
  if (hasGlobalEvents) addEventListener("online", online);

  const closeSocket = () => {
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close(1000);
      } catch {}
      ws = null;
    }
  };
  // Lets go of everything: the socket, the timers, the `online` listener, the machine.
  const release = () => {
    closeSocket();
    machineTimer.cancel();
    tokenTimer.cancel();
    if (hasGlobalEvents) removeEventListener("online", online);
    if (machine > 0 && !early) wasm.f(machine, 0);
    machine = 0;
    early = null;
  };
  const push = (kind, payload) => queue.push([kind, payload]);
  const deliver = () => {
    if (delivering) return;
    delivering = true;
    for (let next; (next = queue.shift()); ) {
      const [kind, payload] = next;
      // A snapshot: listeners added or removed by a listener count from the next event.
      for (const [listener, once] of [...listeners.get(kind)]) {
        if (once) off(kind, listener);
        try {
          listener(payload);
        } catch (error) {
          console.error("enchufe: an event listener threw", error);
        }
      }
    }
    delivering = false;
  };
  const off = (kind, listener) => {
    const list = listeners.get(kind);
    const i = list.findIndex(([l]) => l === listener);
    if (i >= 0) list.splice(i, 1);
  };
  const kindOf = (type) => {
    if (!listeners.has(type)) {
      throw typeError(`unknown event "${type}"; the events are ${EVENTS.join(", ")}`);
    }
    return type;
  };
  const settle = (id, ok, value) => {
    const waiting = pending.get(id);
    pending.delete(id);
    waiting?.[ok ? 0 : 1](value);
    return waiting;
  };

  const expires = () => input(machine, 13 /* token expires */, 0);
  const expired = (e) => e >= 0 && e * 1000 <= Date.now();
  const scheduleToken = (at) => {
    const e = expires();
    if (e >= 0 && getToken) {
      const left = Math.max(0, e * 1000 - Date.now());
      tokenTimer.set(at + Math.max(left - 30000, Math.floor(left / 5) * 4, 1), at);
    } else {
      tokenTimer.set(null, at);
    }
  };
  // Calls getToken(); `connect` opens the connection that waited for the token afterwards.
  const fetchToken = (connect) => {
    if (!getToken) return false;
    if (fetching) return true;
    fetching = true;
    let promise;
    try {
      promise = Promise.resolve(getToken());
    } catch (error) {
      promise = Promise.reject(error);
    }
    const arrived = (token) => {
      fetching = false;
      if (!machine) return;
      if (typeof token === "string") {
        input(machine, 6 /* refresh */, now(), token);
        drive();
      } else {
        const message = "getToken() did not give a token (it rejected or returned no string)";
        push("error", failure(4009, "unauthorized", message));
        deliver();
      }
      if (connect) {
        openSocket(now());
        drive();
      }
    };
    promise.then(arrived, () => arrived(null));
    return true;
  };

  const construct = () => handle((ws = Reflect.construct(Socket, [url])), ref);
  const openSocket = (at) => {
    if (adopt) return (adopt = false);
    closeSocket();
    opened = false;
    try {
      construct();
    } catch (error) {
      openError ??= error;
      input(machine, 5 /* closed */, at);
    }
  };

  // Carries out every output of the machine, then delivers the events to the listeners.
  const drive = () => {
    const at = now();
    let buffer;
    while ((buffer = output(wasm.d(machine) >>> 0)).length) {
      let p = 0;
      const byte = () => buffer[p++];
      // A LEB128 number (exact up to 2^53).
      const num = () => {
        let n = 0;
        for (let scale = 1, b = 128; b > 127; scale *= 128) n += ((b = byte()) & 127) * scale;
        return n;
      };
      const bytes = () => {
        const n = num();
        p += n;
        return buffer.subarray(p - n, p);
      };
      const text = () => decoder.decode(bytes());
      const optional = () => (byte() ? text() : undefined);
      const member = () => {
        const m = { session: text() };
        const name = optional();
        if (name !== undefined) m.name = name;
        return m;
      };
      const list = (item) => Array.from({ length: num() }, item);
      const message = () => {
        const m = { room: text(), seq: num(), from: text(), ts: num() };
        if (byte()) m.body = bytes().slice();
        else {
          const json = text();
          try {
            m.body = JSON.parse(json);
          } catch {
            m.body = json;
          }
        }
        return m;
      };
      const error = (room) => {
        const code = num();
        return failure(code, text(), text(), room);
      };
      let again = false;
      while (p < buffer.length) {
        switch (byte()) {
          case 0: {
            // A token that expired while offline would be refused (4009): get one first.
            if (expired(expires()) && fetchToken(true)) {
              if (adopt) closeSocket();
              adopt = false;
              break;
            }
            openSocket(at);
            again = true;
            break;
          }
          case 1: {
            const frame = bytes();
            if (ws) ws.send(frame);
            break;
          }
          case 2:
            if (ws) {
              closeSocket();
              lastFailure = [
                0,
                opened
                  ? "the server stopped answering (no heartbeat)"
                  : "the connection attempt timed out",
              ];
            }
            break;
          case 3: {
            const deadline = num();
            machineTimer.set(deadline ? deadline - 1 : null, at);
            break;
          }
          case 4: {
            const kind = STATES[byte()];
            const attempt = num();
            const end = num();
            const session = text();
            const payload = { state: kind };
            if (kind === "connecting") payload.attempt = attempt;
            if (kind === "online") {
              payload.session = session;
              lastFailure = null;
              scheduleToken(at);
            }
            if (kind === "waiting") {
              until = end;
              Object.assign(payload, {
                attempt,
                retryAt: Math.max(0, end - skew),
                retryInMs: Math.max(0, end - at),
              });
              if (lastFailure) [payload.code, payload.reason] = lastFailure;
            }
            state = payload;
            push("state", payload);
            break;
          }
          case 5: {
            const id = num();
            const info = { room: text(), seq: num(), members: list(member), recovered: !!byte() };
            const epoch = optional();
            if (epoch !== undefined) info.epoch = epoch;
            settle(id, true, info);
            push("joined", info);
            break;
          }
          case 6:
            settle(num(), true);
            break;
          case 7:
            push("message", message());
            break;
          case 8:
            push("gap", { room: text(), from: num(), to: num() });
            break;
          case 9:
            push("reset", { room: text(), epoch: text() });
            break;
          case 10:
            push("presence", { room: text(), action: byte() ? "join" : "leave", member: member() });
            break;
          case 11:
            settle(num(), true, num());
            break;
          case 12: {
            const id = num();
            const e = error(text());
            if (!settle(id, false, e)) push("error", e);
            break;
          }
          case 13:
            settle(num(), true, list(message));
            break;
          case 14: {
            const id = num();
            const e = error();
            if (!settle(id, false, e)) push("error", e);
            break;
          }
          case 15:
            scheduleToken(at);
            break;
          case 16: {
            const e = error();
            if (e.code === 4022) fetchToken(false);
            push("error", e);
            break;
          }
        }
      }
      if (!again) break;
    }
    deliver();
  };

  // A request: `run(now)` gives its id, or why not (−1 a room that is not one, −2 a body that
  // is not JSON, −3 refused, or a rejected promise).
  const request = (room, run, notJson = "the body is not JSON, or nests deeper than 64") => {
    if (!machine) return Promise.reject(disposed());
    if (early) return new Promise((resolve) => early.push(() => resolve(request(room, run, notJson))));
    const id = run(now());
    if (typeof id !== "number") return id;
    if (id < 0) {
      return Promise.reject(
        id === -1
          ? invalidRoom(room)
          : id === -2
            ? invalidField(notJson)
            : failure(4017, "internal", "the publish was refused"),
      );
    }
    const promise = new Promise((resolve, reject) => pending.set(id, [resolve, reject]));
    drive();
    return promise;
  };
  // Runs input `kind` now with `args`, then carries out the outputs.
  const command = (kind, ...args) => {
    if (!machine) throw disposed();
    if (early) return void early.push(() => command(kind, ...args));
    input(machine, kind, now(), ...args);
    drive();
  };
  // After −1 from `input`: the next output record is why `room` is no room name.
  const invalidRoom = (room) =>
    failure(
      4002,
      "invalid_room",
      `"${room}": ${decoder.decode(output(wasm.d(machine) >>> 0))}`,
    );
  const listen = (type, listener, once) => {
    if (!machine) throw disposed();
    const kind = kindOf(type);
    const list = listeners.get(kind);
    if (!list.some(([l]) => l === listener)) list.push([listener, once]);
    return () => off(kind, listener);
  };
  const disposed = () =>
    unusable ??
    failure(4018, "closed", "the client was disposed (free() or the end of its `using` block)");

  Object.assign(d, {
    join(room, options) {
      let since;
      try {
        since = whole(options, "since", invalidField);
      } catch (error) {
        return Promise.reject(error);
      }
      return request(room, (at) => input(machine, 8 /* join */, at, String(room), since));
    },
    leave: (room) => request(room, (at) => input(machine, 9 /* leave */, at, String(room))),
    history(room, options) {
      let since, limit;
      try {
        since = whole(options, "since", invalidField);
        limit = whole(options, "limit", invalidField);
      } catch (error) {
        return Promise.reject(error);
      }
      return request(room, (at) => input(machine, 10 /* history */, at, String(room), since, limit));
    },
    publish(room, body) {
      let json, data, bad;
      if (body instanceof Uint8Array) data = body;
      else if (body instanceof ArrayBuffer) data = new Uint8Array(body);
      else {
        try {
          json = JSON.stringify(body);
          if (typeof json !== "string") bad = "the body must be a JSON value or a Uint8Array";
        } catch (error) {
          bad = `the body cannot be serialized as JSON: ${what(error)}`;
        }
      }
      // Without a body the machine checks the room only (−1), and answers −2 for the body.
      return request(room, (at) => input(machine, 11 /* publish */, at, String(room), json, data), bad);
    },
    refresh: (value) => command(6 /* refresh */, String(value)),
    close: () => machine && command(2 /* close */),
    connect: () => command(1 /* connect */),
    reconnect() {
      if (!machine) throw disposed();
      const at = now();
      if (state.state === "waiting") {
        skew += Math.max(0, until - at);
        command(3 /* timeout */);
      } else if (state.state === "closed" || state.state === "idle") {
        command(1 /* connect */);
      }
    },
    on: (type, listener) => listen(type, listener, false),
    once: (type, listener) => listen(type, listener, true),
    off(type, listener) {
      if (!machine) throw disposed();
      off(kindOf(type), listener);
    },
    state: () => (machine ? state.state : "closed"),
    session: () => (machine ? state.session : undefined),
    free() {
      if (!machine) return;
      command(2 /* close */);
      finalizer.unregister(release);
      release();
    },
    // The socket's, the timers' and the `online` event's handlers (called through `ref`).
    opened(socket) {
      if (socket === ws) {
        opened = true;
        command(4 /* opened */);
      }
    },
    received(socket, data) {
      if (socket !== ws) return;
      if (data instanceof ArrayBuffer) command(7 /* received */, new Uint8Array(data));
      else if (typeof data === "string") command(7 /* received */);
    },
    closed(socket, code, reason) {
      if (socket !== ws) return;
      ws = null;
      lastFailure = [
        code,
        reason ||
          (opened
            ? "the connection was lost"
            : `could not connect to ${url} (refused, unreachable, or not a WebSocket endpoint)`),
      ];
      command(5 /* closed */);
    },
    timer: () => command(3 /* timeout */),
    token() {
      fetchToken(false);
    },
    // The module could not be loaded (a 404, a network error, a bad file): the client cannot
    // run. It says so (an `error` event, then the state `closed`), lets go of its socket, and
    // what waited — and every later call — fails with that error.
    unloaded(error) {
      if (!machine) return;
      const why = `the client's wasm module could not be loaded: ${what(error)}`;
      unusable = failure(4018, "closed", why);
      const waited = early;
      release();
      push("error", unusable);
      push("state", (state = { state: "closed" }));
      deliver();
      // A waiting request rejects with `unusable`; a waiting command throws it, to no one.
      for (const run of waited) {
        try {
          run();
        } catch {}
      }
    },
    // Makes the machine and connects, once the module is ready; then runs what waited.
    begin() {
      if (!machine) return;
      machine = wasm.n();
      input(machine, 0 /* create */, 0, id, name, token, base, cap, heartbeat, timeout, outbox, high * 2 ** 32 + low);
      const waited = early;
      early = null;
      input(machine, 1 /* connect */, now());
      drive();
      for (const run of waited) run();
    },
  });

  finalizer.register(client, release, release);
  queueMicrotask(() => {
    delivering = false;
    deliver();
  });
  if (wasm) d.begin();
  else {
    // The module is still loading (the package's entries start it at import): the socket
    // opens now (what `new WebSocket(url)` throws, the constructor throws), the machine then.
    loading.then(weakly(ref, "begin"), weakly(ref, "unloaded"));
    adopt = true;
    try {
      construct();
    } catch (error) {
      openError = error;
    }
  }
  if (openError) {
    release();
    throw openError;
  }
  return d;
}

/** A function calling `method` of the driver behind `ref`, while there is one. */
const weakly = (ref, method) => (...args) => ref.deref()?.[method](...args);

/** Sets `socket`'s handlers, which call the driver behind `ref`. */
function handle(socket, ref) {
  socket.binaryType = "arraybuffer";
  socket.onopen = () => ref.deref()?.opened(socket);
  socket.onmessage = (event) => ref.deref()?.received(socket, event.data);
  socket.onclose = (event) => ref.deref()?.closed(socket, event.code, event.reason);
  // An error is followed by `close`, which is what counts. A listener keeps the `ws` package
  // (an EventEmitter) from throwing it, e.g. for a socket closed while still connecting.
  socket.onerror = () => {};
}

// Each client's driver (what `start` returns).
const drivers = new WeakMap();

/** A connection to an enchufe server that survives network failures (see enchufe.d.ts). */
export class Client {
  constructor(url, options) {
    drivers.set(this, start(this, url, options));
  }
  get state() {
    return drivers.get(this).state();
  }
  get session() {
    return drivers.get(this).session();
  }
}
// The methods, each the driver's.
for (const name of "join leave publish history refresh close connect reconnect on once off free".split(" ")) {
  Client.prototype[name] = function (...args) {
    return drivers.get(this)[name](...args);
  };
}
if (Symbol.dispose) Client.prototype[Symbol.dispose] = Client.prototype.free;
