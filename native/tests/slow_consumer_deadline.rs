//! The one client flow control cuts: a subscriber that stops reading is cut once its queue has
//! stayed over the high-water mark with nothing written for the deadline, while a healthy
//! subscriber of the same room keeps receiving.

mod common;
mod stalled;

use std::time::Duration;

use stalled::stall;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_is_cut_once_the_deadline_passes() {
    let slow_after = Duration::from_millis(1000);
    // Small messages and the default hard bound: the deadline comes first.
    let stalled = stall(64 << 20, slow_after, 512).await;
    assert!(stalled.why.contains("read nothing"), "{}", stalled.why);
    assert!(stalled.cut_after >= slow_after, "cut after {:?}", stalled.cut_after);
}

/// An SSE reader that stops reading is cut too, and its connection does not outlive the cut by
/// more than the shutdown deadline (hyper alone would wait for the socket forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sse_reader_is_cut_and_its_connection_closed() {
    use std::sync::atomic::Ordering;
    use tokio::io::AsyncWriteExt as _;
    let server = common::TestServer::start(|c| {
        c.hub.queue_bytes = 64 * 1024;
        c.hub.slow_after_ms = 300;
        c.hub.rate_per_sec = 0;
        c.shutdown_timeout = Duration::from_millis(500);
    })
    .await;
    let metrics = server.hub.metrics().clone();
    let open = || metrics.connections_open.load(Ordering::Relaxed);
    // A raw socket on purpose: the test is about a client that never reads its socket, and an
    // HTTP client library would read ahead into its own buffers.
    let mut sse = tokio::net::TcpStream::connect(server.http()).await.unwrap();
    let request = format!("GET /api/rooms/s/events HTTP/1.1\r\nHost: {}\r\n\r\n", server.http());
    sse.write_all(request.as_bytes()).await.unwrap(); // ...and never reads
    let room = enchufe_core::RoomName::new("s").unwrap();
    let body = enchufe_core::Body::json(&"s".repeat(10 * 1024)).unwrap();
    let cut = tokio::time::timeout(Duration::from_secs(60), async {
        while metrics.slow_consumers.load(Ordering::Relaxed) == 0 {
            server.hub.publish(&room, "op", body.clone(), None, enchufe::clock::now()).unwrap();
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(cut.is_ok(), "the stalled SSE reader was cut");
    assert_eq!(open(), 1, "its connection is still there, stuck writing");
    // Within the shutdown deadline (500 ms) and a sweep, the connection is dropped.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while open() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(closed.is_ok(), "the stuck SSE connection was closed");
    drop(sse);
    server.stop().await;
}
