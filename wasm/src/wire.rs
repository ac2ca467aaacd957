//! Frames ↔ WebSocket messages, in the binary encoding only.
//!
//! The client sends one binary frame per binary message (docs/DECISIONS.md, "Transports"); the
//! server answers in the encoding of the client's last frame, so every answer is binary too. It
//! asks for batches, so a message from the server holds one frame or several, length-prefixed
//! (docs/PROTOCOL.md, "Batches"), all decoded from the one `message` event.
//!
//! Binary only, because JSON would bring serde_json into the package, most of its size: JSON
//! bodies stay JSON text inside binary frames, and the browser's own `JSON.parse` and
//! `JSON.stringify` turn them into values (docs/DECISIONS.md, "The browser package's size").

use crate::prelude::*;
use enchufe_core::codec::{Frame, batch};
use enchufe_core::{ClientFrame, Encoding, ServerFrame};

/// The largest frame split out of a batch (the server's are far smaller). Below 2^24, so a
/// batch's first byte (the high byte of its first length prefix) is always 0.
const MAX_FRAME: usize = 16 << 20;

/// Encodes `frame` as the binary message to send.
pub fn encode(frame: &ClientFrame) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    frame.encode_binary(&mut out);
    out
}

/// Decodes a binary message from the server: every frame of its batch, in order (an iterator),
/// each decoded or the name of the error code that says why not (a `&'static str`: no
/// formatting code).
///
/// A message before the server took the `hello` (which asks for batches) is one bare frame,
/// as the refusal of a `hello` without the token a server requires: it starts with the version
/// byte (1), where a batch starts with 0 (see [`MAX_FRAME`]).
pub fn decode(message: &[u8]) -> impl Iterator<Item = Result<ServerFrame, &'static str>> + '_ {
    let bare = message.first() == Some(&enchufe_core::codec::binary::VERSION);
    // The frames' bytes (the message itself when bare), each decoded at one place.
    let single = bare.then_some(Ok(message));
    let batched = if bare { &[][..] } else { message };
    let frames = batch::frames(batched, Encoding::Binary, MAX_FRAME)
        .map(|frame| frame.map_err(|e| e.code().name()));
    single
        .into_iter()
        .chain(frames)
        .map(|frame| ServerFrame::decode_binary(frame?).map_err(|e| e.code().name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use enchufe_core::{Ack, Body, Join, JsonText, Publish, RoomName};

    fn room() -> RoomName {
        RoomName::new("lobby").unwrap()
    }

    #[test]
    fn frames_go_binary_json_bodies_as_text() {
        let join =
            ClientFrame::Join(Join { room: room(), since: Some(3), id: Some(2), epoch: None });
        assert_eq!(ClientFrame::decode_binary(&encode(&join)).unwrap(), join);
        let body = Body::Json(JsonText::new(r#"{"a":1}"#).unwrap());
        let publish = ClientFrame::Publish(Publish { room: room(), body, id: Some(1) });
        assert_eq!(ClientFrame::decode_binary(&encode(&publish)).unwrap(), publish);
    }

    #[test]
    fn decodes_a_batch_and_names_what_is_wrong() {
        let ack = ServerFrame::Ack(Ack { id: 4, room: room(), seq: 9 });
        let mut bytes = Vec::new();
        enchufe_core::codec::binary::encode_prefixed(&ack, &mut bytes).unwrap();
        enchufe_core::codec::binary::encode_prefixed(&ack, &mut bytes).unwrap();
        let decode = |bytes: &[u8]| decode(bytes).collect::<Vec<_>>();
        assert_eq!(decode(&bytes), vec![Ok(ack.clone()), Ok(ack.clone())]);
        let mut bare = Vec::new();
        ack.encode_binary(&mut bare);
        assert_eq!(decode(&bare), vec![Ok(ack.clone())], "a frame before batching began");
        assert_eq!(decode(&[0, 0, 0, 3, 9, 9, 9]), vec![Err("unsupported_version")]);
        assert_eq!(decode(&[0, 0, 0, 9, 1]), vec![Err("malformed")], "cut short");
    }
}
