//! The JSON encoding: one frame is one JSON object tagged by `"type"`.

use crate::prelude::*;
use std::borrow::Cow;

use serde::{Deserialize, de::DeserializeOwned};

use super::DecodeError;
use crate::{ClientFrame, RoomName, ServerFrame};

/// Appends the JSON encoding of `frame` to `out`.
pub fn encode(frame: &impl serde::Serialize, out: &mut Vec<u8>) {
    // Our frames serialize to JSON infallibly: string keys only, and every body is valid JSON
    // (RawValue) or base64 text. Writing to a Vec cannot fail.
    serde_json::to_writer(out, frame).expect("enchufe frames always serialize to JSON");
}

/// `value` as one line of JSON text, for printing (the command line's messages and reports).
///
/// The one fallback for JSON that cannot be written: what this crate defines serializes
/// infallibly (string keys, bodies that are valid JSON), so the fallback is for a type that
/// does not — it becomes `{"error":"…"}` with serde's reason, escaped, still one line of JSON,
/// rather than an empty line, a hand-made string that breaks on a quote, or a panic.
pub fn to_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|error| serde_json::json!({ "error": error.to_string() }).to_string())
}

/// The JSON encoding of `frame` as a new buffer.
pub fn to_vec(frame: &impl serde::Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    encode(frame, &mut out);
    out
}

/// Decodes a frame a client sent.
pub fn decode_client(bytes: &[u8]) -> Result<ClientFrame, DecodeError> {
    let head = Head::read(bytes)?;
    Ok(match head.kind.as_deref().unwrap_or_default() {
        "hello" => ClientFrame::Hello(head.body(bytes)?),
        "join" => ClientFrame::Join(head.body(bytes)?),
        "leave" => ClientFrame::Leave(head.body(bytes)?),
        "publish" => ClientFrame::Publish(head.body(bytes)?),
        "history" => ClientFrame::History(head.body(bytes)?),
        "ping" => ClientFrame::Ping(head.body(bytes)?),
        "refresh" => ClientFrame::Refresh(head.body(bytes)?),
        _ => return Err(head.unknown()),
    })
}

/// Decodes a frame a server sent.
pub fn decode_server(bytes: &[u8]) -> Result<ServerFrame, DecodeError> {
    let head = Head::read(bytes)?;
    Ok(match head.kind.as_deref().unwrap_or_default() {
        "welcome" => ServerFrame::Welcome(head.body(bytes)?),
        "challenge" => ServerFrame::Challenge(head.body(bytes)?),
        "joined" => ServerFrame::Joined(head.body(bytes)?),
        "left" => ServerFrame::Left(head.body(bytes)?),
        "message" => ServerFrame::Message(head.body(bytes)?),
        "presence" => ServerFrame::Presence(head.body(bytes)?),
        "ack" => ServerFrame::Ack(head.body(bytes)?),
        "history" => ServerFrame::History(head.body(bytes)?),
        "pong" => ServerFrame::Pong(head.body(bytes)?),
        "refreshed" => ServerFrame::Refreshed(head.body(bytes)?),
        "error" => ServerFrame::Error(head.body(bytes)?),
        _ => return Err(head.unknown()),
    })
}

/// The fields every frame is judged by before its body: its type, and (for a precise error) its
/// request id and room.
///
/// Decoding is two passes: this one, then the frame's own struct. An internally tagged serde
/// enum would do it in one, but it buffers the input, and a buffered body cannot stay
/// [`serde_json::value::RawValue`] (the body is forwarded as the exact text the client sent).
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default, borrow)]
    room: Option<Cow<'a, str>>,
}

impl<'a> Head<'a> {
    fn read(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let head: Head<'_> = serde_json::from_slice(bytes).map_err(DecodeError::Json)?;
        if head.kind.is_none() {
            return Err(DecodeError::MissingType);
        }
        if let Some(room) = &head.room {
            RoomName::validate(room)
                .map_err(|error| DecodeError::InvalidRoom { error, id: head.request_id() })?;
        }
        Ok(head)
    }

