//! The module's whole interface: the core's client state machine behind a handful of exports
//! with primitive arguments (numbers, strings, bytes). The JavaScript API (`js/enchufe.js`:
//! the `Client` class, options, listeners, promises, the WebSocket, timers, tokens, errors)
//! drives it: it feeds inputs with `now`, runs commands, and takes the machine's outputs from
//! [`drive`] as one compact byte record (the format below), which it reads with a `DataView`
//! and a `TextDecoder`.
//!
//! A machine is an instance of the exported class [`Machine`] (its only export).
//!
//! ## The output record
//! A sequence of entries, each a kind byte and its fields. A number is an `f64`, little-endian
//! (seqs, ids and timestamps are exact up to 2^53); a string is its UTF-8 length (`u32`,
//! little-endian) and its bytes; a flag is a byte; `?x` is a flag then `x` when it is 1.
//!
//! | kind | output | fields |
//! |---|---|---|
//! | 0 | open a WebSocket | |
//! | 1 | send | bytes (as a string's) |
//! | 2 | close the socket | |
//! | 3 | set the timer | deadline (−1: none) |
//! | 4 | state | name index (idle, connecting, online, waiting, closed), attempt, until, session |
//! | 5 | joined | id, room, seq, recovered flag, ?epoch, members |
//! | 6 | left | id |
//! | 7 | message | message |
//! | 8 | gap | room, from, to |
//! | 9 | reset | room, epoch |
//! | 10 | presence | room, flag (1: join), member |
//! | 11 | ack | id, seq |
//! | 12 | publish failed | id, room, code, name, text |
//! | 13 | history | id, count, messages |
//! | 14 | request failed | id, code, name, text |
//! | 15 | refreshed | |
//! | 16 | error | code, name, text |
//!
//! A member is its session and `?name`; members are a count then each; a message is room, seq,
//! from, ts, a flag (1: bytes, 0: JSON text) and the body as a string.

use crate::prelude::*;
use enchufe_core::client::{ClientConfig, ClientError, ConnState, Event, Output};
use enchufe_core::{Body, ErrorCode, JsonText, Member, Message, RoomName};
use wasm_bindgen::prelude::*;

use crate::wire;

type Core = enchufe_core::client::Client;

/// A machine and what its inputs produced besides its outputs (frames that did not decode).
#[wasm_bindgen]
pub struct Machine {
    machine: Core,
    errors: Vec<u8>,
}

fn ms(now: f64) -> u64 {
    now.max(0.0) as u64
}

/// A whole number ≥ 0 from JavaScript, or `None` for a negative one (the API's "absent").
fn opt(n: f64) -> Option<u64> {
    (n >= 0.0).then(|| n as u64)
}

