//! The module's whole interface: the core's client state machine behind one exported class,
//! [`Machine`], whose methods take and give numbers only (wasm-bindgen's `machine_new`,
//! `machine_buf`, `machine_input`, `machine_drive`, `__wbg_machine_free`, which `cargo xtask
//! pack` renames `n`, `b`, `i`, `d`, `f`: xtask/src/imports.rs). The JavaScript API
//! (`js/enchufe.js`: the `Client` class, options, listeners, promises, the WebSocket, timers,
//! tokens, errors) drives it: it writes an input's arguments into the buffer
//! [`buf`](Machine::buf) lends, runs the input with `now` ([`input`](Machine::input)), and takes
//! the machine's outputs from [`drive`](Machine::drive) as one byte record (the format below),
//! which it reads with a `TextDecoder` and a few lines. Nothing crosses as a JavaScript value:
//! the package needs none of wasm-bindgen's glue (wasm/README.md, "Size").
//!
//! ## The inputs
//! `kind` (the `kind` module) and its arguments, each tagged (`Args`): 0 create (client id,
//! name?, token?, backoff base, backoff cap, heartbeat, connect timeout, outbox capacity, seed),
//! 1 connect, 2 close, 3 timeout, 4 opened, 5 closed, 6 refresh (token), 7 received (bytes, or
//! absent for a text message), 8 join (room, since?), 9 leave (room), 10 history (room, since?,
//! limit?), 11 publish (room, JSON text?, bytes?), 13 token expires.
//!
//! ## The output record
//! Its length (a `u32`, little-endian), then a sequence of entries, each a kind byte and its
//! fields. A number is LEB128 (7 bits a byte, the low ones first; seqs, ids and timestamps are
//! exact up to 2^53 in JavaScript); a string is its UTF-8 length (a number) and its bytes; a
//! flag is a byte; `?x` is a flag then `x` when it is 1.
//!
//! | kind | output | fields |
//! |---|---|---|
//! | 0 | open a WebSocket | |
//! | 1 | send | bytes (as a string's) |
//! | 2 | close the socket | |
//! | 3 | set the timer | deadline + 1 (0: none) |
//! | 4 | state | name index (idle, connecting, online, waiting, closed), attempt, until, session |
//! | 5 | joined | id, room, seq, members, recovered flag, ?epoch |
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
//! from, ts, a flag (1: bytes, 0: JSON text) and the body as a string. After an input answered
//! −1 (a room name that is none), the next record is that reason's UTF-8 alone.

use crate::prelude::*;
use enchufe_core::client::{ClientConfig, ClientError, ConnState, Event, Output};
use enchufe_core::{Body, ErrorCode, JsonText, Member, Message, RoomName};
use wasm_bindgen::prelude::*;

use crate::wire;

type Core = enchufe_core::client::Client;

/// A machine, its input buffer (the arguments of the next [`input`](Machine::input)), its
/// output record, and the entries its inputs produced besides the machine's outputs (frames
/// that did not decode).
#[wasm_bindgen]
#[derive(Default)]
pub struct Machine {
    core: Option<Core>,
    input: Vec<u8>,
    out: Vec<u8>,
    errors: Vec<u8>,
    /// Whether `out` holds why a room name is none, for the next `drive`.
    why: bool,
}

fn ms(now: f64) -> u64 {
    now.max(0.0) as u64
}

/// The arguments of an input, as JavaScript wrote them: each a tag byte (0 absent, 1 a number,
/// an `f64`; 2 a string's UTF-8 or bytes, a `u32` length and the bytes), little-endian.
struct Args<'a>(&'a [u8]);

impl<'a> Args<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&tag, rest) = self.0.split_first()?;
        let (len, rest) = match tag {
            1 => (8, rest),
            2 => {
                let (len, rest) = rest.split_first_chunk::<4>()?;
                (u32::from_le_bytes(*len) as usize, rest)
            }
            _ => (0, rest),
        };
        let (value, rest) = rest.split_at_checked(len)?;
        self.0 = rest;
        (tag != 0).then_some(value)
    }

    /// A number; −1 when absent (the API's numbers are ≥ 0).
    fn num(&mut self) -> f64 {
        self.next().and_then(|b| b.try_into().ok()).map_or(-1.0, f64::from_le_bytes)
    }

    fn opt(&mut self) -> Option<u64> {
        let n = self.num();
        (n >= 0.0).then_some(n as u64)
    }

    fn bytes(&mut self) -> Option<Vec<u8>> {
        self.next().map(<[u8]>::to_vec)
    }

    fn text(&mut self) -> Option<String> {
        self.bytes().and_then(|b| String::from_utf8(b).ok())
    }

    /// A room name; `Err` with why it is none.
    fn room(&mut self) -> Result<RoomName, String> {
        RoomName::new(self.text().unwrap_or_default()).map_err(|e| e.message())
    }
}

