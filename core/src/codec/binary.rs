//! The binary encoding, version 1: the same frames as JSON, compact and cheap to parse.
//!
//! Used for WebSocket binary messages, UDP datagrams that start with the version byte, and TCP
//! after `hello` with `"encoding":"binary"` (then each frame is length-prefixed, see [`split`]).
//! docs/PROTOCOL.md describes it byte by byte for client authors in other languages.
//!
//! A frame is:
//!
//! | bytes | meaning |
//! |---|---|
//! | 1 | version, [`VERSION`] (`0x01`) |
//! | 1 | kind: client frames `0x01`–`0x06`, server frames `0x81`–`0x8A` |
//! | … | the frame's fields in declaration order, nothing after them |
//!
//! Fields: integers are unsigned LEB128 varints in their shortest form (at most 10 bytes);
//! strings are a varint byte length then UTF-8; an optional field is a presence byte (0 or 1)
//! then the value when present; a list is a varint count then the items; `bool` and the enums
//! (`encoding`, `action`) are one byte; a body is a kind byte (0 JSON text, 1 raw bytes), a
//! varint length and the bytes.
//!
//! Every frame therefore has exactly one encoding, and decoding is one pass over a borrowed
//! buffer: lengths and counts are checked against the bytes left before any allocation.
//! Encoding appends to the caller's buffer, so the server can encode a message once and share
//! the bytes among all its subscribers.

mod decode;
mod encode;
mod framing;
mod kind;
mod reader;

pub use decode::{decode_client, decode_server};
pub use encode::{encode_client, encode_server};
pub use framing::{PREFIX_LEN, encode_prefixed, finish, split};

use super::BinaryError;