#[wasm_bindgen]
impl Machine {
    /// A new machine (not connecting yet).
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(constructor)]
    pub fn new(
        client_id: String,
        name: Option<String>,
        token: Option<String>,
        base_ms: f64,
        cap_ms: f64,
        heartbeat_ms: f64,
        connect_timeout_ms: f64,
        outbox: f64,
        seed: f64,
    ) -> Machine {
        let mut config = ClientConfig::new(client_id);
        // JavaScript splits nothing: `received` splits every message into its frames (wire.rs).
        config.batch = true;
        config.name = name;
        config.token = token;
        config.backoff_base_ms = ms(base_ms);
        config.backoff_cap_ms = ms(cap_ms);
        config.heartbeat_ms = ms(heartbeat_ms).max(1);
        config.connect_timeout_ms = ms(connect_timeout_ms).max(1);
        config.outbox_capacity = outbox as usize;
        Machine { machine: Core::new(config, seed as u64), errors: Vec::new() }
    }

    /// `connect()`.
    pub fn connect(&mut self, now: f64) {
        self.machine.connect(ms(now));
    }

    /// `close()`.
    pub fn close(&mut self, now: f64) {
        self.machine.close(ms(now));
    }

    /// The state machine's timer fired.
    pub fn timeout(&mut self, now: f64) {
        self.machine.handle_timeout(ms(now));
    }

    /// The socket opened.
    pub fn opened(&mut self, now: f64) {
        self.machine.handle_connected(ms(now));
    }

    /// The socket closed, or failed to open.
    pub fn closed(&mut self, now: f64) {
        self.machine.handle_disconnected(ms(now));
    }

    /// A new token (`refresh(token)`, or `getToken()`'s).
    pub fn refresh(&mut self, now: f64, token: String) {
        self.machine.refresh(ms(now), token);
    }

    /// When the token in use expires, in Unix seconds; −1 when it does not (or there is none).
    pub fn token_expires(&mut self) -> f64 {
        self.machine.token_expires().map_or(-1.0, |e| e as f64)
    }

    /// A binary message from the server (`None`: a text one, which this client does not read).
    /// Every frame of its batch goes to the machine; those that do not decode become `error`
    /// entries (4000 `malformed`) after the machine's outputs in the next [`drive`].
    pub fn received(&mut self, now: f64, message: Option<Vec<u8>>) {
        let handle = self;
        let decoded = match message {
            Some(bytes) => wire::decode(&bytes),
            None => vec![Err("a text (JSON) message; this client reads binary ones")],
        };
        for item in decoded {
            match item {
                Ok(frame) => handle.machine.handle_frame(ms(now), frame),
                Err(error) => {
                    let text = enchufe_core::text::concat(&[
                        "a frame from the server could not be decoded: ",
                        error,
                    ]);
                    let out = &mut handle.errors;
                    out.push(16);
                    failure(out, ErrorCode::Malformed.code(), &text);
                }
            }
        }
    }

    /// `join(room, { since })` (`since` −1: none): the request's id, or −1 for a room name that is
    /// not one ([`room_error`] says why).
    pub fn join(&mut self, now: f64, room: &str, since: f64) -> f64 {
        match RoomName::new(room) {
            Ok(room) => self.machine.join(ms(now), room, opt(since)) as f64,
            Err(_) => -1.0,
        }
    }

    /// `leave(room)`: the request's id, or −1 (as [`join`]).
    pub fn leave(&mut self, now: f64, room: &str) -> f64 {
        match RoomName::new(room) {
            Ok(room) => self.machine.leave(ms(now), room) as f64,
            Err(_) => -1.0,
        }
    }

    /// `history(room, { since, limit })` (−1: absent): the request's id, or −1 (as [`join`]).
    pub fn history(&mut self, now: f64, room: &str, since: f64, limit: f64) -> f64 {
        match RoomName::new(room) {
            Ok(room) => {
                let limit = opt(limit).map(|l| u32::try_from(l).unwrap_or(u32::MAX));
                self.machine.history(ms(now), room, opt(since), limit) as f64
            }
            Err(_) => -1.0,
        }
    }

    /// `publish(room, body)`, the body JSON text (`json`, from `JSON.stringify`) or bytes: the
    /// publish's id (a full outbox too: its `publish failed` entry follows), or −1 for a room that
    /// is not one, −2 for a body that is not JSON (or nests deeper than 64), −3 refused.
    pub fn publish(
        &mut self,
        now: f64,
        room: &str,
        json: Option<String>,
        bytes: Option<Vec<u8>>,
    ) -> f64 {
        let Ok(room) = RoomName::new(room) else { return -1.0 };
        let body = match (json, bytes) {
            (_, Some(bytes)) => Body::Bytes(bytes),
            (Some(text), None) => match JsonText::new(text) {
                Ok(text) => Body::Json(text),
                Err(_) => return -2.0,
            },
            (None, None) => return -2.0,
        };
        match self.machine.publish(ms(now), room, body) {
            Ok(id) | Err(ClientError::OutboxFull { id, .. }) => id as f64,
            Err(_) => -3.0,
        }
    }

    /// Why `room` is no room name (for the `invalid_room` error), empty when it is one.
    pub fn room_error(room: &str) -> String {
        RoomName::new(room).err().map(|e| e.message()).unwrap_or_default()
    }

    /// Takes every output of the machine up to its next wait, and the errors of [`received`]:
    /// the record described above.
    pub fn drive(&mut self) -> Vec<u8> {
        let handle = self;
        let mut out = Vec::new();
        loop {
            match handle.machine.poll_output() {
                Output::Connect => out.push(0),
                Output::Transmit(frame) => {
                    out.push(1);
                    bytes(&mut out, &wire::encode(&frame));
                }
                Output::Disconnect => out.push(2),
                Output::Wait(deadline) => {
                    out.push(3);
                    num(&mut out, deadline.map_or(-1.0, |d| d as f64));
                    break;
                }
                Output::Event(event) => event_entry(&handle.machine, &mut out, event),
            }
        }
        out.append(&mut handle.errors);
        out
    }
}

