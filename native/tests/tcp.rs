//! The TCP transport alone: JSON lines (as `nc` would speak them), binary frames, bad input,
//! limits, recovery, de-duplication and slow consumers, on real sockets.

mod common;

use std::time::Duration;

use common::{BinaryTcpClient, TcpClient, TestServer, within};
use enchufe_core::{Body, ClientFrame, Join, Publish, RoomName, ServerFrame};
use serde_json::json;

#[tokio::test]
async fn a_first_line_other_than_hello_gets_welcome_then_its_answer() {
    let server = TestServer::start(|_| {}).await;
    let mut c = TcpClient::connect(server.tcp()).await;
    c.send(json!({"type":"ping","id":1})).await;
    let welcome = c.recv().await;
    assert_eq!(welcome["type"], "welcome");
    assert!(welcome["session"].as_str().unwrap().starts_with("s-"));
    assert_eq!(welcome["limits"]["max_frame"], 65536);
    assert_eq!(c.recv().await, json!({"type":"pong","id":1}));
    server.stop().await;
}

#[tokio::test]
async fn publish_join_history_over_json_lines() {
    let server = TestServer::start(|_| {}).await;
    let mut sub = TcpClient::connect(server.tcp()).await;
    sub.hello(json!({"type":"hello","v":1,"name":"ana"})).await;
    let joined = sub.join("lobby", None).await;
    assert_eq!(joined["seq"], 0);
    assert_eq!(joined["members"][0]["name"], "ana");

    let mut publisher = TcpClient::connect(server.tcp()).await;
    // \r\n endings and blank lines are tolerated.
    publisher
        .send_raw(b"\r\n{\"type\":\"publish\",\"room\":\"lobby\",\"body\":{\"text\":\"hola\"},\"id\":7}\r\n\n")
        .await;
    publisher.recv_kind("welcome").await;
    assert_eq!(publisher.recv().await, json!({"type":"ack","id":7,"room":"lobby","seq":1}));

    let message = sub.recv_kind("message").await;
    assert_eq!((message["seq"].as_u64(), &message["body"]), (Some(1), &json!({"text":"hola"})));
    assert!(message["from"].as_str().unwrap().starts_with("s-"), "no name: the session id");

    publisher.send(json!({"type":"history","room":"lobby","id":2})).await;
    let history = publisher.recv().await;
    assert_eq!(history["type"], "history");
    assert_eq!(history["messages"][0]["body"]["text"], "hola");
    server.stop().await;
}

#[tokio::test]
async fn bad_lines_get_typed_errors_and_the_connection_stays_usable() {
    let server = TestServer::start(|c| c.hub.max_rooms = 2).await;
    let mut c = TcpClient::connect(server.tcp()).await;
    c.hello(json!({"type":"hello","v":1})).await;
    let cases = [
        (&b"this is not json\n"[..], 4000),
        (b"{\"type\":\"dance\",\"id\":3}\n", 4001),
        (b"{\"room\":\"x\"}\n", 4000),
        (b"{\"type\":\"join\",\"room\":\"has space\",\"id\":4}\n", 4002),
        (b"{\"type\":\"leave\",\"room\":\"never\"}\n", 4007),
        (b"{\"type\":\"publish\",\"room\":\"r\"}\n", 4000),
        (b"{\"type\":\"history\",\"room\":\"r\",\"limit\":0}\n", 4008),
    ];
    for (line, code) in cases {
        c.send_raw(line).await;
        let error = c.recv().await;
        assert_eq!(
            (error["type"].as_str(), error["code"].as_u64()),
            (Some("error"), Some(code)),
            "{line:?}"
        );
    }
    c.join("a", None).await;
    c.join("b", None).await;
    c.send(json!({"type":"join","room":"c","id":9})).await;
    let error = c.recv().await;
    assert_eq!((error["code"].as_u64(), error["id"].as_u64()), (Some(4006), Some(9)));
    // Still usable.
    c.send(json!({"type":"ping","id":10})).await;
    assert_eq!(c.recv().await, json!({"type":"pong","id":10}));
    server.stop().await;
}

#[tokio::test]
async fn an_oversize_line_closes_with_too_large() {
    let server = TestServer::start(|c| c.hub.max_frame = 1024).await;
    let mut c = TcpClient::connect(server.tcp()).await;
    c.hello(json!({"type":"hello","v":1})).await;
    let mut line = br#"{"type":"publish","room":"r","body":""#.to_vec();
    line.extend(std::iter::repeat_n(b'x', 4000));
    line.extend_from_slice(b"\"}\n");
    c.send_raw(&line).await;
    let frames = c.until_eof().await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["code"], 4003);
    server.stop().await;
}

