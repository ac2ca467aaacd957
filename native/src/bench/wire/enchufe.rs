//! enchufe's side of the adapter: binary v1 frames, and a message parser that borrows the body.

use enchufe_core::{
    Body, ClientFrame, Encoding, Hello, Join, PROTOCOL_VERSION, Ping, Publish, RoomName,
    ServerFrame,
    codec::{Frame, Framing, StreamDecoder, binary},
};

use super::{Event, PublishTemplate};
use crate::bench::BenchError;

/// The largest frame the tool accepts from a server.
const MAX_FRAME: usize = 1 << 20;

/// The first line on TCP: switch the stream to length-prefixed binary frames.
pub(super) const TCP_HELLO: &[u8] = b"{\"type\":\"hello\",\"v\":1,\"encoding\":\"binary\"}\n";

/// `hello` in the binary encoding: on WebSocket asking for batches (length-prefixed frames, as
/// many as the server has queued, in one message), on UDP with the challenge's cookie.
pub(super) fn hello(cookie: Option<String>, batch: bool) -> Vec<u8> {
    let hello = Hello {
        v: PROTOCOL_VERSION,
        encoding: Encoding::Binary,
        cookie,
        batch,
        ..Hello::default()
    };
    ClientFrame::Hello(hello).encode_binary_vec()
}

/// `join` for `room`, unprefixed.
pub(super) fn join(room: &RoomName) -> Vec<u8> {
    ClientFrame::Join(Join { room: room.clone(), since: None, id: None, epoch: None })
        .encode_binary_vec()
}

/// `ping`, unprefixed: its `pong` comes after the server handled everything sent before it.
pub(super) fn ping() -> Vec<u8> {
    ClientFrame::Ping(Ping { id: None }).encode_binary_vec()
}

/// A `publish` of `size` bytes to `room` without an id (fire-and-forget, like NATS `PUB`),
/// with a length prefix when `prefixed` (TCP).
pub(super) fn publish(room: &RoomName, size: usize, prefixed: bool) -> PublishTemplate {
    let frame = ClientFrame::Publish(Publish {
        room: room.clone(),
        body: Body::Bytes(vec![0; size]),
        id: None,
    });
    let mut bytes = Vec::new();
    if prefixed {
        // A frame of this size always fits the prefix; an error would only leave it unprefixed.
        let _ = binary::encode_prefixed(&frame, &mut bytes);
    } else {
        frame.encode_binary(&mut bytes);
    }
    // The body is last but for the absent id's presence byte.
    let at = bytes.len() - 1 - size;
    PublishTemplate { bytes, payload: at..at + size }
}

/// Cuts length-prefixed frames off `buf` with core's stream decoder (the server's side of a
/// binary TCP stream is prefixed from its first byte, as is a WebSocket batch), handing each to
/// [`frame`]; returns the bytes used.
pub(super) fn stream(buf: &[u8], on: &mut impl FnMut(Event<'_>)) -> Result<usize, BenchError> {
    let mut decoder = StreamDecoder::new(Framing::Prefixed, MAX_FRAME);
    let mut used = 0;
    loop {
        let split = decoder.split(&buf[used..]).map_err(|e| BenchError::Protocol(e.to_string()))?;
        used += split.used;
        match split.frame {
            Some(one) => frame(one, on),
            None => return Ok(used),
        }
    }
}

/// One binary server frame as an [`Event`]. A `message` is read in place (its body borrowed,
/// nothing allocated); the rare others go through the core decoder.
pub(super) fn frame(frame: &[u8], on: &mut impl FnMut(Event<'_>)) {
    const MESSAGE: u8 = 0x85;
    const JOINED: u8 = 0x83;
    const PONG: u8 = 0x89;
    const ERROR: u8 = 0x8A;
    match frame.get(1) {
        Some(&MESSAGE) => match message_body(frame) {
            Some(body) => on(Event::Payload(body)),
            None => on(Event::Error("a message frame that does not parse".into())),
        },
        Some(&JOINED | &PONG) => on(Event::Ready),
        Some(&ERROR) => match ServerFrame::decode_binary(frame) {
            Ok(ServerFrame::Error(e)) => on(Event::Error(format!("{} {}", e.code, e.message))),
            _ => on(Event::Error("an error frame that does not decode".into())),
        },
        _ => on(Event::Other),
    }
}

/// The body of a binary `message`: version, kind, room, seq, from, ts, then the body's kind and
/// length-prefixed bytes (docs/PROTOCOL.md, "The binary encoding").
fn message_body(frame: &[u8]) -> Option<&[u8]> {
    let mut rest = frame.get(2..)?;
    skip_string(&mut rest)?; // room
    varint(&mut rest)?; // seq
    skip_string(&mut rest)?; // from
    varint(&mut rest)?; // ts
    rest = rest.get(1..)?; // body kind
    let len = usize::try_from(varint(&mut rest)?).ok()?;
    rest.get(..len)
}

fn varint(rest: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &byte) in rest.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *rest = &rest[i + 1..];
            return Some(value);
        }
    }
    None
}

fn skip_string(rest: &mut &[u8]) -> Option<()> {
    let len = usize::try_from(varint(rest)?).ok()?;
    *rest = rest.get(len..)?;
    Some(())
}

/// Encoding to a fresh buffer (setup frames only).
trait EncodeVec {
    fn encode_binary_vec(&self) -> Vec<u8>;
}

impl EncodeVec for ClientFrame {
    fn encode_binary_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_binary(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use enchufe_core::Message;

    #[test]
    fn the_message_parser_finds_the_body_the_core_encoder_wrote() {
        let body: Vec<u8> = (0..200).map(|i| i as u8).collect();
        let message = ServerFrame::Message(Message {
            room: RoomName::new("bench").unwrap(),
            seq: 300_000,
            from: "s-1234".into(),
            ts: 1_700_000_000_000,
            body: Body::Bytes(body.clone()),
        });
        let mut framed = Vec::new();
        binary::encode_prefixed(&message, &mut framed).unwrap();
        framed.extend_from_slice(&framed.clone()[..7]); // and the start of another
        let mut seen = Vec::new();
        let used = stream(&framed, &mut |e| {
            if let Event::Payload(p) = e {
                seen.push(p.to_vec())
            }
        })
        .unwrap();
        assert_eq!(seen, vec![body]);
        assert_eq!(used, framed.len() - 7);
    }

    #[test]
    fn the_publish_template_decodes_with_the_payload_in_place() {
        let room = RoomName::new("bench").unwrap();
        let mut t = publish(&room, 64, false);
        t.bytes[t.payload.clone()].copy_from_slice(&[7; 64]);
        let ClientFrame::Publish(p) = ClientFrame::decode_binary(&t.bytes).unwrap() else {
            panic!("not a publish")
        };
        assert!(matches!(p.body, Body::Bytes(b) if b == vec![7; 64]));
        let t = publish(&room, 64, true);
        assert_eq!(
            u32::from_be_bytes(t.bytes[..4].try_into().unwrap()) as usize,
            t.bytes.len() - 4
        );
    }
}
