//! Across transports: messages published over TCP, HTTP and WebSocket reach subscribers on TCP
//! (JSON and binary), WebSocket and SSE in one order, with the same seqs.

mod common;

use common::{BinaryTcpClient, SseClient, TcpClient, TestServer, WsClient, post_json};
use enchufe_core::{ClientFrame, Join, RoomName, ServerFrame};
use serde_json::{Value, json};

const ROOM: &str = "mixed";
const ROUNDS: u64 = 10;

#[tokio::test]
async fn every_transport_sees_the_same_sequence() {
    let server = TestServer::start(|_| {}).await;

    let mut tcp_sub = TcpClient::connect(server.tcp()).await;
    tcp_sub.join(ROOM, None).await;
    let mut ws_sub = WsClient::connect(server.http()).await;
    ws_sub.send(json!({"type":"join","room":ROOM})).await;
    ws_sub.recv_kind("joined").await;
    let mut bin_sub =
        BinaryTcpClient::connect(server.tcp(), json!({"type":"hello","v":1,"encoding":"binary"}))
            .await;
    bin_sub
        .send(&ClientFrame::Join(Join {
            room: RoomName::new(ROOM).unwrap(),
            since: None,
            id: None,
            epoch: None,
        }))
        .await;
    while !matches!(bin_sub.recv().await, ServerFrame::Joined(_)) {}
    let mut sse_sub =
        SseClient::connect(server.http(), &format!("/api/rooms/{ROOM}/events"), &[]).await;
    let sse_epoch = sse_sub.next_kind("joined").await.json()["epoch"].clone();

    let mut tcp_pub = TcpClient::connect(server.tcp()).await;
    let mut ws_pub = WsClient::connect(server.http()).await;
    let mut expected = Vec::new();
    for round in 0..ROUNDS {
        let body = json!(format!("tcp-{round}"));
        tcp_pub.send(json!({"type":"publish","room":ROOM,"body":body,"id":round})).await;
        expected.push((tcp_pub.recv_kind("ack").await["seq"].as_u64().unwrap(), body));

        let body = json!(format!("http-{round}"));
        let created =
            post_json(server.http(), &format!("/api/rooms/{ROOM}/messages"), &body.to_string())
                .await;
        expected.push((created.json()["seq"].as_u64().unwrap(), body));

        let body = json!(format!("ws-{round}"));
        ws_pub.send(json!({"type":"publish","room":ROOM,"body":body,"id":round})).await;
        expected.push((ws_pub.recv_kind("ack").await["seq"].as_u64().unwrap(), body));
    }
    let seqs: Vec<u64> = expected.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=3 * ROUNDS).collect::<Vec<_>>(), "one sequence for the room");

    let mut tcp_got = Vec::new();
    let mut ws_got = Vec::new();
    let mut bin_got = Vec::new();
    let mut sse_got = Vec::new();
    let pair = |m: &Value| (m["seq"].as_u64().unwrap(), m["body"].clone());
    while tcp_got.len() < expected.len() {
        tcp_got.push(pair(&tcp_sub.recv_kind("message").await));
    }
    while ws_got.len() < expected.len() {
        ws_got.push(pair(&ws_sub.recv_kind("message").await));
    }
    while bin_got.len() < expected.len() {
        if let ServerFrame::Message(m) = bin_sub.recv().await {
            let body: Value = serde_json::from_str(m.body.as_json_text().unwrap()).unwrap();
            bin_got.push((m.seq, body));
        }
    }
    while sse_got.len() < expected.len() {
        let event = sse_sub.next_kind("message").await;
        assert_eq!(
            event.id,
            Some(format!("{}:{}", sse_epoch.as_str().unwrap(), event.json()["seq"]))
        );
        sse_got.push(pair(&event.json()));
    }
    assert_eq!(tcp_got, expected, "TCP JSON subscriber");
    assert_eq!(ws_got, expected, "WebSocket subscriber");
    assert_eq!(bin_got, expected, "TCP binary subscriber");
    assert_eq!(sse_got, expected, "SSE subscriber");
    server.stop().await;
}
