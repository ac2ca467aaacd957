//! A server frame on its way out, laid out at most once per wire form.

use std::sync::{Arc, OnceLock};

use async_tungstenite::tungstenite::{
    Utf8Bytes,
    protocol::frame::{
        Frame as WsFrame,
        coding::{Data, OpCode},
    },
};
use bytes::Bytes;
use enchufe_core::{
    Encoding, ErrorCode, ErrorFrame, ServerFrame,
    codec::{Frame, binary, line},
};

/// The byte layouts a frame is written in: an encoding, plus the transport's framing around it.
///
/// Every form is built the first time a connection asks for it and then shared (a [`Bytes`]
/// clone is a reference count): a stream writer writes the whole form with one slice of a
/// vectored write, with no per-subscriber framing, copy or allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Form {
    /// A JSON object (UDP datagram, SSE data).
    Json,
    /// A binary v1 frame (UDP datagram).
    Binary,
    /// A JSON object and `\n` (TCP, JSON lines).
    JsonLine,
    /// A 4-byte big-endian length and a binary frame (TCP after a binary `hello`).
    PrefixedBinary,
    /// A whole WebSocket text message: the frame header (server frames are unmasked) and JSON.
    WsText,
    /// A whole WebSocket binary message: the frame header and a binary frame.
    WsBinary,
}

impl Form {
    /// The form of `encoding` on a TCP stream.
    pub fn tcp(encoding: Encoding) -> Self {
        match encoding {
            Encoding::Json => Form::JsonLine,
            Encoding::Binary => Form::PrefixedBinary,
        }
    }

    /// The form of `encoding` on a WebSocket.
    pub fn ws(encoding: Encoding) -> Self {
        match encoding {
            Encoding::Json => Form::WsText,
            Encoding::Binary => Form::WsBinary,
        }
    }
}

/// A server frame queued for one or many connections.
///
/// Fan-out puts one `Arc<Outgoing>` into every subscriber's [`Outbox`](super::Outbox): each
/// [`Form`] is laid out the first time a connection asks for it, and every other connection
/// writes the same bytes. No subscriber pays for its own encoding or framing, and a delivery
/// costs one queue slot (a pointer).
#[derive(Debug)]
pub struct Outgoing {
    frame: ServerFrame,
    /// The JSON encoding as text (SSE reads it as `&str`); [`Form::Json`] shares its bytes.
    json: OnceLock<Utf8Bytes>,
    /// The other forms, indexed by [`Outgoing::slot`].
    forms: [OnceLock<Bytes>; 5],
}

impl Outgoing {
    /// Wraps `frame`; nothing is encoded yet.
    pub fn new(frame: ServerFrame) -> Arc<Self> {
        Arc::new(Outgoing { frame, json: OnceLock::new(), forms: Default::default() })
    }

    /// An `error` frame for `code`, answering the frame with request id `id`.
    pub fn error(code: ErrorCode, message: impl Into<String>, id: Option<u64>) -> Arc<Self> {
        Self::new(ServerFrame::Error(ErrorFrame::new(code, message, id)))
    }

    /// The frame.
    pub fn frame(&self) -> &ServerFrame {
        &self.frame
    }

    /// The frame's bytes in `encoding`, without any framing (no newline, no length prefix):
    /// a JSON object, or a binary frame starting with its version byte.
    pub fn encoded(&self, encoding: Encoding) -> &Bytes {
        match encoding {
            Encoding::Json => self.json_text().as_ref(),
            Encoding::Binary => self.form(Form::Binary),
        }
    }

    /// The JSON encoding as text (an SSE `data:` line).
    pub fn json_text(&self) -> &Utf8Bytes {
        self.json.get_or_init(|| {
            let mut out = Vec::with_capacity(128);
            self.frame.encode_json(&mut out);
            // serde_json writes UTF-8; the lossy branch is never taken, and never panics.
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                .into()
        })
    }