/// The version byte every binary frame starts with.
pub const VERSION: u8 = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::DecodeError;
    use crate::prelude::*;
    use crate::{
        Body, ClientFrame, ErrorCode, Join, Message, Publish, RoomName, RoomNameError, ServerFrame,
    };
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn room(name: &str) -> RoomName {
        RoomName::new(name).unwrap()
    }

    fn client_bytes(frame: &ClientFrame) -> Vec<u8> {
        let mut out = Vec::new();
        encode_client(frame, &mut out);
        out
    }

    fn server_bytes(frame: &ServerFrame) -> Vec<u8> {
        let mut out = Vec::new();
        encode_server(frame, &mut out);
        out
    }

    /// The worked example of docs/PROTOCOL.md.
    #[test]
    fn publish_layout_is_as_documented() {
        let frame = ClientFrame::Publish(Publish {
            room: room("lobby"),
            body: Body::Json(crate::JsonText::new(r#"{"text":"hi"}"#).unwrap()),
            id: Some(7),
        });
        let expected = [
            0x01, 0x04, // version 1, kind publish
            0x05, b'l', b'o', b'b', b'b', b'y', // room: length 5, "lobby"
            0x00, 0x0d, // body: JSON, 13 bytes
            b'{', b'"', b't', b'e', b'x', b't', b'"', b':', b'"', b'h', b'i', b'"', b'}', 0x01,
            0x07, // id: present, 7
        ];
        assert_eq!(client_bytes(&frame), expected);
        assert_eq!(decode_client(&expected).unwrap(), frame);
    }

    /// The second worked example of docs/PROTOCOL.md: multi-byte varints and a bytes body.
    #[test]
    fn message_layout_is_as_documented() {
        let frame = ServerFrame::Message(Message {
            room: room("lobby"),
            seq: 300,
            from: "ana".into(),
            ts: 1_700_000_000_000,
            body: Body::Bytes(vec![0xde, 0xad]),
        });
        let expected = [
            0x01, 0x85, // version 1, kind message
            0x05, b'l', b'o', b'b', b'b', b'y', // room
            0xac, 0x02, // seq 300
            0x03, b'a', b'n', b'a', // from
            0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31, // ts 1700000000000
            0x01, 0x02, 0xde, 0xad, // body: bytes, 2 bytes
        ];
        assert_eq!(server_bytes(&frame), expected);
        assert_eq!(decode_server(&expected).unwrap(), frame);
    }

    fn binary_err(result: Result<impl core::fmt::Debug, DecodeError>) -> BinaryError {
        match result {
            Err(DecodeError::Binary(err)) => err,
            other => panic!("expected a binary error, got {other:?}"),
        }
    }

    #[test]
    fn each_malformation_has_its_error() {
        use BinaryError::*;
        assert_eq!(binary_err(decode_client(&[])), Truncated);
        assert_eq!(binary_err(decode_client(&[0x01])), Truncated);
        assert_eq!(binary_err(decode_client(&[0x02, 0x06, 0x00])), UnsupportedVersion(2));
        assert_eq!(binary_err(decode_client(b"{\"type\":\"ping\"}")), UnsupportedVersion(b'{'));
        // ping whose id varint never ends / overflows / is padded
        assert_eq!(binary_err(decode_client(&[0x01, 0x06, 0x01, 0x80])), Truncated);
        let overflow =
            [0x01, 0x06, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert_eq!(binary_err(decode_client(&overflow)), VarintOverflow);
        assert_eq!(binary_err(decode_client(&[0x01, 0x06, 0x01, 0x81, 0x00])), NonMinimalVarint);
        // ping with a presence byte of 2, then with a byte after its last field
        assert_eq!(
            binary_err(decode_client(&[0x01, 0x06, 0x02])),
            InvalidTag { field: "id", value: 2 }
        );
        assert_eq!(binary_err(decode_client(&[0x01, 0x06, 0x00, 0x00])), TrailingBytes(1));
        // join whose room claims 9 bytes of 2, then is not UTF-8
        assert_eq!(binary_err(decode_client(&[0x01, 0x02, 0x09, b'a', b'b'])), BadLength(9));
        assert_eq!(binary_err(decode_client(&[0x01, 0x02, 0x01, 0xff, 0, 0])), InvalidUtf8);
        // publish with a JSON body that is not JSON, and with an unknown body kind
        let publish = |kind: u8, body: &[u8]| {
            let mut frame = vec![0x01, 0x04, 0x01, b'r', kind, body.len() as u8];
            frame.extend_from_slice(body);
            frame.push(0x00);
            decode_client(&frame)
        };
        assert_eq!(binary_err(publish(0, b"{oops}")), InvalidJsonBody);
        assert_eq!(binary_err(publish(2, b"")), InvalidTag { field: "body kind", value: 2 });
        // error frame whose code does not fit a u16
        assert_eq!(
            binary_err(decode_server(&[0x01, 0x8a, 0x80, 0x80, 0x04, 0x00, 0x00])),
            OutOfRange { field: "code", value: 65536 }
        );
        // joined announcing more members than its bytes can hold
        assert_eq!(
            binary_err(decode_server(&[0x01, 0x83, 0x01, b'r', 0x00, 0x05, 0x00, 0x00])),
            BadLength(5)
        );
    }

    #[test]
    fn another_format_version_is_an_unsupported_version() {
        let err = decode_client(&[0x02, 0x06, 0x00]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnsupportedVersion);
        assert!(err.code().is_fatal());
    }

    #[test]
    fn unknown_and_misdirected_kinds_are_unknown_types() {
        let err = decode_client(&[0x01, 0x7f]).unwrap_err();
        assert!(matches!(&err, DecodeError::UnknownType { kind, id: None } if kind == "127"));
        assert_eq!(err.code(), ErrorCode::UnknownType);
        // A server's message sent to a server is named, as a JSON one would be.
        let message = [0x01, 0x85, 0x01, b'r', 0x01, 0x00, 0x01, 0x01, 0x00];
        assert!(decode_server(&message).is_ok());
        let err = decode_client(&message).unwrap_err();
        assert!(matches!(&err, DecodeError::UnknownType { kind, .. } if kind == "message"));
        let err = decode_server(&[0x01, 0x01]).unwrap_err();
        assert!(matches!(&err, DecodeError::UnknownType { kind, .. } if kind == "hello"));
    }

    #[test]
    fn an_invalid_room_is_reported_with_the_request_id() {
        // join "a b" with id 9
        let err = decode_client(&[0x01, 0x02, 0x03, b'a', b' ', b'b', 0x00, 0x01, 0x09, 0x00])
            .unwrap_err();
        assert_eq!((err.code(), err.id()), (ErrorCode::InvalidRoom, Some(9)));
        assert!(matches!(
            err,
            DecodeError::InvalidRoom {
                error: RoomNameError::InvalidChar { ch: ' ', index: 1 },
                ..
            }
        ));
        // an empty room in a history answer's message, reported with the answer's id
        let history =
            [0x01, 0x88, 0x01, b'r', 0x01, 0x00, 0x01, 0x00, 0x01, 0x01, 0x00, 0x01, 0x04];
        let err = decode_server(&history).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::InvalidRoom { error: RoomNameError::Empty, id: Some(4) }
        ));
        // a frame broken after its bad room is malformed, not an invalid room
        let err = decode_client(&[0x01, 0x02, 0x00, 0x00, 0x01]).unwrap_err();
        assert_eq!(binary_err(Err::<(), _>(err)), BinaryError::Truncated);
    }

    #[test]
    fn encoding_appends_to_the_buffer() {
        let frame = ClientFrame::Join(Join { room: room("r"), since: None, id: None, epoch: None });
        let mut out = vec![0xee];
        encode_client(&frame, &mut out);
        assert_eq!(out, [0xee, 0x01, 0x02, 0x01, b'r', 0x00, 0x00, 0x00]);
    }
}
