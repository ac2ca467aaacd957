//! Micro-benchmarks of the codec's hot path: the frames every message crosses twice.
//!
//! A chat message is a client `publish` (decoded once by the server) that becomes a server
//! `message` (encoded once per encoding by the server, decoded by every subscriber's client).
//! Each is measured in both encodings with a 64-byte body, in both body kinds: a JSON body
//! `{"t":"…"}` of 64 bytes of text, and 64 raw bytes (base64 in JSON, raw in binary). Encoding
//! appends to a reused buffer, so the numbers are the codec's work, not the allocator's.
//!
//! Then the stream framings, over a buffer of 64 `message` frames back to back: the TCP line
//! split (JSON) and the length-prefix split (binary), which run before every decode on TCP.
//!
//! Throughput is in bytes of the encoded frame (or of the whole buffer for the splits).
//! Run with `cargo bench -p enchufe-core --bench codec` (add
//! `-- --warm-up-time 1 --measurement-time 3` for a quicker pass).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use enchufe_core::codec::{DecodeError, Frame, FramingError, binary, line};
use enchufe_core::{Body, ClientFrame, Message, Publish, RoomName, ServerFrame};

/// The body size of the benchmarked messages, in bytes.
const BODY_LEN: usize = 64;
/// How many frames the framing benchmarks split per iteration.
const FRAMES_PER_BUFFER: usize = 64;
/// The stream frame limit of docs/DECISIONS.md (64 KiB).
const MAX_FRAME: usize = 64 * 1024;

/// The two body kinds, each of [`BODY_LEN`] bytes.
fn bodies() -> [(&'static str, Body); 2] {
    let text = format!(r#"{{"t":"{}"}}"#, "x".repeat(BODY_LEN - 8));
    assert_eq!(text.len(), BODY_LEN);
    let json = Body::from_json_text(text).expect("the benchmark body is valid JSON");
    let bytes = Body::Bytes((0..BODY_LEN).map(|i| (i * 37) as u8).collect());
    [("json_body", json), ("bytes_body", bytes)]
}

fn room() -> RoomName {
    RoomName::new("lobby").expect("`lobby` is a valid room name")
}

fn message(body: Body) -> ServerFrame {
    ServerFrame::Message(Message {
        room: room(),
        seq: 123_456,
        from: "ana".into(),
        ts: 1_700_000_000_000,
        body,
    })
}

fn publish(body: Body) -> ClientFrame {
    ClientFrame::Publish(Publish { room: room(), body, id: Some(4_242) })
}

/// One encoding: its name, encoder and decoder.
struct Encoding<F> {
    name: &'static str,
    encode: fn(&F, &mut Vec<u8>),
    decode: fn(&[u8]) -> Result<F, DecodeError>,
}

fn encodings<F: Frame>() -> [Encoding<F>; 2] {
    [
        Encoding { name: "json", encode: F::encode_json, decode: F::decode_json },
        Encoding { name: "binary", encode: F::encode_binary, decode: F::decode_binary },
    ]
}

/// Benchmarks encode and decode of `frame` in both encodings, as `{kind}/{encoding}`.
fn encode_and_decode<F: Frame>(c: &mut Criterion, kind: &str, frame: &F) {
    for encoding in encodings::<F>() {
        let mut encoded = Vec::new();
        (encoding.encode)(frame, &mut encoded);
        assert!((encoding.decode)(&encoded).is_ok(), "{kind}/{} round-trips", encoding.name);
        let id = BenchmarkId::new(kind, encoding.name);

        let mut group = c.benchmark_group("encode");
        group.throughput(Throughput::Bytes(encoded.len() as u64));
        let mut out = Vec::with_capacity(encoded.len());
        group.bench_with_input(id.clone(), frame, |b, frame| {
            b.iter(|| {
                out.clear();
                (encoding.encode)(black_box(frame), &mut out);
                black_box(out.len())
            })
        });
        group.finish();

        let mut group = c.benchmark_group("decode");
        group.throughput(Throughput::Bytes(encoded.len() as u64));
        group.bench_with_input(id, &encoded[..], |b, bytes| {
            b.iter(|| (encoding.decode)(black_box(bytes)))
        });
        group.finish();
    }
}

fn codec(c: &mut Criterion) {
    for (body_kind, body) in bodies() {
        encode_and_decode(c, &format!("message_{body_kind}"), &message(body.clone()));
        encode_and_decode(c, &format!("publish_{body_kind}"), &publish(body));
    }
}

/// A stream splitter: [`line::split`] or [`binary::split`].
type Split = fn(&[u8], usize) -> Result<Option<(&[u8], usize)>, FramingError>;

/// Splits a buffer of [`FRAMES_PER_BUFFER`] frames with `split`, checking it found them all.
fn split_all(buf: &[u8], split: Split) -> usize {
    let mut rest = buf;
    let mut frames = 0;
    while let Ok(Some((frame, used))) = split(rest, MAX_FRAME) {
        black_box(frame);
        rest = &rest[used..];
        frames += 1;
    }
    assert_eq!(frames, FRAMES_PER_BUFFER, "every frame in the buffer is split");
    frames
}

fn framing(c: &mut Criterion) {
    let [(_, body), _] = bodies();
    let frame = message(body);
    let mut lines = Vec::new();
    let mut prefixed = Vec::new();
    for _ in 0..FRAMES_PER_BUFFER {
        frame.encode_json(&mut lines);
        line::terminate(&mut lines);
        binary::encode_prefixed(&frame, &mut prefixed).expect("a small frame fits the prefix");
    }

    let mut group = c.benchmark_group("split");
    group.throughput(Throughput::Bytes(lines.len() as u64));
    group.bench_function("json_lines", |b| b.iter(|| split_all(black_box(&lines), line::split)));
    group.throughput(Throughput::Bytes(prefixed.len() as u64));
    group.bench_function("binary_prefixed", |b| {
        b.iter(|| split_all(black_box(&prefixed), binary::split))
    });
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, without the undocumented `pub fn`
// they generate (missing_docs).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    codec(&mut criterion);
    framing(&mut criterion);
    criterion.final_summary();
}
