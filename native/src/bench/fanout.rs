//! `fanout`: S subscribers in one room, one publisher, every delivery timed.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use enchufe_core::RoomName;
use hdrhistogram::Histogram;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{
    BenchError, FanoutReport, Latency, Target, crowd,
    payload::{self, now_ns},
    report::histogram,
    wire::{self, Conn, Event},
};

/// Publishes written together when publishing as fast as possible.
const PUBLISH_BATCH: u64 = 64;
/// The most `drain` periods waited for the last deliveries while they keep arriving.
const MAX_DRAINS: u32 = 20;
/// Errors kept for the report.
const MAX_ERRORS: usize = 5;

/// What `fanout` runs.
#[derive(Clone, Debug)]
pub struct FanoutOptions {
    /// Subscribers.
    pub subs: usize,
    /// Payload bytes (at least [`payload::MIN_SIZE`]).
    pub size: usize,
    /// Messages per second, or `None` for as fast as the publisher can write.
    pub rate: Option<f64>,
    /// When not paced: how many messages the slowest subscriber may lag behind the publisher
    /// (so at most `window × subs` deliveries are in flight), or `None` for no bound at all —
    /// then only the server's own flow control (TCP backpressure on the publisher) holds the
    /// publisher back, which is what a saturation run measures. UDP has no flow control: an
    /// unpaced UDP run without a window overflows the socket buffers and loses messages.
    pub window: Option<u64>,
    /// Messages to publish at most.
    pub messages: u64,
    /// How long to publish at most.
    pub duration: Duration,
    /// How long to wait for the next delivery once publishing stopped: the run ends when every
    /// delivery arrived, or none did for this long (or after 20 of these).
    pub drain: Duration,
    /// The room (NATS subject).
    pub room: RoomName,
    /// Where the publisher connects, if not to the subscribers' server: another node of the
    /// same deployment (two enchufe nodes on one Redis), so what is measured crosses nodes.
    pub publish_to: Option<Target>,
}

/// What the subscribers share with the publisher.
#[derive(Default)]
struct Shared {
    /// Deliveries to all subscribers.
    delivered: AtomicU64,
    /// Deliveries to each subscriber.
    received: Box<[AtomicU64]>,
    /// The publisher waits for deliveries (the window, if any, or the drain).
    waiting: AtomicBool,
    wake: Notify,
    errors: Mutex<Vec<String>>,
}

impl Shared {
    fn delivered(&self, subscriber: usize, n: u64) {
        self.received[subscriber].fetch_add(n, Ordering::Relaxed);
        self.delivered.fetch_add(n, Ordering::Relaxed);
        if self.waiting.load(Ordering::Relaxed) {
            self.wake.notify_one();
        }
    }

    fn error(&self, error: String) {
        let mut errors = crate::sync::lock(&self.errors);
        if errors.len() < MAX_ERRORS {
            errors.push(error);
        }
    }

    /// What the slowest subscriber received.
    fn slowest(&self) -> u64 {
        self.received.iter().map(|r| r.load(Ordering::Relaxed)).min().unwrap_or(0)
    }

    /// Waits until `done(self)` holds, or `deadline` passes (then false).
    async fn wait_until(
        &self,
        done: impl Fn(&Self) -> bool,
        deadline: tokio::time::Instant,
    ) -> bool {
        loop {
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            self.waiting.store(true, Ordering::Relaxed);
            if done(self) {
                self.waiting.store(false, Ordering::Relaxed);
                return true;
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                self.waiting.store(false, Ordering::Relaxed);
                return done(self);
            }
        }
    }
}

/// What one subscriber measured.
struct Tally {
    latency: Histogram<u64>,
    last_ns: u64,
}

