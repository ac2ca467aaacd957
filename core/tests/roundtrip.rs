//! Every frame survives both encodings and both stream framings, and no input — random bytes,
//! or a valid encoding cut short or with a bit flipped — panics a decoder or a splitter.
//!
//! Also checks that docs/PROTOCOL.md cannot drift from the code: its error-code table and its
//! worked binary examples are compared with [`ErrorCode::ALL`] and the codec.

// Like the core itself: no clock reads (clippy.toml).
#![deny(clippy::disallowed_methods)]

mod strategies;

use std::fmt::Debug;

use enchufe_core::codec::{DecodeError, Frame, FramingError, binary, json, line};
use enchufe_core::{
    Body, ClientFrame, Encoding, ErrorCode, Message, Pong, Publish, RoomName, ServerFrame,
};
use proptest::{collection::vec, prelude::*, sample::Index};
use strategies::{client_frame, server_frame};

/// Large enough for any generated frame; the limits themselves are unit-tested in the codecs.
const MAX_FRAME: usize = 1 << 20;

/// 256 cases per property keeps the suite fast; `PROPTEST_CASES=100000` searches deeper.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

fn json_bytes<F: Frame>(frame: &F) -> Vec<u8> {
    let mut out = Vec::new();
    frame.encode_json(&mut out);
    out
}

fn binary_bytes<F: Frame>(frame: &F) -> Vec<u8> {
    let mut out = Vec::new();
    frame.encode_binary(&mut out);
    out
}

fn assert_both_encodings_round_trip<F: Frame + PartialEq + Debug>(frame: &F) {
    let text = json_bytes(frame);
    let decoded = F::decode_json(&text);
    assert_eq!(decoded.as_ref().ok(), Some(frame), "JSON {}", String::from_utf8_lossy(&text));

    let bytes = binary_bytes(frame);
    let decoded = F::decode_binary(&bytes);
    assert_eq!(decoded.as_ref().ok(), Some(frame), "binary {bytes:02x?}: {decoded:?}");
}

/// The pieces of `stream` between the given cut points (any order, repeats allowed).
fn chunks<'a>(stream: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(stream.len() + 1)).collect();
    points.extend([0, stream.len()]);
    points.sort_unstable();
    points.windows(2).map(|w| &stream[w[0]..w[1]]).collect()
}