fn event_entry(machine: &Core, out: &mut Vec<u8>, event: Event) {
    match event {
        Event::State(state) => {
            out.push(4);
            let (kind, attempt, until, session) = match &state {
                ConnState::Idle => (0, 0, 0, ""),
                ConnState::Connecting { attempt } => (1, *attempt, 0, ""),
                ConnState::Online { session } => (2, 0, 0, session.as_str()),
                ConnState::Waiting { until, attempt } => (3, *attempt, *until, ""),
                ConnState::Closed => (4, 0, 0, ""),
            };
            out.push(kind);
            num(out, f64::from(attempt));
            num(out, until as f64);
            text(out, session);
        }
        Event::Joined { id, room, seq, members, recovered } => {
            out.push(5);
            num(out, id as f64);
            text(out, room.as_str());
            num(out, seq as f64);
            out.push(recovered.into());
            optional(out, machine.epoch(&room));
            num(out, members.len() as f64);
            for m in &members {
                member(out, m);
            }
        }
        Event::Left { id, .. } => {
            out.push(6);
            num(out, id as f64);
        }
        Event::Message(m) => {
            out.push(7);
            message(out, &m);
        }
        Event::Gap { room, from, to } => {
            out.push(8);
            text(out, room.as_str());
            num(out, from as f64);
            num(out, to as f64);
        }
        Event::Reset { room, epoch } => {
            out.push(9);
            text(out, room.as_str());
            text(out, &epoch);
        }
        Event::Presence(p) => {
            out.push(10);
            text(out, p.room.as_str());
            out.push(matches!(p.action, enchufe_core::PresenceAction::Join).into());
            member(out, &p.member);
        }
        Event::Ack { id, seq, .. } => {
            out.push(11);
            num(out, id as f64);
            num(out, seq as f64);
        }
        Event::PublishFailed { id, room, code, message } => {
            out.push(12);
            num(out, id as f64);
            text(out, room.as_str());
            failure(out, code, &message);
        }
        Event::History { id, messages, .. } => {
            out.push(13);
            num(out, id as f64);
            num(out, messages.len() as f64);
            for m in &messages {
                message(out, m);
            }
        }
        Event::RequestFailed { id, code, message } => {
            out.push(14);
            num(out, id as f64);
            failure(out, code, &message);
        }
        Event::Refreshed { .. } => out.push(15),
        Event::Error { code, message } => {
            out.push(16);
            failure(out, code, &message);
        }
        // Events newer than this interface: nothing the API can show yet.
        _ => {}
    }
}

fn num(out: &mut Vec<u8>, n: f64) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn text(out: &mut Vec<u8>, s: &str) {
    bytes(out, s.as_bytes());
}

fn optional(out: &mut Vec<u8>, s: Option<&str>) {
    out.push(s.is_some().into());
    if let Some(s) = s {
        text(out, s);
    }
}

fn member(out: &mut Vec<u8>, m: &Member) {
    text(out, &m.session);
    optional(out, m.name.as_deref());
}

fn message(out: &mut Vec<u8>, m: &Message) {
    text(out, m.room.as_str());
    num(out, m.seq as f64);
    text(out, &m.from);
    num(out, m.ts as f64);
    match &m.body {
        Body::Json(json) => {
            out.push(0);
            text(out, json.get());
        }
        Body::Bytes(b) => {
            out.push(1);
            bytes(out, b);
        }
    }
}

/// An error's code, its name in the core's table (`unknown` for a code newer than this
/// package) and its text.
fn failure(out: &mut Vec<u8>, code: u16, message: &str) {
    num(out, f64::from(code));
    text(out, ErrorCode::from_code(code).map_or("unknown", ErrorCode::name));
    text(out, message);
}