/// Runs `fanout` against `target`.
pub async fn run(target: &Target, o: &FanoutOptions) -> Result<FanoutReport, BenchError> {
    let size = o.size.max(payload::MIN_SIZE);
    let shared = Arc::new(Shared {
        received: (0..o.subs).map(|_| AtomicU64::new(0)).collect(),
        ..Shared::default()
    });
    let stop = CancellationToken::new();
    let mut subscribers = {
        let (shared, stop) = (shared.clone(), stop.clone());
        crowd::open(
            target,
            o.subs,
            |_| o.room.clone(),
            move |index, conn| {
                let (shared, stop) = (shared.clone(), stop.clone());
                async move { subscribe(conn, index, &shared, &stop).await }
            },
        )
        .await?
    };

    let mut publisher = wire::connect(o.publish_to.as_ref().unwrap_or(target)).await?;
    publisher.sync().await?;
    publisher.tx.prepare(&o.room, size);
    let subs = o.subs as u64;
    let mut payload = vec![b'x'; size];
    let started_ns = now_ns();
    let started = tokio::time::Instant::now();
    let publish_until = started + o.duration;
    let mut published = 0u64;
    // The deadline is checked between batches only: a batch is written whole, so that every
    // message counted as published reached the server (cutting a write would leave a partial
    // frame and count messages the server never got as lost).
    while published < o.messages && tokio::time::Instant::now() < publish_until {
        let batch = match (o.rate, o.window) {
            (None, None) => {
                // Let the subscribers (tasks on the same runtime) read what the last batch
                // brought before the next one: they are the measurement.
                if published > 0 {
                    tokio::task::yield_now().await;
                }
                PUBLISH_BATCH
            }
            (None, Some(window)) => {
                let window = window.max(1);
                let fits = |s: &Shared| published < s.slowest() + window;
                if !shared.wait_until(fits, publish_until).await {
                    break;
                }
                (shared.slowest() + window - published).clamp(1, PUBLISH_BATCH)
            }
            (Some(rate), _) => {
                // Every message whose time has come, stamped with the moment it is written.
                let due = (started.elapsed().as_secs_f64() * rate) as u64;
                if due <= published {
                    let next = started + Duration::from_secs_f64((published + 1) as f64 / rate);
                    tokio::time::sleep_until(next).await;
                    continue;
                }
                due - published
            }
        };
        let batch = batch.min(o.messages - published);
        let sent = now_ns();
        for _ in 0..batch {
            payload::stamp(&mut payload, sent, published);
            publisher.tx.publish(&payload).await?;
            published += 1;
        }
        publisher.tx.flush().await?;
    }
    // Every publish handled before the count is final (and before the tool may exit: without
    // subscribers to wait for, as when it feeds the browser benchmark, its exit would reset the
    // connection and lose what the server had not read yet).
    publisher.sync().await?;

    let expected = published * subs;
    // Unpaced, a publisher outruns any server's fan-out and the backlog drains after it stops:
    // wait while deliveries keep coming, until none has for a whole `drain` (at most
    // MAX_DRAINS of them), so that "lost" means lost, not late.
    let mut seen = shared.delivered.load(Ordering::Relaxed);
    for _ in 0..MAX_DRAINS {
        let deadline = tokio::time::Instant::now() + o.drain;
        let all = |s: &Shared| s.delivered.load(Ordering::Relaxed) >= expected;
        if shared.wait_until(all, deadline).await {
            break;
        }
        let now = shared.delivered.load(Ordering::Relaxed);
        if now == seen {
            break;
        }
        seen = now;
    }
    stop.cancel();
    let mut latency = histogram();
    let mut last_ns = started_ns;
    while let Some(done) = subscribers.join_next().await {
        if let Ok(Some(tally)) = done {
            let _ = latency.add(&tally.latency);
            last_ns = last_ns.max(tally.last_ns);
        }
    }
    let delivered = shared.delivered.load(Ordering::Relaxed);
    let seconds = (last_ns.saturating_sub(started_ns)) as f64 / 1e9;
    let per_sec = |n: u64| if seconds > 0.0 { n as f64 / seconds } else { 0.0 };
    let errors = std::mem::take(&mut *shared.errors.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(FanoutReport {
        workload: "fanout",
        url: target.url.clone(),
        server: target.server.to_string(),
        transport: target.link.to_string(),
        subs: o.subs,
        size,
        rate: o.rate,
        published,
        expected,
        delivered,
        lost: expected.saturating_sub(delivered),
        seconds,
        messages_per_sec: per_sec(published),
        deliveries_per_sec: per_sec(delivered),
        latency_us: Latency::of(&latency),
        errors,
    })
}

/// One subscriber: reads until told to stop, timing every delivery.
async fn subscribe(
    mut conn: Conn,
    index: usize,
    shared: &Shared,
    stop: &CancellationToken,
) -> Tally {
    let mut tally = Tally { latency: histogram(), last_ns: 0 };
    loop {
        let mut got = 0u64;
        let mut now = 0;
        let mut ping = false;
        let mut failed = None;
        let mut on = |event: Event<'_>| match event {
            Event::Payload(bytes) => {
                if let Some((sent, _)) = payload::read(bytes) {
                    // One clock reading per read: everything in it arrived together.
                    if got == 0 {
                        now = now_ns();
                    }
                    got += 1;
                    let _ = tally.latency.record(now.saturating_sub(sent).max(1));
                }
            }
            Event::Ping => ping = true,
            Event::Error(error) => failed = Some(error),
            Event::Ready | Event::Other => {}
        };
        let read = tokio::select! {
            () = stop.cancelled() => break,
            read = conn.rx.read(&mut on) => read,
        };
        if got > 0 {
            tally.last_ns = now;
            shared.delivered(index, got);
        }
        if let Some(error) = failed {
            shared.error(error);
        }
        if ping && conn.tx.pong().await.is_err() {
            break;
        }
        if let Err(error) = read {
            if !stop.is_cancelled() {
                shared.error(error.to_string());
            }
            break;
        }
    }
    tally
}
