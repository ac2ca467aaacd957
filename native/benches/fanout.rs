//! Micro-benchmarks of the hub's fan-out: one publish reaching every subscriber's queue.
//!
//! A [`Hub`] with one room joined by S = 1, 100 and 1000 sessions; a separate publisher session
//! (not a member, so a publish makes exactly S deliveries) sends `publish` frames with a 64-byte
//! JSON body and no id (no `ack`), through [`Session::handle`] as a transport would. The input
//! rate limit is turned off; every other limit is the default. Throughput is in deliveries
//! (elements), so the per-delivery cost reads straight off and should stay flat as S grows.
//!
//! - `fanout/publish/S`: the publish alone — seq, history, and one [`SendQueue`] push per
//!   subscriber (the first push encodes the message once). Publishes run in chunks of 512; the
//!   outboxes are drained between chunks, outside the timing, so none grows past its mark.
//! - `fanout/publish_and_drain/S`: the same, and after each publish every queue is drained with
//!   [`SendQueue::next_batch`] inside the timing, as each connection's writer would (polled once,
//!   without a runtime: a queue that holds a frame never waits). This is the whole hub-side cost
//!   of a delivery, short of the socket write.
//! - `outgoing/encode_first/{json,binary}`: [`Outgoing::encoded`] the first time, what fan-out
//!   pays once per message and encoding; `outgoing/cached/…` what every further subscriber pays.
//!
//! Run with `cargo bench -p enchufe --bench fanout` (add
//! `-- --warm-up-time 1 --measurement-time 3` for a quicker pass).

use std::{
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use enchufe::{
    clock,
    egress::Outgoing,
    hub::{Hub, HubConfig, Session, Transport},
    metrics::Metrics,
};
use enchufe_core::{Body, ClientFrame, Encoding, Join, Message, Publish, RoomName, ServerFrame};
use futures_util::FutureExt as _;

/// The room sizes measured.
const SUBSCRIBERS: [usize; 3] = [1, 100, 1000];
/// The body size of the published messages, in bytes.
const BODY_LEN: usize = 64;

fn room() -> RoomName {
    RoomName::new("bench").expect("`bench` is a valid room name")
}

/// A 64-byte JSON body, `{"t":"xx…"}`.
fn body() -> Body {
    let text = format!(r#"{{"t":"{}"}}"#, "x".repeat(BODY_LEN - 8));
    assert_eq!(text.len(), BODY_LEN);
    Body::from_json_text(text).expect("the benchmark body is valid JSON")
}

/// A hub with `subscribers` sessions in one room, and a publisher outside it.
struct Fanout {
    subscribers: Vec<Session>,
    publisher: Session,
    publish: ClientFrame,
    /// Frames published before the outboxes are drained.
    chunk: u64,
    batch: Vec<Arc<Outgoing>>,
}

impl Fanout {
    fn new(subscribers: usize) -> Self {
        let mut config = HubConfig::default();
        // One publisher sends far more than a client may per second; the limit is not measured.
        config.rate_per_sec = 0;
        let chunk = 512;
        let hub = Hub::new(config, Arc::new(Metrics::default()), enchufe::mac::Key::random());
        let mut fanout = Fanout {
            subscribers: Vec::with_capacity(subscribers),
            publisher: hub.open(Transport::Tcp, clock::now()),
            publish: ClientFrame::Publish(Publish { room: room(), body: body(), id: None }),
            chunk,
            batch: Vec::new(),
        };
        for _ in 0..subscribers {
            let mut session = hub.open(Transport::Tcp, clock::now());
            session.handle(
                clock::now(),
                ClientFrame::Join(Join { room: room(), since: None, id: None, epoch: None }),
            );
            fanout.subscribers.push(session);
            // welcome, joined, and a presence per later member: drain as we go.
            fanout.drain();
        }
        fanout.check_delivery();
        fanout
    }

    /// Publishes once and checks that every subscriber got exactly that message.
    fn check_delivery(&mut self) {
        self.publisher.handle(clock::now(), self.publish.clone());
        assert!(!self.publisher.is_closed(), "the publisher is not refused");
        for queue in self.subscribers.iter().map(Session::queue) {
            self.batch.clear();
            let end = queue.next_batch(&mut self.batch).now_or_never();
            assert_eq!(end, Some(None), "the subscriber's queue holds a frame and is open");
            assert!(
                matches!(&self.batch[..], [m] if matches!(m.frame(), ServerFrame::Message(_))),
                "each subscriber receives the one message"
            );
        }
        self.batch.clear();
    }

    /// Empties every queue, as the connections' writers would.
    fn drain(&mut self) {
        for queue in self.subscribers.iter().map(Session::queue) {
            // One poll, as a writer's: an empty queue would wait (`None`); a closed one ends.
            let end = queue.next_batch(&mut self.batch).now_or_never();
            assert!(!matches!(end, Some(Some(_))), "no subscriber's queue overflows and closes");
            self.batch.clear();
        }
    }

    /// Publishes `iters` messages; returns the time spent publishing, and draining when
    /// `timed_drain` (after each publish), else draining between chunks, untimed.
    fn publish_many(&mut self, iters: u64, timed_drain: bool) -> Duration {
        let mut elapsed = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(self.chunk);
            // Frames are cloned beforehand: a transport's decoder hands over an owned frame.
            let frames: Vec<ClientFrame> = (0..n).map(|_| self.publish.clone()).collect();
            let start = Instant::now();
            for frame in frames {
                self.publisher.handle(clock::now(), black_box(frame));
                if timed_drain {
                    self.drain();
                }
            }
            elapsed += start.elapsed();
            self.drain();
            left -= n;
        }
        elapsed
    }
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout");
    for subscribers in SUBSCRIBERS {
        let mut fanout = Fanout::new(subscribers);
        group.throughput(Throughput::Elements(subscribers as u64));
        group.bench_function(BenchmarkId::new("publish", subscribers), |b| {
            b.iter_custom(|iters| fanout.publish_many(iters, false))
        });
        group.bench_function(BenchmarkId::new("publish_and_drain", subscribers), |b| {
            b.iter_custom(|iters| fanout.publish_many(iters, true))
        });
        fanout.check_delivery();
    }
    group.finish();
}

fn outgoing(c: &mut Criterion) {
    let message = ServerFrame::Message(Message {
        room: room(),
        seq: 123_456,
        from: "s-1f0e3a9c2b".into(),
        ts: 1_700_000_000_000,
        body: body(),
    });
    let mut group = c.benchmark_group("outgoing");
    for (name, encoding) in [("json", Encoding::Json), ("binary", Encoding::Binary)] {
        let encoded = Outgoing::new(message.clone());
        group.throughput(Throughput::Bytes(encoded.encoded(encoding).len() as u64));
        group.bench_function(BenchmarkId::new("encode_first", name), |b| {
            b.iter_batched(
                || Outgoing::new(message.clone()),
                |outgoing| {
                    black_box(outgoing.encoded(encoding).len());
                    outgoing
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(BenchmarkId::new("cached", name), |b| {
            b.iter(|| black_box(&encoded).encoded(encoding).len())
        });
    }
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, without the undocumented `pub fn`
// they generate (missing_docs).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    fanout(&mut criterion);
    outgoing(&mut criterion);
    criterion.final_summary();
}