#[tokio::test]
async fn a_silent_connection_times_out() {
    let server = TestServer::start(|c| c.hub.heartbeat_ms = 100).await;
    let mut c = TcpClient::connect(server.tcp()).await;
    // Half a frame, then silence: the idle timer (3 heartbeats) closes it.
    c.send_raw(b"{\"type\":\"pi").await;
    let started = tokio::time::Instant::now();
    let frames = c.until_eof().await;
    let codes: Vec<_> = frames.iter().map(|f| f["code"].clone()).collect();
    assert_eq!(codes.last(), Some(&json!(4013)), "{frames:?}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    server.stop().await;
}

#[tokio::test]
async fn join_with_since_recovers_what_a_dropped_client_missed() {
    let server = TestServer::start(|_| {}).await;
    let mut publisher = TcpClient::connect(server.tcp()).await;
    let mut sub = TcpClient::connect(server.tcp()).await;
    sub.join("news", None).await;
    for i in 1..=2 {
        publisher.send(json!({"type":"publish","room":"news","body":i,"id":i})).await;
        publisher.recv_kind("ack").await;
    }
    assert_eq!(sub.recv_kind("message").await["seq"], 1);
    assert_eq!(sub.recv_kind("message").await["seq"], 2);
    drop(sub);
    for i in 3..=5 {
        publisher.send(json!({"type":"publish","room":"news","body":i,"id":i})).await;
        publisher.recv_kind("ack").await;
    }
    let mut back = TcpClient::connect(server.tcp()).await;
    let joined = back.join("news", Some(2)).await;
    assert_eq!((joined["seq"].as_u64(), joined["recovered"].as_bool()), (Some(5), Some(true)));
    for seq in 3..=5 {
        assert_eq!(back.recv().await["seq"], seq, "replay in order, no gap, no duplicate");
    }
    publisher.send(json!({"type":"publish","room":"news","body":6})).await;
    assert_eq!(back.recv().await["seq"], 6, "then live");
    server.stop().await;
}

#[tokio::test]
async fn join_reports_when_history_no_longer_reaches_back() {
    let server = TestServer::start(|c| c.hub.history_len = 2).await;
    let mut publisher = TcpClient::connect(server.tcp()).await;
    for i in 1..=5 {
        publisher.send(json!({"type":"publish","room":"r","body":i,"id":i})).await;
        publisher.recv_kind("ack").await;
    }
    let mut sub = TcpClient::connect(server.tcp()).await;
    let joined = sub.join("r", Some(1)).await;
    assert_eq!(joined["recovered"], false);
    assert_eq!(sub.recv().await["seq"], 4, "the replay starts at the oldest stored message");
    assert_eq!(sub.recv().await["seq"], 5);
    server.stop().await;
}

#[tokio::test]
async fn a_retried_publish_id_is_not_delivered_twice_across_a_reconnect() {
    let server = TestServer::start(|_| {}).await;
    let mut sub = TcpClient::connect(server.tcp()).await;
    sub.join("r", None).await;
    let mut first = TcpClient::connect(server.tcp()).await;
    first.hello(json!({"type":"hello","v":1,"client":"c-42"})).await;
    first.send(json!({"type":"publish","room":"r","body":"once","id":1})).await;
    assert_eq!(first.recv_kind("ack").await["seq"], 1);
    drop(first);

    let mut again = TcpClient::connect(server.tcp()).await;
    again.hello(json!({"type":"hello","v":1,"client":"c-42"})).await;
    again.send(json!({"type":"publish","room":"r","body":"once","id":1})).await;
    assert_eq!(again.recv_kind("ack").await["seq"], 1, "the original seq");
    again.send(json!({"type":"publish","room":"r","body":"next","id":2})).await;
    assert_eq!(again.recv_kind("ack").await["seq"], 2);

    assert_eq!(sub.recv_kind("message").await["body"], "once");
    let next = sub.recv_kind("message").await;
    assert_eq!(
        (next["seq"].as_u64(), &next["body"]),
        (Some(2), &json!("next")),
        "no duplicate in between"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_slow_consumer_is_cut_off_and_the_others_get_everything() {
    const BATCH: u64 = 200;
    const MAX_ROUNDS: u64 = 250; // 50 000 messages of 1 KB: far more than socket buffers hold
    let server = TestServer::start(|c| {
        c.hub.queue_bytes = 512 * 1024;
        c.hub.slow_after_ms = 500;
        c.hub.rate_per_sec = 0;
        c.shutdown_timeout = Duration::from_secs(2);
    })
    .await;
    let mut slow = TcpClient::connect(server.tcp()).await;
    slow.join("firehose", None).await; // ...and then never reads
    let mut fast = TcpClient::connect(server.tcp()).await;
    fast.join("firehose", None).await;
    let mut publisher = TcpClient::connect(server.tcp()).await;
    let body = "x".repeat(1000);
    let slow_consumers =
        || server.hub.metrics().slow_consumers.load(std::sync::atomic::Ordering::Relaxed);
    let mut published = 0;
    let mut fast_seqs = Vec::new();
    // Publish in rounds paced by the fast subscriber (so only the one that never reads falls
    // behind), until the server has cut the slow one off, plus one more round.
    let mut rounds_after_cut = 0;
    for _ in 0..MAX_ROUNDS {
        for _ in 0..BATCH {
            publisher.send(json!({"type":"publish","room":"firehose","body":body})).await;
        }
        published += BATCH;
        while (fast_seqs.len() as u64) < published {
            let frame = fast.recv().await;
            if frame["type"] == "message" {
                fast_seqs.push(frame["seq"].as_u64().unwrap());
            }
        }
        if slow_consumers() > 0 {
            rounds_after_cut += 1;
            if rounds_after_cut == 2 {
                break;
            }
        }
    }
    assert_eq!(slow_consumers(), 1, "the reader that never reads was cut off");
    assert_eq!(
        fast_seqs,
        (1..=published).collect::<Vec<_>>(),
        "the other subscriber got everything, in order"
    );
    publisher.send(json!({"type":"ping","id":1})).await;
    within("the publisher was never blocked", publisher.recv_kind("pong")).await;

    // The slow client now reads: what was in flight, then error 4011, then EOF — fewer messages
    // than were published, because its queue was bounded.
    let frames = slow.until_eof().await;
    let delivered = frames.iter().filter(|f| f["type"] == "message").count() as u64;
    assert!(delivered < published, "delivered {delivered} of {published}");
    assert_eq!(frames.last().unwrap()["code"], 4011, "{:?}", frames.last());
    server.stop().await;
}

#[tokio::test]
async fn binary_framing_after_a_binary_hello() {
    let server = TestServer::start(|_| {}).await;
    let room = RoomName::new("bin").unwrap();
    let mut c =
        BinaryTcpClient::connect(server.tcp(), json!({"type":"hello","v":1,"encoding":"binary"}))
            .await;
    let ServerFrame::Welcome(welcome) = c.recv().await else { panic!("welcome first") };
    assert!(welcome.session.starts_with("s-"));
    c.send(&ClientFrame::Join(Join { room: room.clone(), since: None, id: Some(1), epoch: None }))
        .await;
    assert!(matches!(c.recv().await, ServerFrame::Joined(j) if j.id == Some(1)));

    // A JSON publisher's message reaches the binary subscriber as a binary frame.
    let mut json_client = TcpClient::connect(server.tcp()).await;
    json_client.send(json!({"type":"publish","room":"bin","body":[1,2,3]})).await;
    let ServerFrame::Message(message) = c.recv().await else { panic!("message") };
    assert_eq!((message.seq, message.body.as_json_text()), (1, Some("[1,2,3]")));

    c.send(&ClientFrame::Publish(Publish { room, body: Body::Bytes(vec![0, 1, 2]), id: Some(5) }))
        .await;
    // The publisher's own message and its ack, in either order (docs/PROTOCOL.md, "Publish
    // acks"; with the Redis engine the ack may come first).
    let (first, second) = (c.recv().await, c.recv().await);
    let is_own = |f: &ServerFrame| matches!(f, ServerFrame::Message(m) if m.body == Body::Bytes(vec![0, 1, 2]));
    let is_ack = |f: &ServerFrame| matches!(f, ServerFrame::Ack(a) if a.id == 5 && a.seq == 2);
    assert!(
        (is_own(&first) && is_ack(&second)) || (is_ack(&first) && is_own(&second)),
        "{first:?} {second:?}"
    );

    // Garbage inside a well-framed binary frame: an error, and the stream goes on.
    c.send_prefixed(&[0x01]).await; // a version byte and nothing else
    assert!(matches!(c.recv().await, ServerFrame::Error(e) if e.code == 4000));
    c.send(&ClientFrame::Ping(enchufe_core::Ping { id: Some(8) })).await;
    assert!(matches!(c.recv().await, ServerFrame::Pong(p) if p.id == Some(8)));

    // A length over the limit closes the stream with 4003.
    c.send_prefixed(&vec![0u8; 70 * 1024]).await;
    assert!(matches!(c.recv().await, ServerFrame::Error(e) if e.code == 4003));
    assert!(c.next().await.is_none());
    server.stop().await;
}
