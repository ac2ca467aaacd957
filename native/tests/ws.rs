//! The WebSocket transport alone: text (JSON) and binary messages, bad input, size limit,
//! close codes, idle timeout and presence, on real sockets.

mod common;

use async_tungstenite::tungstenite::Message;
use common::{RawWs, TestServer, WsClient, WsEvent, get};
use enchufe_core::{ClientFrame, Join, Ping, PresenceAction, RoomName, ServerFrame};
use futures_util::StreamExt as _;
use serde_json::json;

#[tokio::test]
async fn text_messages_carry_json_frames() {
    let server = TestServer::start(|_| {}).await;
    let mut a = WsClient::connect(server.http()).await;
    a.send(json!({"type":"hello","v":1,"name":"ana"})).await;
    let welcome = a.recv().await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["heartbeat_ms"], 15000);
    a.send(json!({"type":"join","room":"lobby","id":1})).await;
    assert_eq!(a.recv().await["members"][0]["name"], "ana");

    let mut b = WsClient::connect(server.http()).await;
    b.send(json!({"type":"join","room":"lobby"})).await;
    b.recv_kind("joined").await;
    let presence = a.recv().await;
    assert_eq!(
        (presence["type"].as_str(), presence["action"].as_str()),
        (Some("presence"), Some("join"))
    );

    b.send(json!({"type":"publish","room":"lobby","body":{"t":"hi"},"id":3})).await;
    assert_eq!(b.recv_kind("ack").await["seq"], 1);
    let message = a.recv().await;
    assert_eq!((message["seq"].as_u64(), &message["body"]["t"]), (Some(1), &json!("hi")));

    drop(b);
    let presence = a.recv().await;
    assert_eq!(presence["action"], "leave", "a disconnect leaves the room");
    server.stop().await;
}

#[tokio::test]
async fn binary_messages_carry_binary_frames() {
    let server = TestServer::start(|_| {}).await;
    let mut c = WsClient::connect(server.http()).await;
    let room = RoomName::new("bin").unwrap();
    c.send_binary(&ClientFrame::Join(Join { room, since: None, id: Some(2), epoch: None })).await;
    match c.event().await {
        WsEvent::Binary(ServerFrame::Welcome(_)) => {}
        other => panic!("binary welcome expected, got {other:?}"),
    }
    assert!(matches!(c.event().await, WsEvent::Binary(ServerFrame::Joined(j)) if j.id == Some(2)));
    // A JSON message from the same client switches its answers to JSON.
    c.send(json!({"type":"ping","id":5})).await;
    assert_eq!(c.recv().await, json!({"type":"pong","id":5}));
    c.send_binary(&ClientFrame::Ping(Ping { id: Some(6) })).await;
    assert!(matches!(c.event().await, WsEvent::Binary(ServerFrame::Pong(p)) if p.id == Some(6)));
    server.stop().await;
}

#[tokio::test]
async fn bad_messages_get_errors_and_the_socket_stays_open() {
    let server = TestServer::start(|_| {}).await;
    let mut c = WsClient::connect(server.http()).await;
    c.ws.send(Message::Text("{nope".into())).await.unwrap();
    assert_eq!(c.recv_kind("error").await["code"], 4000);
    c.send(json!({"type":"subscribe","id":1})).await;
    assert_eq!(c.recv().await["code"], 4001);
    c.send(json!({"type":"join","room":"","id":2})).await;
    assert_eq!(c.recv().await["code"], 4002);
    c.ws.send(Message::Binary(vec![0x01].into())).await.unwrap(); // a version byte, nothing else
    match c.event().await {
        WsEvent::Binary(ServerFrame::Error(e)) => assert_eq!(e.code, 4000),
        other => panic!("{other:?}"),
    }
    c.send(json!({"type":"ping","id":3})).await;
    assert_eq!(c.recv().await["id"], 3);
    // A binary version this server does not read cannot be answered frame by frame: it closes.
    c.ws.send(Message::Binary(vec![0x09, 0x01].into())).await.unwrap();
    let (frames, code) = c.until_close().await;
    assert_eq!(code, Some(4004), "{frames:?}");
    server.stop().await;
}

