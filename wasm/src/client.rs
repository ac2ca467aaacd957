//! The JavaScript class `Client`: argument checking, promises and listeners around the
//! [`Driver`]. The doc comments here are the ones in the generated `enchufe.d.ts`.

use crate::prelude::*;
use alloc::rc::Rc;

use enchufe_core::ErrorCode;
use enchufe_core::client::ClientError;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::convert::body_from_js;
use crate::driver::{Driver, room_name};
use crate::error::{concat, local_error, type_error};
use crate::listeners::EventKind;
use crate::options::{self, BadOption};
use crate::pending::Settle;
use crate::platform::random_bytes;

#[wasm_bindgen]
extern "C" {
    /// `ClientOptions` (declared in `typescript.rs`).
    #[wasm_bindgen(typescript_type = "ClientOptions")]
    pub type ClientOptionsArg;
    /// `JoinOptions`.
    #[wasm_bindgen(typescript_type = "JoinOptions")]
    pub type JoinOptionsArg;
    /// `HistoryOptions`.
    #[wasm_bindgen(typescript_type = "HistoryOptions")]
    pub type HistoryOptionsArg;
    /// A promise of the `JoinInfo`.
    #[wasm_bindgen(typescript_type = "Promise<JoinInfo>")]
    pub type JoinPromise;
    /// A promise of nothing.
    #[wasm_bindgen(typescript_type = "Promise<void>")]
    pub type LeavePromise;
    /// A promise of a seq.
    #[wasm_bindgen(typescript_type = "Promise<number>")]
    pub type PublishPromise;
    /// A promise of the messages.
    #[wasm_bindgen(typescript_type = "Promise<Message[]>")]
    pub type HistoryPromise;
    /// A `ConnectionStateName`.
    #[wasm_bindgen(typescript_type = "ConnectionStateName")]
    pub type StateName;
}

/// A connection to an enchufe server that survives network failures.
///
/// It connects as soon as it is created, and reconnects by itself after a network loss or a
/// server restart (exponential backoff with jitter; watch the `state` event). After each
/// reconnect it re-joins your rooms and recovers the messages you missed, without loss or
/// duplicate while the server's history reaches back (otherwise a `gap` event says what is
/// lost). Publishes wait in a bounded outbox while offline and are retried with the same id,
/// so each lands exactly once.
///
/// ```js
/// import { Client } from "enchufe";
/// const client = new Client("ws://127.0.0.1:8480/ws", { name: "ana" });
/// client.on("message", (m) => console.log(`#${m.seq} ${m.from}:`, m.body));
/// await client.join("lobby");
/// const seq = await client.publish("lobby", { text: "hola" });
/// ```
///
/// Keep a reference to the client while you use it, and call `close()` when done.
#[wasm_bindgen]
pub struct Client {
    driver: Rc<Driver>,
}

