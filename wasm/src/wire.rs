//! Frames ↔ WebSocket messages: which encoding each frame travels in.
//!
//! A text message is one JSON frame and a binary message one binary frame (docs/DECISIONS.md,
//! "Transports"). The client sends JSON unless it was built with `encoding: "binary"`, except
//! that a publish with a bytes body always goes binary: JSON would carry the bytes as base64,
//! a third larger. The server answers in the encoding of the client's last frame, so frames
//! of both kinds arrive and each is decoded by its kind.

use enchufe_core::codec::{DecodeError, Frame};
use enchufe_core::{Body, ClientFrame, ServerFrame};

/// One WebSocket message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wire {
    /// A text message: one JSON frame.
    Text(String),
    /// A binary message: one binary frame, without length prefix.
    Binary(Vec<u8>),
}

/// The encoding a client prefers for its frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// JSON text messages (readable in the browser's network panel).
    #[default]
    Json,
    /// Binary messages (smaller, cheaper to parse).
    Binary,
}

impl Encoding {
    /// The encoding named `name` in the JavaScript options (`"json"` or `"binary"`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "json" => Some(Encoding::Json),
            "binary" => Some(Encoding::Binary),
            _ => None,
        }
    }
}

/// Encodes `frame` as the message to send, in `preferred` encoding unless it publishes bytes.
pub fn encode(frame: &ClientFrame, preferred: Encoding) -> Wire {
    let binary = preferred == Encoding::Binary
        || matches!(frame, ClientFrame::Publish(p) if matches!(p.body, Body::Bytes(_)));
    let mut out = Vec::with_capacity(64);
    if binary {
        frame.encode_binary(&mut out);
        Wire::Binary(out)
    } else {
        frame.encode_json(&mut out);
        Wire::Text(String::from_utf8(out).expect("serde_json writes UTF-8 only"))
    }
}

/// Decodes a message from the server.
pub fn decode(wire: &Wire) -> Result<ServerFrame, DecodeError> {
    match wire {
        Wire::Text(text) => ServerFrame::decode_json(text.as_bytes()),
        Wire::Binary(bytes) => ServerFrame::decode_binary(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use enchufe_core::{Ack, Join, Publish, RoomName};

    fn room() -> RoomName {
        RoomName::new("lobby").unwrap()
    }

    fn publish(body: Body) -> ClientFrame {
        ClientFrame::Publish(Publish { room: room(), body, id: Some(1) })
    }

    #[test]
    fn json_by_default_binary_when_asked() {
        let join =
            ClientFrame::Join(Join { room: room(), since: Some(3), id: Some(2), epoch: None });
        assert_eq!(
            encode(&join, Encoding::Json),
            Wire::Text(r#"{"type":"join","room":"lobby","since":3,"id":2}"#.into())
        );
        let Wire::Binary(bytes) = encode(&join, Encoding::Binary) else { panic!("not binary") };
        assert_eq!(ClientFrame::decode_binary(&bytes).unwrap(), join);
    }

    #[test]
    fn a_bytes_publish_always_goes_binary() {
        let frame = publish(Body::Bytes(vec![0, 255, 7]));
        let Wire::Binary(bytes) = encode(&frame, Encoding::Json) else { panic!("not binary") };
        assert_eq!(ClientFrame::decode_binary(&bytes).unwrap(), frame);
        let json = publish(Body::from_json_text(r#"{"a":1}"#).unwrap());
        assert!(matches!(encode(&json, Encoding::Json), Wire::Text(_)));
    }

    #[test]
    fn decodes_either_kind_and_rejects_garbage() {
        let ack = ServerFrame::Ack(Ack { id: 4, room: room(), seq: 9 });
        let mut bytes = Vec::new();
        ack.encode_binary(&mut bytes);
        assert_eq!(decode(&Wire::Binary(bytes)).unwrap(), ack);
        let text = r#"{"type":"ack","id":4,"room":"lobby","seq":9}"#;
        assert_eq!(decode(&Wire::Text(text.into())).unwrap(), ack);
        assert!(decode(&Wire::Text("{not json".into())).is_err());
        assert!(decode(&Wire::Binary(vec![9, 9, 9])).is_err());
    }

    #[test]
    fn encoding_names() {
        assert_eq!(Encoding::from_name("json"), Some(Encoding::Json));
        assert_eq!(Encoding::from_name("binary"), Some(Encoding::Binary));
        assert_eq!(Encoding::from_name("JSON"), None);
    }
}