    fn request_id(&self) -> Option<u64> {
        self.id.as_ref().and_then(serde_json::Value::as_u64)
    }

    /// The frame itself, now that its type is known; an error carries the request id.
    fn body<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, DecodeError> {
        serde_json::from_slice(bytes)
            .map_err(|error| DecodeError::Fields { error, id: self.request_id() })
    }

    fn unknown(&self) -> DecodeError {
        DecodeError::UnknownType {
            kind: self.kind.as_deref().unwrap_or_default().chars().take(32).collect(),
            id: self.request_id(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, ErrorCode, Join, Publish};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn text_that_cannot_be_written_is_an_error_object() {
        assert_eq!(
            to_text(&ServerFrame::Pong(crate::Pong { id: Some(1) })),
            r#"{"type":"pong","id":1}"#
        );
        // Keys that are not strings: still one line of JSON, the reason escaped in it.
        let map = std::collections::BTreeMap::from([(vec![1u8], 2u8)]);
        let text = to_text(&map);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(value["error"].as_str().is_some_and(|e| e.contains("key")), "{text}");
    }

    #[test]
    fn decodes_a_join_and_ignores_unknown_fields() {
        let frame = decode_client(br#"{"type":"join","room":"lobby","since":3,"x":1}"#).unwrap();
        assert_eq!(
            frame,
            ClientFrame::Join(Join {
                room: RoomName::new("lobby").unwrap(),
                since: Some(3),
                id: None,
                epoch: None,
            })
        );
    }

    #[test]
    fn keeps_the_body_text_verbatim() {
        let frame =
            decode_client(br#"{"type":"publish","room":"r","body":{"b": [1, 2]},"id":7}"#).unwrap();
        let ClientFrame::Publish(Publish { body, id, .. }) = &frame else { panic!("{frame:?}") };
        assert_eq!(body.as_json_text(), Some(r#"{"b": [1, 2]}"#));
        assert_eq!(*id, Some(7));
        assert_eq!(
            String::from_utf8(to_vec(&frame)).unwrap(),
            r#"{"type":"publish","room":"r","body":{"b": [1, 2]},"id":7}"#
        );
    }

    #[test]
    fn bytes_bodies_travel_as_base64() {
        let frame = ClientFrame::Publish(Publish {
            room: RoomName::new("r").unwrap(),
            body: Body::Bytes(vec![0, 255, 1]),
            id: None,
        });
        let text = String::from_utf8(to_vec(&frame)).unwrap();
        assert_eq!(text, r#"{"type":"publish","room":"r","bytes":"AP8B"}"#);
        assert_eq!(decode_client(text.as_bytes()).unwrap(), frame);
    }

    #[test]
    fn errors_are_typed_with_the_request_id() {
        let err = decode_client(br#"{"type":"dance","id":4}"#).unwrap_err();
        assert_eq!((err.code(), err.id()), (ErrorCode::UnknownType, Some(4)));
        let err = decode_client(br#"{"type":"join","room":"no spaces","id":5}"#).unwrap_err();
        assert_eq!((err.code(), err.id()), (ErrorCode::InvalidRoom, Some(5)));
        let err = decode_client(br#"{"room":"r"}"#).unwrap_err();
        assert!(matches!(err, DecodeError::MissingType));
        // A known type with wrong fields: malformed, and still answered with its id.
        let both = br#"{"type":"publish","room":"r","id":61,"body":1,"bytes":"AP8B"}"#;
        let err = decode_client(both).unwrap_err();
        assert_eq!((err.code(), err.id()), (ErrorCode::Malformed, Some(61)));
        for bad in [
            &b"not json"[..],
            b"[1,2]",
            b"{\"type\":3}",
            b"",
            b"{\"type\":\"publish\",\"room\":\"r\"}",
        ] {
            assert_eq!(decode_client(bad).unwrap_err().code(), ErrorCode::Malformed, "{bad:?}");
        }
    }
}