#[tokio::test]
async fn an_oversize_message_closes_with_4003() {
    let server = TestServer::start(|c| c.hub.max_frame = 1024).await;
    let mut c = WsClient::connect(server.http()).await;
    c.send(json!({"type":"ping"})).await;
    c.recv_kind("pong").await;
    let big = json!({"type":"publish","room":"r","body":"x".repeat(5000)});
    c.send(big).await;
    let (frames, code) = c.until_close().await;
    assert_eq!(code, Some(4003), "{frames:?}");
    assert_eq!(frames.last().unwrap()["code"], 4003);
    server.stop().await;
}

#[tokio::test]
async fn an_idle_socket_is_pinged_then_closed_with_4013() {
    let server = TestServer::start(|c| c.hub.heartbeat_ms = 100).await;
    // A client that never answers the server's pings (nor sends anything) is idle.
    let mut c = RawWs::connect(server.http()).await;
    let started = tokio::time::Instant::now();
    let frames = c.frames_until_eof().await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "3 heartbeats of silence");
    assert!(frames.iter().any(|(op, _)| *op == 0x9), "the server pinged: {frames:?}");
    let (op, payload) = frames.last().unwrap();
    assert_eq!((*op, u16::from_be_bytes([payload[0], payload[1]])), (0x8, 4013));
    assert_eq!(&payload[2..], b"idle_timeout");
    let error = frames.iter().find(|(op, _)| *op == 0x1).expect("an error frame before the close");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&error.1).unwrap()["code"], 4013);
    server.stop().await;
}

#[tokio::test]
async fn plain_get_on_ws_is_refused_with_426() {
    let server = TestServer::start(|_| {}).await;
    let response = get(server.http(), "/ws").await;
    assert_eq!(response.status, 426);
    assert_eq!(response.json()["code"], 4000);
    server.stop().await;
}

#[tokio::test]
async fn presence_reports_names() {
    let server = TestServer::start(|_| {}).await;
    let mut a = WsClient::connect(server.http()).await;
    a.send(json!({"type":"join","room":"p"})).await;
    a.recv_kind("joined").await;
    let mut b = WsClient::connect(server.http()).await;
    b.send(json!({"type":"hello","v":1,"name":"bea"})).await;
    b.send(json!({"type":"join","room":"p"})).await;
    let joined = b.recv_kind("joined").await;
    assert_eq!(joined["members"].as_array().unwrap().len(), 2);
    let presence = a.recv().await;
    assert_eq!(presence["member"]["name"], "bea");
    b.send(json!({"type":"leave","room":"p","id":4})).await;
    assert_eq!(b.recv().await, json!({"type":"left","room":"p","id":4}));
    let presence: enchufe_core::Presence =
        serde_json::from_value(a.recv().await).expect("a presence frame");
    assert_eq!(presence.action, PresenceAction::Leave);
    server.stop().await;
}

