//! Frames ↔ WebSocket messages: which encoding each frame travels in.
//!
//! The client sends one frame per message: a text message is one JSON frame and a binary message
//! one binary frame (docs/DECISIONS.md, "Transports"). It asks for batches, so a message from
//! the server holds one frame or several: JSON lines in a text message, length-prefixed binary
//! frames in a binary one (docs/PROTOCOL.md, "Batches"), all decoded from the one `message`
//! event. The client sends JSON unless it was built with `encoding: "binary"`, except
//! that a publish with a bytes body always goes binary: JSON would carry the bytes as base64,
//! a third larger. The server answers in the encoding of the client's last frame, so frames
//! of both kinds arrive and each is decoded by its kind.

use enchufe_core::codec::{Frame, batch};
use enchufe_core::{Body, ClientFrame, ServerFrame};

/// One WebSocket message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wire {
    /// A text message: one JSON frame (to the server), JSON lines (from it).
    Text(String),
    /// A binary message: one binary frame without length prefix (to the server), length-prefixed
    /// binary frames (from it).
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

/// The largest frame split out of a batch (the server's are far smaller).
const MAX_FRAME: usize = 16 << 20;

/// Decodes a message from the server: every frame of its batch, in order, each decoded or the
/// reason it is not.
pub fn decode(wire: &Wire) -> Vec<Result<ServerFrame, String>> {
    let (bytes, encoding) = match wire {
        Wire::Text(text) => (text.as_bytes(), enchufe_core::Encoding::Json),
        Wire::Binary(bytes) => (&bytes[..], enchufe_core::Encoding::Binary),
    };
    batch::decode(bytes, encoding, MAX_FRAME)
        .map(|frame| frame.map_err(|e| e.to_string()))
        .collect()
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
        enchufe_core::codec::binary::encode_prefixed(&ack, &mut bytes).unwrap();
        enchufe_core::codec::binary::encode_prefixed(&ack, &mut bytes).unwrap();
        assert_eq!(decode(&Wire::Binary(bytes)), vec![Ok(ack.clone()), Ok(ack.clone())]);
        let text = r#"{"type":"ack","id":4,"room":"lobby","seq":9}"#;
        assert_eq!(decode(&Wire::Text(format!("{text}\n{text}"))), vec![Ok(ack.clone()), Ok(ack)]);
        assert!(decode(&Wire::Text("{not json".into()))[0].is_err());
        assert!(decode(&Wire::Binary(vec![0, 0, 0, 3, 9, 9, 9]))[0].is_err());
        assert!(decode(&Wire::Binary(vec![0, 0, 0, 9, 1]))[0].is_err(), "cut short");
    }

    #[test]
    fn encoding_names() {
        assert_eq!(Encoding::from_name("json"), Some(Encoding::Json));
        assert_eq!(Encoding::from_name("binary"), Some(Encoding::Binary));
        assert_eq!(Encoding::from_name("JSON"), None);
    }
}
