//! The one client flow control cuts: a subscriber that stops reading. It is cut with 4011 once
//! its queue has stayed over the high-water mark with nothing written for the deadline; a
//! healthy subscriber of the same room keeps receiving; and the server's memory stays within
//! the bound docs/DECISIONS.md states ("Flow control"): history, plus at most `queue_max_bytes`
//! for the stalled connection.
//!
//! In their own test binary, and one at a time, so that the process's resident memory is the
//! running test's.

mod common;

use std::{sync::atomic::Ordering, time::Duration};

use common::{TcpClient, TestServer};
use enchufe_core::{Body, RoomName};

/// The process's resident set, in bytes (Linux).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// What one stalled subscriber came to.
struct Stalled {
    /// How long after it stopped reading it was cut.
    cut_after: Duration,
    /// The `message` of its 4011.
    why: String,
    /// Messages published meanwhile.
    published: u64,
    /// How much the process's resident memory grew, at its peak.
    grew: u64,
}

/// One subscriber stops reading while another reads everything; messages of `body` bytes are
/// published in rounds paced by the reader until the stalled one is cut.
async fn stall(queue_max_bytes: usize, slow_after: Duration, body: usize) -> Stalled {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _alone = ONE_AT_A_TIME.lock().await;
    const HISTORY: usize = 100;
    const ROUND: u64 = 20;
    const MAX_MESSAGES: u64 = 400_000; // gigabytes: far past any bound if queues were unbounded
    let server = TestServer::start(|c| {
        c.hub.queue_bytes = 256 * 1024;
        c.hub.queue_max_bytes = queue_max_bytes;
        c.hub.slow_after_ms = slow_after.as_millis() as u64;
        c.hub.history_len = HISTORY;
        c.hub.rate_per_sec = 0;
        c.shutdown_timeout = Duration::from_secs(2);
    })
    .await;
    let mut stalled = TcpClient::connect(server.tcp()).await;
    stalled.join("firehose", None).await;
    let stalled_at = tokio::time::Instant::now(); // ...it never reads again, until cut
    let mut healthy = TcpClient::connect(server.tcp()).await;
    healthy.join("firehose", None).await;
    let room = RoomName::new("firehose").expect("a room name");
    let body = Body::json(&"x".repeat(body)).expect("a body");
    let cut = || server.hub.metrics().slow_consumers.load(Ordering::Relaxed) > 0;

    let before = rss();
    let mut peak = before;
    let mut published = 0;
    let mut seqs = Vec::new();
    while !cut() {
        assert!(published < MAX_MESSAGES, "never cut after {published} messages");
        for _ in 0..ROUND {
            server.hub.publish(&room, "op", body.clone(), None).expect("a room");
        }
        published += ROUND;
        while (seqs.len() as u64) < published {
            let frame = healthy.recv().await;
            assert_ne!(frame["type"], "error", "{frame}");
            if frame["type"] == "message" {
                seqs.push(frame["seq"].as_u64().expect("a seq"));
            }
        }
        peak = peak.max(rss());
    }
    let cut_after = stalled_at.elapsed();
    assert_eq!(seqs, (1..=published).collect::<Vec<_>>(), "the healthy one got every message");
    // It keeps receiving after the cut.
    server.hub.publish(&room, "op", body.clone(), None).expect("a room");
    assert_eq!(healthy.recv_kind("message").await["seq"], published + 1);

    // The stalled client reads again: what was in flight, then 4011 and the end.
    let frames = stalled.until_eof().await;
    let last = frames.last().expect("frames");
    assert_eq!(last["code"], 4011, "{last}");
    server.stop().await;
    let why = last["message"].as_str().expect("a message").to_owned();
    let grew = peak.saturating_sub(before);
    println!(
        "cut after {cut_after:?} and {published} messages of {} B; RSS grew by {} MB: {why}",
        body.len(),
        grew >> 20
    );
    Stalled { cut_after, why, published, grew }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_is_cut_by_the_hard_bound_and_memory_stays_under_it() {
    const BODY: usize = 10 * 1024;
    let queue_max_bytes = 32 << 20;
    // A deadline longer than the run: the hard bound comes first.
    let stalled = stall(queue_max_bytes, Duration::from_secs(600), BODY).await;
    assert!(stalled.why.contains("bound"), "{}", stalled.why);
    assert!(stalled.published * (BODY as u64) > queue_max_bytes as u64);
    // What docs/DECISIONS.md promises: every stored or queued message costs at most twice its
    // wire bytes (the message and its encoding); so history plus one stalled queue, twice,
    // with 32 MiB for the allocator and the clients' own buffers in this process.
    let stored = 100 * BODY as u64;
    let bound = 2 * (stored + queue_max_bytes as u64) + (32 << 20);
    assert!(stalled.grew < bound, "RSS grew by {} bytes, over {bound}", stalled.grew);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_is_cut_once_the_deadline_passes() {
    let slow_after = Duration::from_millis(1000);
    // Small messages and the default hard bound: the deadline comes first.
    let stalled = stall(64 << 20, slow_after, 512).await;
    assert!(stalled.why.contains("read nothing"), "{}", stalled.why);
    assert!(stalled.cut_after >= slow_after, "cut after {:?}", stalled.cut_after);
}