#[tokio::test]
async fn a_client_ping_is_answered_with_its_payload_between_messages() {
    let server = TestServer::start(|_| {}).await;
    let mut c = WsClient::connect(server.http()).await;
    c.send(json!({"type":"join","room":"pings"})).await;
    c.recv_kind("joined").await;
    c.ws.send(Message::Ping(b"are you there".to_vec().into())).await.unwrap();
    c.send(json!({"type":"ping","id":9})).await;
    let (mut pong, mut answer) = (None, None);
    while pong.is_none() || answer.is_none() {
        match common::within("pong", c.ws.next()).await {
            Some(Ok(Message::Pong(payload))) => pong = Some(payload),
            Some(Ok(Message::Text(text))) => {
                let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
                if frame["type"] == "pong" {
                    answer = Some(frame);
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(&pong.unwrap()[..], b"are you there", "RFC 6455: a pong echoes the ping's payload");
    assert_eq!(answer.unwrap()["id"], 9, "the protocol's own ping still works");
    server.stop().await;
}

#[tokio::test]
async fn a_client_close_is_answered_with_a_normal_close() {
    let server = TestServer::start(|_| {}).await;
    let mut c = WsClient::connect(server.http()).await;
    c.send(json!({"type":"join","room":"bye"})).await;
    c.recv_kind("joined").await;
    c.ws.close(None).await.unwrap();
    let (_, code) = c.until_close().await;
    assert_eq!(code, Some(1000));
    server.stop().await;
}

/// The frames of every message until `want` messages of `room` arrived, and how many frames
/// each message held.
async fn batched_seqs(ws: &mut WsClient, want: usize) -> (Vec<u64>, Vec<usize>) {
    use enchufe_core::{Encoding, codec::batch};
    let (mut seqs, mut per_message) = (Vec::new(), Vec::new());
    while seqs.len() < want {
        let message = common::within("a message", ws.ws.next()).await.expect("open").expect("ok");
        let (bytes, encoding) = match message {
            Message::Text(text) => (text.as_bytes().to_vec(), Encoding::Json),
            Message::Binary(bytes) => (bytes.to_vec(), Encoding::Binary),
            _ => continue,
        };
        let mut frames = 0;
        for frame in batch::decode::<ServerFrame>(&bytes, encoding, 1 << 20) {
            if let ServerFrame::Message(m) = frame.expect("a whole server frame") {
                seqs.push(m.seq);
            }
            frames += 1;
        }
        per_message.push(frames);
    }
    (seqs, per_message)
}

#[tokio::test]
async fn a_client_that_asks_gets_batches_and_one_that_does_not_gets_a_frame_per_message() {
    const MESSAGES: u64 = 500;
    let server = TestServer::start(|_| {}).await;
    let room = RoomName::new("b").unwrap();
    let mut text = WsClient::connect(server.http()).await;
    text.send(json!({"type":"hello","v":1,"batch":true})).await;
    text.send(json!({"type":"join","room":"b"})).await;
    let mut binary = WsClient::connect(server.http()).await;
    let hello = enchufe_core::Hello { v: 1, batch: true, ..Default::default() };
    binary.send_binary(&ClientFrame::Hello(hello)).await;
    binary
        .send_binary(&ClientFrame::Join(Join {
            room: room.clone(),
            since: None,
            id: None,
            epoch: None,
        }))
        .await;
    let mut plain = WsClient::connect(server.http()).await;
    plain.send(json!({"type":"join","room":"b"})).await;
    plain.recv_kind("joined").await;
    // The batching clients joined too (their `joined` is among the frames read below).
    let members = || server.hub.rooms().first().map_or(0, |r| r.members);
    common::within("three members", async {
        while members() < 3 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    // Published at once, so that frames queue up behind each other.
    for n in 0..MESSAGES {
        server
            .hub
            .publish(
                &room,
                "op",
                enchufe_core::Body::json(&n).unwrap(),
                None,
                enchufe::clock::now(),
            )
            .unwrap();
    }
    let want: Vec<u64> = (1..=MESSAGES).collect();
    for (name, client) in [("text", &mut text), ("binary", &mut binary)] {
        let (seqs, per_message) = batched_seqs(client, MESSAGES as usize).await;
        assert_eq!(seqs, want, "{name}: every message once, in order");
        assert!(per_message.iter().any(|&n| n > 1), "{name}: some message held several frames");
    }
    // Without `batch`, a message is one frame: one JSON object, no line break.
    let mut seqs = Vec::new();
    while seqs.len() < MESSAGES as usize {
        match common::within("a message", plain.ws.next()).await.expect("open").expect("ok") {
            Message::Text(text) => {
                assert!(!text.contains('\n'), "one frame per message: {text}");
                let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
                if frame["type"] == "message" {
                    seqs.push(frame["seq"].as_u64().unwrap());
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seqs, want);
    server.stop().await;
}

/// RFC 6455 §7.4.1: a frame that breaks the protocol closes with 1002, text that is not UTF-8
/// with 1007 (not 1000, which would say all went well).
#[tokio::test]
async fn protocol_errors_close_with_1002_and_bad_utf8_with_1007() {
    let server = TestServer::start(|_| {}).await;
    let close_code = |frames: &[(u8, Vec<u8>)]| {
        let (opcode, payload) = frames.last().expect("a close frame");
        assert_eq!(*opcode, 0x8, "{frames:?}");
        u16::from_be_bytes([payload[0], payload[1]])
    };
    let mut unmasked = RawWs::connect(server.http()).await;
    unmasked.send_raw(&[0x81, 0x02, b'h', b'i']).await; // clients must mask their frames
    assert_eq!(close_code(&unmasked.frames_until_eof().await), 1002);
    let mut bad_text = RawWs::connect(server.http()).await;
    bad_text.send_raw(&[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]).await; // masked, not UTF-8
    assert_eq!(close_code(&bad_text.frames_until_eof().await), 1007);
    server.stop().await;
}