    /// The frame laid out in `form`.
    pub fn form(&self, form: Form) -> &Bytes {
        let (slot, lay_out): (usize, fn(&Self) -> Bytes) = match form {
            Form::Json => return self.json_text().as_ref(),
            // The bare binary frame is the prefixed one without its prefix: one encoding, one
            // allocation, for TCP and for UDP and byte accounting alike.
            Form::Binary => (0, |o| o.form(Form::PrefixedBinary).slice(binary::PREFIX_LEN..)),
            Form::JsonLine => (1, Self::json_line),
            Form::PrefixedBinary => (2, Self::prefixed_binary),
            Form::WsText => {
                (3, |o| ws_message(OpCode::Data(Data::Text), o.json_text().clone().into()))
            }
            Form::WsBinary => {
                (4, |o| ws_message(OpCode::Data(Data::Binary), o.form(Form::Binary).clone()))
            }
        };
        self.forms[slot].get_or_init(|| lay_out(self))
    }

    fn json_line(&self) -> Bytes {
        let json = self.json_text().as_bytes();
        let mut out = Vec::with_capacity(json.len() + 1);
        out.extend_from_slice(json);
        line::terminate(&mut out);
        out.into()
    }

    fn prefixed_binary(&self) -> Bytes {
        let mut out = Vec::with_capacity(96);
        // max_frame bounds every frame far below the 4 GiB the prefix cannot express.
        let _ = binary::encode_prefixed(&self.frame, &mut out);
        out.into()
    }
}

/// A data message as one whole, unmasked WebSocket frame (FIN set), laid out by tungstenite.
fn ws_message(opcode: OpCode, payload: Bytes) -> Bytes {
    ws_frame(WsFrame::message(payload, opcode, true))
}

/// A WebSocket frame's bytes (server frames are never masked).
pub(crate) fn ws_frame(frame: WsFrame) -> Bytes {
    let mut out = Vec::with_capacity(frame.len());
    // Writing into a Vec cannot fail.
    let _ = frame.format(&mut out);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use enchufe_core::{Message, Pong, RoomName, codec::binary};

    #[test]
    fn encodes_once_and_shares_the_bytes() {
        let out = Outgoing::new(ServerFrame::Pong(Pong { id: Some(3) }));
        let a = out.encoded(Encoding::Json).clone();
        let b = out.form(Form::Json).clone();
        assert_eq!(&a[..], br#"{"type":"pong","id":3}"#);
        assert_eq!(a.as_ptr(), b.as_ptr(), "the second call reuses the first encoding");
    }

    #[test]
    fn stream_forms_carry_their_framing() {
        let out = Outgoing::new(ServerFrame::Pong(Pong { id: Some(3) }));
        assert_eq!(&out.form(Form::JsonLine)[..], b"{\"type\":\"pong\",\"id\":3}\n");
        let prefixed = out.form(Form::PrefixedBinary);
        let (frame, used) = binary::split(prefixed, 1024).unwrap().unwrap();
        assert_eq!((frame, used), (&out.encoded(Encoding::Binary)[..], prefixed.len()));
    }

    #[test]
    fn websocket_forms_are_whole_unmasked_frames() {
        let long = ServerFrame::Message(Message {
            room: RoomName::new("lobby").unwrap(),
            seq: 1,
            from: "s".into(),
            ts: 0,
            body: enchufe_core::Body::Bytes(vec![7; 300]),
        });
        for frame in [ServerFrame::Pong(Pong { id: None }), long] {
            let out = Outgoing::new(frame);
            for (form, opcode, payload) in [
                (Form::WsText, 0x81, out.encoded(Encoding::Json)),
                (Form::WsBinary, 0x82, out.encoded(Encoding::Binary)),
            ] {
                let bytes = out.form(form);
                assert_eq!(bytes[0], opcode, "FIN and the opcode");
                assert_eq!(bytes[1] & 0x80, 0, "not masked");
                assert!(bytes.ends_with(payload), "the payload follows the header");
                let header = bytes.len() - payload.len();
                assert_eq!(header, if payload.len() < 126 { 2 } else { 4 });
            }
        }
    }
}
