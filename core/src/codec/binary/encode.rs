//! Frames → bytes, appended to the caller's buffer with no intermediate allocation.

use super::{VERSION, kind};
use crate::body::{has_line_break, is_line_break};
use crate::prelude::*;
use crate::{Body, ClientFrame, Encoding, Member, Message, PresenceAction, RoomName, ServerFrame};

/// Appends the binary encoding of a client frame (version byte first, no length prefix).
pub fn encode_client(frame: &ClientFrame, out: &mut Vec<u8>) {
    match frame {
        ClientFrame::Hello(f) => {
            let mut w = Writer::start(out, kind::HELLO);
            w.varint(f.v.into());
            w.opt_str(f.name.as_deref());
            w.opt_str(f.token.as_deref());
            w.opt_str(f.client.as_deref());
            w.opt_str(f.cookie.as_deref());
            // Bit 0: the encoding (binary when set); bit 1: batches.
            let encoding = match f.encoding {
                Encoding::Json => 0,
                Encoding::Binary => 1,
            };
            w.byte(encoding | (u8::from(f.batch) << 1));
        }
        ClientFrame::Join(f) => {
            let mut w = Writer::start(out, kind::JOIN);
            w.room(&f.room);
            w.opt_varint(f.since);
            w.opt_varint(f.id);
            w.opt_str(f.epoch.as_deref());
        }
        ClientFrame::Leave(f) => {
            let mut w = Writer::start(out, kind::LEAVE);
            w.room(&f.room);
            w.opt_varint(f.id);
        }
        ClientFrame::Publish(f) => {
            out.reserve(2 * MAX_VARINT + f.room.as_str().len() + f.body.len() + 16);
            let mut w = Writer::start(out, kind::PUBLISH);
            w.room(&f.room);
            w.body(&f.body);
            w.opt_varint(f.id);
        }
        ClientFrame::History(f) => {
            let mut w = Writer::start(out, kind::HISTORY_REQUEST);
            w.room(&f.room);
            w.opt_varint(f.since);
            w.opt_varint(f.limit.map(u64::from));
            w.opt_varint(f.id);
        }
        ClientFrame::Ping(f) => Writer::start(out, kind::PING).opt_varint(f.id),
        ClientFrame::Refresh(f) => {
            let mut w = Writer::start(out, kind::REFRESH);
            w.str(&f.token);
            w.opt_varint(f.id);
        }
    }
}

/// Appends the binary encoding of a server frame (version byte first, no length prefix).
pub fn encode_server(frame: &ServerFrame, out: &mut Vec<u8>) {
    match frame {
        ServerFrame::Welcome(f) => {
            let mut w = Writer::start(out, kind::WELCOME);
            w.varint(f.v.into());
            w.str(&f.session);
            w.varint(f.heartbeat_ms);
            w.varint(f.limits.max_frame.into());
            w.varint(f.limits.max_rooms.into());
            w.varint(f.limits.max_history.into());
            w.opt_varint(f.expires);
        }
        ServerFrame::Challenge(f) => Writer::start(out, kind::CHALLENGE).str(&f.cookie),
        ServerFrame::Joined(f) => {
            let mut w = Writer::start(out, kind::JOINED);
            w.room(&f.room);
            w.varint(f.seq);
            w.len(f.members.len());
            for member in &f.members {
                w.member(member);
            }
            w.byte(f.recovered.into());
            w.opt_varint(f.id);
            w.str(&f.epoch);
        }
        ServerFrame::Left(f) => {
            let mut w = Writer::start(out, kind::LEFT);
            w.room(&f.room);
            w.opt_varint(f.id);
        }
        ServerFrame::Message(f) => {
            out.reserve(message_size_hint(f) + 2);
            Writer::start(out, kind::MESSAGE).message(f);
        }
        ServerFrame::Presence(f) => {
            let mut w = Writer::start(out, kind::PRESENCE);
            w.room(&f.room);
            w.byte(match f.action {
                PresenceAction::Join => 0,
                PresenceAction::Leave => 1,
            });
            w.member(&f.member);
        }
        ServerFrame::Ack(f) => {
            let mut w = Writer::start(out, kind::ACK);
            w.varint(f.id);
            w.room(&f.room);
            w.varint(f.seq);
        }
        ServerFrame::History(f) => {
            out.reserve(
                f.room.as_str().len()
                    + f.messages.iter().map(message_size_hint).sum::<usize>()
                    + 32,
            );
            let mut w = Writer::start(out, kind::HISTORY);
            w.room(&f.room);
            w.len(f.messages.len());
            for message in &f.messages {
                w.message(message);
            }
            w.opt_varint(f.id);
        }
        ServerFrame::Pong(f) => Writer::start(out, kind::PONG).opt_varint(f.id),
        ServerFrame::Refreshed(f) => {
            let mut w = Writer::start(out, kind::REFRESHED);
            w.opt_varint(f.id);
            w.opt_varint(f.expires);
        }
        ServerFrame::Error(f) => {
            let mut w = Writer::start(out, kind::ERROR);
            w.varint(f.code.into());
            w.str(&f.message);
            w.opt_varint(f.id);
        }
    }
}

/// The most bytes a LEB128 varint of a `u64` takes.
const MAX_VARINT: usize = 10;

/// An upper bound of a message's encoded size, to reserve the buffer once.
fn message_size_hint(m: &Message) -> usize {
    m.room.as_str().len() + m.from.len() + m.body.len() + 5 * MAX_VARINT + 1
}

/// Writes the primitives of the format into the caller's buffer.
struct Writer<'a>(&'a mut Vec<u8>);

impl<'a> Writer<'a> {
    /// Writes the version and kind bytes.
    fn start(out: &'a mut Vec<u8>, kind: u8) -> Self {
        out.extend_from_slice(&[VERSION, kind]);
        Writer(out)
    }

    fn byte(&mut self, byte: u8) {
        self.0.push(byte);
    }

    /// An unsigned LEB128 varint: 7 bits per byte, least significant first, high bit set on
    /// every byte but the last.
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn len(&mut self, len: usize) {
        self.varint(len as u64);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.len(bytes.len());
        self.0.extend_from_slice(bytes);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn room(&mut self, room: &RoomName) {
        self.str(room.as_str());
    }

    fn opt_varint(&mut self, value: Option<u64>) {
        match value {
            Some(value) => {
                self.byte(1);
                self.varint(value);
            }
            None => self.byte(0),
        }
    }

    fn opt_str(&mut self, value: Option<&str>) {
        match value {
            Some(value) => {
                self.byte(1);
                self.str(value);
            }
            None => self.byte(0),
        }
    }

    fn body(&mut self, body: &Body) {
        match body {
            Body::Json(json) => {
                self.byte(0);
                let text = json.get().as_bytes();
                self.len(text.len());
                // Line breaks in valid JSON are whitespace between tokens: writing them as spaces
                // keeps the value and the one-line rule of the format (see `Reader::body`).
                if has_line_break(text) {
                    self.0.extend(text.iter().map(|&b| if is_line_break(b) { b' ' } else { b }));
                } else {
                    self.0.extend_from_slice(text);
                }
            }
            Body::Bytes(bytes) => {
                self.byte(1);
                self.bytes(bytes);
            }
        }
    }

    fn member(&mut self, member: &Member) {
        self.str(&member.session);
        self.opt_str(member.name.as_deref());
    }

    /// A message's fields, without version and kind (also the items of `history`).
    fn message(&mut self, m: &Message) {
        self.room(&m.room);
        self.varint(m.seq);
        self.str(&m.from);
        self.varint(m.ts);
        self.body(&m.body);
    }
}