#[wasm_bindgen]
impl Client {
    /// Creates a client for the server's WebSocket endpoint `url` (e.g.
    /// `"ws://127.0.0.1:8480/ws"`; `wss:` behind TLS) and starts connecting.
    ///
    /// Throws a `TypeError` for an option of the wrong type, and what `new WebSocket(url)`
    /// throws for a URL the browser refuses (a `SyntaxError`).
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, options: Option<ClientOptionsArg>) -> Result<Client, JsValue> {
        let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        let client_id = hex("w-", &random_bytes::<12>());
        let options = options::client_options(&options, client_id).map_err(bad_option)?;
        let constructor = web_socket_constructor(options.web_socket)?;
        let seed = u64::from_le_bytes(random_bytes());
        let driver =
            Driver::start(url.to_owned(), constructor, options.config, options.get_token, seed)?;
        Ok(Client { driver })
    }

    /// Replaces the token: every later connection uses it, and an online connection sends it
    /// to the server now (a `refresh`; the connection stays up, and rooms the new token no
    /// longer allows are left). With the `getToken` option the client does this by itself
    /// before the token expires; call it yourself otherwise (e.g. on an `error` event named
    /// `token_expired`).
    pub fn refresh(&self, token: &str) {
        let token = token.to_owned();
        self.driver.command(|machine, now| machine.refresh(now, token));
    }

    /// Joins `room` and resolves once the server confirms, with who is there
    /// (`{ room, seq, members, recovered }`). The client stays in the room across reconnects
    /// (a `joined` event each time) until `leave`. Works offline too: the join goes out when
    /// the client is next online.
    ///
    /// With `since`, the last seq you have seen (e.g. stored from an earlier visit), the server
    /// first replays every later message it still holds as `message` events.
    ///
    /// Rejects with an `EnchufeError`: `invalid_room`, `too_many_rooms`, `closed` (the client
    /// was closed, or left the room, before the answer), …
    pub fn join(&self, room: &str, options: Option<JoinOptionsArg>) -> JoinPromise {
        let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        let since = match options::whole(&options, "since", "since") {
            Ok(since) => since,
            Err(bad) => return rejected(invalid_field(bad)),
        };
        let room = match room_name(room) {
            Ok(room) => room,
            Err(error) => return rejected(error),
        };
        let (promise, settle) = Settle::new();
        let id = self.driver.apply(|machine, now| machine.join(now, room.clone(), since));
        self.driver.pending.borrow_mut().add(id, settle);
        self.driver.drive();
        promise.unchecked_into()
    }

    /// Leaves `room`: no more of its messages, and it is not re-joined after a reconnect.
    /// Resolves once the server confirms (at once when offline); rejects with an
    /// `EnchufeError` such as `not_joined`.
    pub fn leave(&self, room: &str) -> LeavePromise {
        let room = match room_name(room) {
            Ok(room) => room,
            Err(error) => return rejected(error),
        };
        let (promise, settle) = Settle::new();
        let id = self.driver.apply(|machine, now| machine.leave(now, room));
        self.driver.pending.borrow_mut().add(id, settle);
        self.driver.drive();
        promise.unchecked_into()
    }

    /// Publishes `body` into `room` (joining it is not needed) and resolves with the message's
    /// seq once the server has stored it. `body` is any JSON value (sent through
    /// `JSON.stringify`), or a `Uint8Array`/`ArrayBuffer` for bytes (sent as a binary frame).
    ///
    /// While offline the publish waits in the outbox and goes out on reconnect; it is retried
    /// with the same id until acknowledged, and the server stores it once. Rejects with an
    /// `EnchufeError`: `outbox_full` (4016) when `outboxCapacity` publishes already wait,
    /// `too_large`, `invalid_room`, `invalid_field` (a body that is not JSON), or `closed`
    /// (the client was closed first: the message may or may not have been stored).
    pub fn publish(&self, room: &str, body: JsValue) -> PublishPromise {
        let room = match room_name(room) {
            Ok(room) => room,
            Err(error) => return rejected(error),
        };
        let body = match body_from_js(&body) {
            Ok(body) => body,
            Err(not_a_body) => {
                return rejected(local_error(ErrorCode::InvalidField, &not_a_body.0));
            }
        };
        let (promise, settle) = Settle::new();
        match self.driver.apply(|machine, now| machine.publish(now, room, body)) {
            // A full outbox is also reported as `PublishFailed`, which rejects the promise.
            Ok(id) | Err(ClientError::OutboxFull { id, .. }) => {
                self.driver.pending.borrow_mut().add(id, settle);
            }
            Err(_) => settle.reject(&local_error(ErrorCode::Internal, "the publish was refused")),
        }
        self.driver.drive();
        promise.unchecked_into()
    }

    /// Resolves with the stored messages of `room`, oldest first: those with a seq above
    /// `since` (from the oldest stored without it), at most `limit` (the server caps it).
    /// Joining the room is not needed; offline, the request waits for the next connection.
    pub fn history(&self, room: &str, options: Option<HistoryOptionsArg>) -> HistoryPromise {
        let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        let (since, limit) = match (
            options::whole(&options, "since", "since"),
            options::whole(&options, "limit", "limit"),
        ) {
            (Ok(since), Ok(limit)) => (since, limit.map(|l| u32::try_from(l).unwrap_or(u32::MAX))),
            (Err(bad), _) | (_, Err(bad)) => return rejected(invalid_field(bad)),
        };
        let room = match room_name(room) {
            Ok(room) => room,
            Err(error) => return rejected(error),
        };
        let (promise, settle) = Settle::new();
        let id = self.driver.apply(|machine, now| machine.history(now, room, since, limit));
        self.driver.pending.borrow_mut().add(id, settle);
        self.driver.drive();
        promise.unchecked_into()
    }

    /// Closes the connection for good: no reconnect. Pending publishes, joins and history
    /// requests reject with `closed` (4018). `connect()` starts over.
    pub fn close(&self) {
        self.driver.command(|machine, now| machine.close(now));
    }

    /// Connects again after `close()` (or after the server refused the token), with no rooms
    /// joined. Does nothing while the client is connected or reconnecting.
    pub fn connect(&self) {
        self.driver.command(|machine, now| machine.connect(now));
    }

    /// Retries now: ends the wait before the next connection attempt (the `state` event's
    /// countdown), or starts over after `close()`. Does nothing while connecting or online.
    /// The client also does this by itself when the browser's `online` event says the network
    /// is back.
    pub fn reconnect(&self) {
        self.driver.reconnect();
    }

    /// The connection state: `"connecting"`, `"online"`, `"waiting"` (to retry), `"closed"`
    /// (the `state` event has the details, such as the retry countdown).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> StateName {
        JsValue::from_str(self.driver.read(|m| m.state().name())).unchecked_into()
    }

    /// This connection's session id on the server while online, else `undefined`.
    #[wasm_bindgen(getter)]
    pub fn session(&self) -> Option<String> {
        self.driver.read(|m| m.session().map(str::to_owned))
    }

    /// Adds an event listener (typed in `ClientEventMap`); returns the function that removes
    /// it.
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, r#type: &str, listener: Function) -> Result<Function, JsValue> {
        self.listen(r#type, listener, false)
    }

    /// Adds an event listener for the next event of `type` only; returns the function that
    /// removes it before.
    #[wasm_bindgen(skip_typescript)]
    pub fn once(&self, r#type: &str, listener: Function) -> Result<Function, JsValue> {
        self.listen(r#type, listener, true)
    }

    /// Removes an event listener.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, r#type: &str, listener: Function) -> Result<(), JsValue> {
        self.driver.listeners.remove(event_kind(r#type)?, &listener);
        Ok(())
    }
}

impl Drop for Client {
    /// `free()` (or the end of a `using` block) closes the client first, so that what is
    /// pending rejects with `closed` instead of never settling.
    fn drop(&mut self) {
        self.driver.command(|machine, now| machine.close(now));
    }
}

impl Client {
    fn listen(&self, r#type: &str, listener: Function, once: bool) -> Result<Function, JsValue> {
        let kind = event_kind(r#type)?;
        self.driver.listeners.add(kind, listener.clone(), once);
        let driver = Rc::downgrade(&self.driver);
        let off = Closure::once_into_js(move || {
            if let Some(driver) = driver.upgrade() {
                driver.listeners.remove(kind, &listener);
            }
        });
        Ok(off.unchecked_into())
    }
}

/// Whether `value` is an error enchufe raised (an `EnchufeError`: an `Error` with a numeric
/// `code`), for `catch (e)` in TypeScript, where `e` is `unknown`.
#[wasm_bindgen(js_name = isEnchufeError, skip_typescript)]
pub fn is_enchufe_error(value: &JsValue) -> bool {
    value.is_instance_of::<js_sys::Error>()
        && crate::options::field(value, "code").as_f64().is_some()
}

#[wasm_bindgen]
extern "C" {
    /// `globalThis` (ES2020, everywhere the package runs): one import, where
    /// `js_sys::global()` tries four names in turn.
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// The `WebSocket` constructor the client opens its connections with: `option` (from the
/// options' `WebSocket`), else the global one; a `TypeError` when there is neither.
fn web_socket_constructor(option: Option<Function>) -> Result<Function, JsValue> {
    if let Some(constructor) = option {
        return Ok(constructor);
    }
    GLOBAL_THIS
        .with(|global| js_sys::Reflect::get(global, &JsValue::from_str("WebSocket")))
        .ok()
        .and_then(|global| global.dyn_into::<Function>().ok())
        .ok_or_else(|| {
            type_error(
                "this runtime has no global WebSocket: pass one, e.g. \
                 `new Client(url, { WebSocket })` with `import WebSocket from \"ws\"`",
            )
        })
}

fn event_kind(name: &str) -> Result<EventKind, JsValue> {
    EventKind::from_name(name).ok_or_else(|| {
        type_error(&concat(&["unknown event \"", name, "\"; the events are ", &EventKind::names()]))
    })
}

fn rejected<T: JsCast>(error: JsValue) -> T {
    Promise::reject(&error).unchecked_into()
}

fn bad_option(bad: BadOption) -> JsValue {
    type_error(&bad.0)
}

fn invalid_field(bad: BadOption) -> JsValue {
    local_error(ErrorCode::InvalidField, &bad.0)
}

/// `prefix` then `bytes` in lowercase hex (by hand: `format!` would bring formatting code).
fn hex(prefix: &str, bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::from(prefix);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}
