//! The load tool (`enchufe bench`) against a real in-process server on every transport: every
//! message arrives, latencies are recorded, and idle connections are counted.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use enchufe::bench::{self, FanoutOptions, Target};
use enchufe_core::RoomName;

async fn server() -> TestServer {
    let mut config = TestServer::config();
    config.hub.rate_per_sec = 0; // the publisher sends as fast as it can
    TestServer::bind(config).await
}

fn urls(server: &TestServer) -> [String; 3] {
    [
        format!("tcp://{}", server.addr("tcp")),
        format!("ws://{}/ws", server.addr("ws")),
        format!("udp://{}", server.addr("udp")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_delivers_every_message_to_every_subscriber() {
    let server = server().await;
    for url in urls(&server) {
        let target: Target = url.parse().unwrap();
        let options = FanoutOptions {
            subs: 5,
            size: 64,
            // UDP is paced so that loopback socket buffers never overflow; the streams go as
            // fast as the publisher can.
            rate: url.starts_with("udp").then_some(5_000.0),
            window: None,
            messages: 400,
            duration: Duration::from_secs(20),
            drain: Duration::from_secs(5),
            room: RoomName::new(format!("bench-{}", target.link)).unwrap(),
            publish_to: None,
        };
        let report = bench::fanout::run(&target, &options).await.unwrap();
        assert_eq!((report.published, report.expected), (400, 2000), "{url}");
        assert_eq!((report.delivered, report.lost), (2000, 0), "{url}: {:?}", report.errors);
        assert!(report.errors.is_empty(), "{url}: {:?}", report.errors);
        assert!(report.latency_us.p50 > 0.0 && report.deliveries_per_sec > 0.0, "{url}");
        assert!(report.latency_us.p50 <= report.latency_us.p99, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtt_gets_every_message_back() {
    let server = server().await;
    for url in urls(&server) {
        let room = RoomName::new("bench-rtt").unwrap();
        let report = bench::rtt::run(&url.parse().unwrap(), 50, 64, &room).await.unwrap();
        assert_eq!((report.count, report.lost), (50, 0), "{url}");
        assert!(report.latency_us.p50 > 0.0, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_holds_its_connections_and_reads_the_servers_memory() {
    let server = server().await;
    let url = format!("ws://{}/ws", server.addr("ws"));
    let pid = Some(std::process::id()); // the server runs in this process
    let report = bench::idle::run(&url.parse().unwrap(), 40, 4, pid, Duration::ZERO).await.unwrap();
    assert_eq!((report.conns, report.rooms), (40, 4));
    assert!(report.rss_before.is_some() && report.rss_after.is_some());
    assert!(report.rss_per_conn.is_some());
}

#[tokio::test]
async fn only_loopback_servers_can_be_loaded() {
    let error = "tcp://192.0.2.1:8481".parse::<Target>().unwrap_err();
    assert!(error.to_string().contains("loopback"), "{error}");
}
