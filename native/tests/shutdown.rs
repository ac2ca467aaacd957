//! Graceful shutdown with clients connected: they are told (4015), queues flush, `run` returns.

mod common;

use std::time::Duration;

use common::{SseClient, TcpClient, TestServer, WsClient, within};
use serde_json::json;

#[tokio::test]
async fn clients_are_told_and_the_server_future_completes() {
    let server = TestServer::start(|c| c.shutdown_timeout = Duration::from_secs(3)).await;
    let mut tcp = TcpClient::connect(server.tcp()).await;
    tcp.join("r", None).await;
    let mut ws = WsClient::connect(server.http()).await;
    ws.send(json!({"type":"join","room":"r"})).await;
    ws.recv_kind("joined").await;
    let mut sse = SseClient::connect(server.http(), "/api/rooms/r/events", &[]).await;
    sse.next_kind("joined").await;
    let (http_addr, tcp_addr) = (server.http(), server.tcp());

    // A message queued just before shutdown is still delivered (flushed), then the error.
    server
        .hub
        .publish(
            &enchufe_core::RoomName::new("r").unwrap(),
            "op",
            enchufe_core::Body::json(&"last").unwrap(),
            None,
            enchufe::clock::now(),
        )
        .unwrap();
    let started = tokio::time::Instant::now();
    let TestServer { shutdown, task, .. } = server;
    shutdown.trigger();

    let frames: Vec<_> =
        tcp.until_eof().await.into_iter().filter(|f| f["type"] != "presence").collect();
    let kinds: Vec<_> = frames.iter().map(|f| f["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, ["message", "error"], "{frames:?}");
    assert_eq!(frames[1]["code"], 4015);

    let (frames, code) = ws.until_close().await;
    assert_eq!(code, Some(4015));
    assert_eq!(frames.last().unwrap()["code"], 4015);
    assert!(frames.iter().any(|f| f["body"] == "last"));

    assert_eq!(sse.next_kind("message").await.json()["body"], "last");
    assert_eq!(sse.next_kind("error").await.json()["code"], 4015);
    assert!(sse.next().await.is_none(), "the event stream ends");

    within("run returns", task).await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "clients that read let shutdown finish early"
    );
    assert!(tokio::net::TcpStream::connect(tcp_addr).await.is_err(), "no longer accepting");
    assert!(tokio::net::TcpStream::connect(http_addr).await.is_err());
}

#[tokio::test]
async fn a_client_that_never_reads_cannot_hold_shutdown_past_the_deadline() {
    let server = TestServer::start(|c| {
        c.shutdown_timeout = Duration::from_millis(500);
        c.hub.queue_bytes = 8 << 20;
        c.hub.rate_per_sec = 0;
    })
    .await;
    let mut stuck = TcpClient::connect(server.tcp()).await;
    stuck.join("big", None).await; // never reads again
    let body = enchufe_core::Body::json(&"y".repeat(60_000)).unwrap();
    let room = enchufe_core::RoomName::new("big").unwrap();
    for _ in 0..100 {
        server.hub.publish(&room, "op", body.clone(), None, enchufe::clock::now()).expect("a room"); // ~6 MB: more than socket buffers hold
    }
    let started = tokio::time::Instant::now();
    server.stop().await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}