/// Inputs and commands, the first argument of [`Machine::input`].
mod kind {
    pub(super) const CREATE: u32 = 0;
    pub(super) const CONNECT: u32 = 1;
    pub(super) const CLOSE: u32 = 2;
    pub(super) const TIMEOUT: u32 = 3;
    pub(super) const OPENED: u32 = 4;
    pub(super) const CLOSED: u32 = 5;
    pub(super) const REFRESH: u32 = 6;
    pub(super) const RECEIVED: u32 = 7;
    pub(super) const JOIN: u32 = 8;
    pub(super) const LEAVE: u32 = 9;
    pub(super) const HISTORY: u32 = 10;
    pub(super) const PUBLISH: u32 = 11;
    pub(super) const TOKEN_EXPIRES: u32 = 13;
}

#[wasm_bindgen]
impl Machine {
    /// An empty machine: its first input is `CREATE`.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Machine {
        Machine::default()
    }

    /// Makes the input buffer `len` bytes long; its address, where JavaScript writes the
    /// arguments of the next [`input`](Machine::input).
    pub fn buf(&mut self, len: u32) -> u32 {
        self.input.clear();
        self.input.resize(len as usize, 0);
        self.input.as_mut_ptr() as u32
    }

    /// Runs input `kind` (the `kind` module) at `now` with the arguments in the input buffer.
    /// A command gives its request's id; −1 a room name that is not one (the next
    /// [`drive`](Machine::drive) then gives why, its UTF-8 alone, and nothing else), −2 a body
    /// that is not JSON (or nests deeper than 64), −3 a publish refused. `TOKEN_EXPIRES` gives when the token in use
    /// expires, in Unix seconds (−1: it does not, or there is none).
    pub fn input(&mut self, kind: u32, now: f64) -> f64 {
        let input = core::mem::take(&mut self.input);
        let mut args = Args(&input);
        let result = self.run(kind, ms(now), &mut args);
        self.input = input;
        result
    }

    /// Takes every output of the machine up to its next wait, and the errors of `RECEIVED`:
    /// the address of the output record, its length (a `u32`) first.
    pub fn drive(&mut self) -> u32 {
        if core::mem::take(&mut self.why) {
            return self.out.as_ptr() as u32;
        }
        let out = &mut self.out;
        out.clear();
        out.extend_from_slice(&[0; 4]);
        if let Some(core) = &mut self.core {
            loop {
                match core.poll_output() {
                    Output::Connect => out.push(0),
                    Output::Transmit(frame) => {
                        out.push(1);
                        bytes(out, &wire::encode(&frame));
                    }
                    Output::Disconnect => out.push(2),
                    Output::Wait(deadline) => {
                        out.push(3);
                        num(out, deadline.map_or(0, |d| d + 1));
                        break;
                    }
                    Output::Event(event) => event_entry(core, out, event),
                }
            }
        }
        out.append(&mut self.errors);
        self.finish()
    }
}

impl Machine {
    /// The output record's address, its length written first.
    fn finish(&mut self) -> u32 {
        let len = (self.out.len() - 4) as u32;
        self.out[..4].copy_from_slice(&len.to_le_bytes());
        self.out.as_ptr() as u32
    }