type Split = for<'a> fn(&'a [u8], usize) -> Result<Option<(&'a [u8], usize)>, FramingError>;

/// Reads `stream` the way a transport does, one chunk at a time into a buffer that the
/// splitter drains; returns the decoded frames and checks the stream ends cleanly.
fn read_stream<F: Frame>(
    stream: &[u8],
    cuts: &[Index],
    split: Split,
    finish: fn(&[u8]) -> Result<(), FramingError>,
    decode: fn(&[u8]) -> Result<F, DecodeError>,
) -> Vec<F> {
    let mut buf = Vec::new();
    let mut frames = Vec::new();
    for chunk in chunks(stream, cuts) {
        buf.extend_from_slice(chunk);
        while let Some((frame, used)) = split(&buf, MAX_FRAME).expect("a valid stream") {
            frames.push(decode(frame).expect("a valid frame"));
            buf.drain(..used);
        }
    }
    finish(&buf).expect("the stream ends after its last frame");
    frames
}

fn assert_line_framing_round_trips<F: Frame + PartialEq + Debug>(frames: &[F], cuts: &[Index]) {
    let mut stream = Vec::new();
    for frame in frames {
        frame.encode_json(&mut stream);
        line::terminate(&mut stream);
    }
    let read = read_stream(&stream, cuts, line::split, line::finish, F::decode_json);
    assert_eq!(read, frames);
}

fn assert_prefixed_framing_round_trips<F: Frame + PartialEq + Debug>(frames: &[F], cuts: &[Index]) {
    let mut stream = Vec::new();
    for frame in frames {
        binary::encode_prefixed(frame, &mut stream).expect("frames are far below 4 GiB");
    }
    let read = read_stream(&stream, cuts, binary::split, binary::finish, F::decode_binary);
    assert_eq!(read, frames);
}

/// Feeds `bytes` to every decoder and splitter; none may panic, whatever they return.
fn decode_everything(bytes: &[u8]) {
    let _ = json::decode_client(bytes);
    let _ = json::decode_server(bytes);
    let _ = binary::decode_client(bytes);
    let _ = binary::decode_server(bytes);
    for max in [0, 1, 7, MAX_FRAME] {
        let _ = line::split(bytes, max);
        let _ = binary::split(bytes, max);
    }
    let _ = line::finish(bytes);
    let _ = binary::finish(bytes);
}

/// A damaged encoding either fails or decodes to a frame; a binary frame that still decodes
/// is exactly its own encoding (every frame has one binary encoding), and a JSON frame that
/// still decodes re-encodes on one line to text that is a fixed point of decode + encode.
fn assert_damage_is_handled<F: Frame + PartialEq + Debug>(damaged: &[u8]) {
    decode_everything(damaged);
    if let Ok(frame) = F::decode_binary(damaged) {
        assert_eq!(binary_bytes(&frame), damaged, "{frame:?}");
    }
    if let Ok(frame) = F::decode_json(damaged) {
        let text = json_bytes(&frame);
        assert!(!text.contains(&b'\n'), "{}", String::from_utf8_lossy(&text));
        let again = F::decode_json(&text).expect("an encoded frame decodes");
        assert_eq!(json_bytes(&again), text);
    }
}

/// `bytes` with a prefix kept, or one bit flipped.
fn damage(bytes: &[u8], at: Index, bit: u8, truncate: bool) -> Vec<u8> {
    let mut damaged = bytes.to_vec();
    let at = at.index(damaged.len().max(1));
    if truncate {
        damaged.truncate(at);
    } else if let Some(byte) = damaged.get_mut(at) {
        *byte ^= 1 << (bit % 8);
    }
    damaged
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn client_frames_round_trip_in_both_encodings(frame in client_frame()) {
        assert_both_encodings_round_trip(&frame);
    }

    #[test]
    fn server_frames_round_trip_in_both_encodings(frame in server_frame()) {
        assert_both_encodings_round_trip(&frame);
    }

    #[test]
    fn client_frames_survive_line_framing(
        frames in vec(client_frame(), 1..6),
        cuts in vec(any::<Index>(), 0..8),
    ) {
        assert_line_framing_round_trips(&frames, &cuts);
    }

    #[test]
    fn server_frames_survive_line_framing(
        frames in vec(server_frame(), 1..6),
        cuts in vec(any::<Index>(), 0..8),
    ) {
        assert_line_framing_round_trips(&frames, &cuts);
    }

    #[test]
    fn client_frames_survive_length_prefixed_framing(
        frames in vec(client_frame(), 1..6),
        cuts in vec(any::<Index>(), 0..8),
    ) {
        assert_prefixed_framing_round_trips(&frames, &cuts);
    }

    #[test]
    fn server_frames_survive_length_prefixed_framing(
        frames in vec(server_frame(), 1..6),
        cuts in vec(any::<Index>(), 0..8),
    ) {
        assert_prefixed_framing_round_trips(&frames, &cuts);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_never_panic(
        kind in prop_oneof![1u8..=6, 0x81u8..=0x8a],
        rest in vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = vec![binary::VERSION, kind];
        bytes.extend(rest);
        decode_everything(&bytes);
    }

    #[test]
    fn damaged_client_frames_never_panic(
        frame in client_frame(), at in any::<Index>(), bit in any::<u8>(), truncate in any::<bool>(),
    ) {
        assert_damage_is_handled::<ClientFrame>(&damage(&binary_bytes(&frame), at, bit, truncate));
        assert_damage_is_handled::<ClientFrame>(&damage(&json_bytes(&frame), at, bit, truncate));
    }

    #[test]
    fn damaged_server_frames_never_panic(
        frame in server_frame(), at in any::<Index>(), bit in any::<u8>(), truncate in any::<bool>(),
    ) {
        assert_damage_is_handled::<ServerFrame>(&damage(&binary_bytes(&frame), at, bit, truncate));
        assert_damage_is_handled::<ServerFrame>(&damage(&json_bytes(&frame), at, bit, truncate));
    }
}

/// Found by the properties above: serde reads `null` in an optional field as absent.
#[test]
fn a_null_json_body_is_a_body_not_a_missing_one() {
    let text = br#"{"type":"publish","room":"r","body":null}"#;
    let frame = json::decode_client(text).unwrap();
    assert_eq!(json_bytes(&frame), text);
    assert!(matches!(&frame, ClientFrame::Publish(p) if p.body.as_json_text() == Some("null")));
    assert_both_encodings_round_trip(&frame);
}

/// A body published with line breaks (pretty-printed JSON, e.g. over WebSocket or REST) is
/// forwarded on one line: it must not break newline-delimited JSON for TCP subscribers, and the
/// binary encoding refuses line breaks.
#[test]
fn a_json_body_with_line_breaks_is_forwarded_on_one_line() {
    let publish = json::decode_client(
        b"{\"type\":\"publish\",\"room\":\"r\",\"body\":{\r\n \"a\": [1,\n2]\n}}",
    )
    .unwrap();
    let ClientFrame::Publish(Publish { room, body, .. }) = publish else { panic!("{publish:?}") };
    let message = ServerFrame::Message(Message { room, seq: 1, from: "a".into(), ts: 2, body });
    let one_line = Body::from_json_text(r#"{   "a": [1, 2] }"#).unwrap();

    let text = json_bytes(&message);
    assert!(!text.contains(&b'\n') && !text.contains(&b'\r'), "{}", String::from_utf8_lossy(&text));
    let mut stream = text.clone();
    line::terminate(&mut stream);
    let (line, _) = line::split(&stream, MAX_FRAME).unwrap().unwrap();
    let ServerFrame::Message(decoded) = json::decode_server(line).unwrap() else { panic!() };
    assert_eq!(decoded.body, one_line);

    let ServerFrame::Message(decoded) = binary::decode_server(&binary_bytes(&message)).unwrap()
    else {
        panic!()
    };
    assert_eq!(decoded.body, one_line);
}

const PROTOCOL_MD: &str = include_str!("../../docs/PROTOCOL.md");

/// The error-code table of docs/PROTOCOL.md, as the code defines it.
fn error_code_table() -> String {
    let mut table = String::from("| code | name | fatal | meaning |\n|---|---|---|---|\n");
    for code in ErrorCode::ALL {
        let fatal = if code.is_fatal() { "yes" } else { "no" };
        table += &format!(
            "| {} | `{}` | {fatal} | {} |\n",
            code.code(),
            code.name(),
            code.description()
        );
    }
    table
}

#[test]
fn protocol_md_lists_every_error_code() {
    assert!(
        PROTOCOL_MD.contains(&error_code_table()),
        "docs/PROTOCOL.md must contain this table, generated from core/src/error_code.rs:\n\n{}",
        error_code_table()
    );
}

/// The lines of each ```` ```json ```` block of docs/PROTOCOL.md: one frame per line.
fn json_examples() -> Vec<&'static str> {
    let mut examples = Vec::new();
    let mut lines = PROTOCOL_MD.lines();
    while lines.any(|line| line.trim() == "```json") {
        examples.extend(lines.by_ref().take_while(|line| line.trim() != "```"));
    }
    examples
}

#[test]
fn protocol_md_json_examples_are_frames_in_canonical_form() {
    let examples = json_examples();
    assert!(examples.len() >= 16, "one example per frame type at least: {examples:?}");
    for example in examples {
        // `history` is both a client and a server type: the example is the one that re-encodes.
        let client = json::decode_client(example.as_bytes()).map(|frame| json_bytes(&frame));
        let server = json::decode_server(example.as_bytes()).map(|frame| json_bytes(&frame));
        assert!(
            [&client, &server]
                .iter()
                .any(|encoded| encoded.as_deref().ok() == Some(example.as_bytes())),
            "{example}\nas a client frame: {client:?}\nas a server frame: {server:?}"
        );
    }
}

/// The bytes of each ```` ```hex ```` block of docs/PROTOCOL.md: on each line, the two-digit
/// hex tokens before the explanation.
fn hex_blocks() -> Vec<Vec<u8>> {
    let mut blocks = Vec::new();
    let mut lines = PROTOCOL_MD.lines();
    while lines.any(|line| line.trim() == "```hex") {
        let bytes = lines
            .by_ref()
            .take_while(|line| line.trim() != "```")
            .flat_map(|line| {
                line.split_whitespace().map_while(|token| {
                    (token.len() == 2).then(|| u8::from_str_radix(token, 16).ok()).flatten()
                })
            })
            .collect();
        blocks.push(bytes);
    }
    blocks
}

#[test]
fn protocol_md_binary_examples_decode_as_described() {
    let blocks = hex_blocks();
    assert_eq!(blocks.len(), 4, "the publish, message, length-prefixed and batch examples");
    let lobby = RoomName::new("lobby").unwrap();

    let publish = ClientFrame::Publish(Publish {
        room: lobby.clone(),
        body: Body::from_json_text(r#"{"text":"hi"}"#).unwrap(),
        id: Some(7),
    });
    assert_eq!(binary::decode_client(&blocks[0]).unwrap(), publish);
    assert!(PROTOCOL_MD.contains(&String::from_utf8(json_bytes(&publish)).unwrap()));

    let message = ServerFrame::Message(Message {
        room: lobby,
        seq: 300,
        from: "ana".into(),
        ts: 1_700_000_000_000,
        body: Body::Bytes(vec![0xde, 0xad]),
    });
    assert_eq!(binary::decode_server(&blocks[1]).unwrap(), message);
    assert!(PROTOCOL_MD.contains(&String::from_utf8(json_bytes(&message)).unwrap()));

    let mut prefixed = Vec::new();
    binary::encode_prefixed(&ClientFrame::Ping(Default::default()), &mut prefixed).unwrap();
    binary::encode_prefixed(&publish, &mut prefixed).unwrap();
    assert_eq!(blocks[2], prefixed);

    // The batch: two pongs, split by the core's batch reader.
    let pongs = [Pong { id: Some(5) }, Pong { id: None }].map(ServerFrame::Pong);
    let split: Vec<ServerFrame> =
        enchufe_core::codec::batch::frames(&blocks[3], Encoding::Binary, 64)
            .map(|frame| binary::decode_server(frame.unwrap()).unwrap())
            .collect();
    assert_eq!(split, pongs);
    let text = pongs.iter().map(|p| String::from_utf8(json_bytes(p)).unwrap()).collect::<Vec<_>>();
    assert!(PROTOCOL_MD.contains(&text.join("\n")), "the text batch is the same two frames");
}
