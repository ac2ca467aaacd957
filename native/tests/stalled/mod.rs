//! A subscriber that stops reading while another reads everything, and the process's memory
//! meanwhile: shared by the tests that measure it, each alone in its own test binary so that
//! the resident set they read is theirs.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::{sync::atomic::Ordering, time::Duration};

use super::common::{TcpClient, TestServer};
use enchufe_core::{Body, RoomName};

/// The process's resident set, in bytes (Linux).
pub fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// What one stalled subscriber came to.
pub struct Stalled {
    /// How long after it stopped reading it was cut.
    pub cut_after: Duration,
    /// The `message` of its 4011.
    pub why: String,
    /// Messages published meanwhile.
    pub published: u64,
    /// How much the process's resident memory grew, at its peak.
    pub grew: u64,
}

/// One subscriber stops reading while another reads everything; messages of `body` bytes are
/// published in rounds paced by the reader until the stalled one is cut.
pub async fn stall(queue_max_bytes: usize, slow_after: Duration, body: usize) -> Stalled {
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
            server
                .hub
                .publish(&room, "op", body.clone(), None, enchufe::clock::now())
                .expect("a room");
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
    server.hub.publish(&room, "op", body.clone(), None, enchufe::clock::now()).expect("a room");
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
