//! A server frame on its way out, laid out at most once per wire form.

use std::sync::{Arc, OnceLock};

use async_tungstenite::tungstenite::{
    Utf8Bytes,
    protocol::frame::{
        Frame as WsFrame, FrameHeader,
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
/// vectored write, with no per-subscriber framing, copy or allocation. The three JSON forms are
/// one allocation (`[WebSocket header][JSON]\n`, sliced), and so are the bare and prefixed
/// binary ones: a frame's wire bytes are held once per encoding, plus a WebSocket binary copy.
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
/// Fan-out puts one `Arc<Outgoing>` into every subscriber's [`SendQueue`](super::SendQueue): each
/// [`Form`] is laid out the first time a connection asks for it, and every other connection
/// writes the same bytes. No subscriber pays for its own encoding or framing, and a delivery
/// costs one queue slot (a pointer).
#[derive(Debug)]
pub struct Outgoing {
    frame: ServerFrame,
    /// [`Form::Json`], [`Form::JsonLine`] and [`Form::WsText`]: slices of one buffer.
    json: OnceLock<[Bytes; 3]>,
    /// The JSON encoding as text (an SSE `data:` line): the same bytes as [`Form::Json`].
    text: OnceLock<Utf8Bytes>,
    /// [`Form::Binary`] (a slice of the next), [`Form::PrefixedBinary`], [`Form::WsBinary`].
    binary: [OnceLock<Bytes>; 3],
}

/// Room left before the JSON for a WebSocket header: a server's is at most 10 bytes (2, and
/// 8 of length; never a mask).
const WS_HEADROOM: usize = 10;

impl Outgoing {
    /// Wraps `frame`; nothing is encoded yet.
    pub fn new(frame: ServerFrame) -> Arc<Self> {
        Arc::new(Outgoing {
            frame,
            json: OnceLock::new(),
            text: OnceLock::new(),
            binary: Default::default(),
        })
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
            Encoding::Json => self.form(Form::Json),
            Encoding::Binary => self.form(Form::Binary),
        }
    }

    /// The JSON encoding as text (an SSE `data:` line).
    pub fn json_text(&self) -> &Utf8Bytes {
        self.text.get_or_init(|| {
            let json = self.form(Form::Json).clone();
            // serde_json writes UTF-8; the lossy branch is never taken, and never panics.
            Utf8Bytes::try_from(json.clone())
                .unwrap_or_else(|_| String::from_utf8_lossy(&json).into_owned().into())
        })
    }

    /// The frame laid out in `form`.
    pub fn form(&self, form: Form) -> &Bytes {
        let (slot, lay_out): (usize, fn(&Self) -> Bytes) = match form {
            Form::Json => return &self.json_forms()[0],
            Form::JsonLine => return &self.json_forms()[1],
            Form::WsText => return &self.json_forms()[2],
            // The bare binary frame is the prefixed one without its prefix: one encoding, one
            // allocation, for TCP and for UDP and byte accounting alike.
            Form::Binary => (0, |o| o.form(Form::PrefixedBinary).slice(binary::PREFIX_LEN..)),
            Form::PrefixedBinary => (1, Self::prefixed_binary),
            Form::WsBinary => {
                (2, |o| ws_message(OpCode::Data(Data::Binary), o.form(Form::Binary).clone()))
            }
        };
        self.binary[slot].get_or_init(|| lay_out(self))
    }

    /// Encodes the JSON once, into `[headroom][JSON]\n`, writes the WebSocket text header
    /// right before the JSON, and slices the three forms out of that one buffer.
    fn json_forms(&self) -> &[Bytes; 3] {
        self.json.get_or_init(|| {
            let mut out = vec![0; WS_HEADROOM];
            out.reserve(128);
            self.frame.encode_json(&mut out);
            let len = out.len() - WS_HEADROOM;
            let mut header = Vec::with_capacity(WS_HEADROOM);
            let text = FrameHeader { opcode: OpCode::Data(Data::Text), ..FrameHeader::default() };
            // Writing into a Vec cannot fail; a server header is at most WS_HEADROOM bytes.
            let _ = text.format(len as u64, &mut header);
            let head = WS_HEADROOM - header.len();
            out[head..WS_HEADROOM].copy_from_slice(&header);
            line::terminate(&mut out);
            let buf = Bytes::from(out);
            let end = buf.len() - 1;
            [buf.slice(WS_HEADROOM..end), buf.slice(WS_HEADROOM..), buf.slice(head..end)]
        })
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
        let line = out.form(Form::JsonLine);
        let ws = out.form(Form::WsText);
        assert_eq!(line.as_ptr(), a.as_ptr(), "the line is the JSON and its newline");
        assert_eq!(ws[ws.len() - a.len()..].as_ptr(), a.as_ptr(), "the header is right before");
        assert_eq!(out.json_text().as_str().as_ptr(), a.as_ptr(), "the text is the same bytes");
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