    fn run(&mut self, kind: u32, now: u64, args: &mut Args<'_>) -> f64 {
        if kind == kind::CREATE {
            let mut config = ClientConfig::new(args.text().unwrap_or_default());
            // `RECEIVED` splits every message into its frames (wire.rs).
            config.batch = true;
            config.name = args.text();
            config.token = args.text();
            config.backoff_base_ms = ms(args.num());
            config.backoff_cap_ms = ms(args.num());
            config.heartbeat_ms = ms(args.num()).max(1);
            config.connect_timeout_ms = ms(args.num()).max(1);
            config.outbox_capacity = args.num() as usize;
            self.core = Some(Core::new(config, args.num() as u64));
            return 0.0;
        }
        let Some(core) = &mut self.core else { return -3.0 };
        let request = |id: u64| id as f64;
        match kind {
            kind::CONNECT => core.connect(now),
            kind::CLOSE => core.close(now),
            kind::TIMEOUT => core.handle_timeout(now),
            kind::OPENED => core.handle_connected(now),
            kind::CLOSED => core.handle_disconnected(now),
            kind::REFRESH => core.refresh(now, args.text().unwrap_or_default()),
            kind::RECEIVED => {
                let errors = &mut self.errors;
                let mut failed = |error: &str| {
                    let text = enchufe_core::text::concat(&[
                        "a frame from the server could not be decoded: ",
                        error,
                    ]);
                    errors.push(16);
                    failure(errors, ErrorCode::Malformed.code(), &text);
                };
                match args.next() {
                    Some(bytes) => {
                        for item in wire::decode(bytes) {
                            match item {
                                Ok(frame) => core.handle_frame(now, frame),
                                Err(error) => failed(error),
                            }
                        }
                    }
                    None => failed("a text (JSON) message; this client reads binary ones"),
                }
            }
            kind::TOKEN_EXPIRES => return core.token_expires().map_or(-1.0, |e| e as f64),
            _ => {
                let room = match args.room() {
                    Ok(room) => room,
                    Err(why) => return self.why(&why),
                };
                return match kind {
                    kind::JOIN => request(core.join(now, room, args.opt())),
                    kind::LEAVE => request(core.leave(now, room)),
                    kind::HISTORY => {
                        let since = args.opt();
                        let limit = args.opt().map(|l| u32::try_from(l).unwrap_or(u32::MAX));
                        request(core.history(now, room, since, limit))
                    }
                    kind::PUBLISH => {
                        let body = match (args.text(), args.bytes()) {
                            (_, Some(bytes)) => Body::Bytes(bytes),
                            (Some(text), None) => match JsonText::new(text) {
                                Ok(text) => Body::Json(text),
                                Err(_) => return -2.0,
                            },
                            (None, None) => return -2.0,
                        };
                        match core.publish(now, room, body) {
                            Ok(id) | Err(ClientError::OutboxFull { id, .. }) => request(id),
                            Err(_) => -3.0,
                        }
                    }
                    _ => -3.0,
                };
            }
        }
        0.0
    }

    /// −1, and why a room name is none as what the next `drive` gives (its UTF-8 alone).
    fn why(&mut self, why: &str) -> f64 {
        self.out.clear();
        self.out.extend_from_slice(&[0; 4]);
        self.out.extend_from_slice(why.as_bytes());
        self.finish();
        self.why = true;
        -1.0
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
            num(out, attempt.into());
            num(out, until);
            text(out, session);
        }
        Event::Joined { id, room, seq, members, recovered } => {
            out.push(5);
            num(out, id);
            text(out, room.as_str());
            num(out, seq);
            num(out, members.len() as u64);
            for m in &members {
                member(out, m);
            }
            out.push(recovered.into());
            optional(out, machine.epoch(&room));
        }
        Event::Left { id, .. } => {
            out.push(6);
            num(out, id);
        }
        Event::Message(m) => {
            out.push(7);
            message(out, &m);
        }
        Event::Gap { room, from, to } => {
            out.push(8);
            text(out, room.as_str());
            num(out, from);
            num(out, to);
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
            num(out, id);
            num(out, seq);
        }
        Event::PublishFailed { id, room, code, message } => {
            out.push(12);
            num(out, id);
            text(out, room.as_str());
            failure(out, code, &message);
        }
        Event::History { id, messages, .. } => {
            out.push(13);
            num(out, id);
            num(out, messages.len() as u64);
            for m in &messages {
                message(out, m);
            }
        }
        Event::RequestFailed { id, code, message } => {
            out.push(14);
            num(out, id);
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

/// A number, in LEB128 (7 bits a byte, the low ones first).
#[inline(never)]
fn num(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 127) as u8;
        n >>= 7;
        if n == 0 {
            return out.push(byte);
        }
        out.push(byte | 128);
    }
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    num(out, b.len() as u64);
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
    num(out, m.seq);
    text(out, &m.from);
    num(out, m.ts);
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
    num(out, code.into());
    text(out, ErrorCode::from_code(code).map_or("unknown", ErrorCode::name));
    text(out, message);
}
