//! The UDP transport on real sockets: the cookie handshake, anti-amplification, the 1200-byte
//! datagram limit (4012 and the seq gap a client sees), inbound size limit, idle expiry, and
//! answers in the encoding of the datagram answered.
//!
//! Absence is proven by order, not by waiting: the server handles one socket's datagrams in
//! order and loopback keeps them in order, so when a probe sent after datagram X is answered
//! first, X got no answer.

mod client_support;

use std::{net::SocketAddr, time::Duration};

use client_support::{TestServer, connect, next_matching, options, within};
use enchufe::{
    client::{Event, HELLO_SIZE},
    hub::Transport,
};
use enchufe_core::{
    ErrorCode, RoomName, ServerFrame,
    codec::{Frame, binary},
};
use serde_json::{Value, json};
use tokio::net::UdpSocket;

/// A raw UDP peer, one socket connected to the server.
struct Peer {
    socket: UdpSocket,
}

impl Peer {
    async fn new(server: SocketAddr) -> Peer {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        socket.connect(server).await.expect("connect");
        Peer { socket }
    }

    async fn send(&self, bytes: &[u8]) {
        self.socket.send(bytes).await.expect("send");
    }

    async fn send_json(&self, value: &Value) {
        self.send(&serde_json::to_vec(value).expect("json")).await;
    }

    /// The next datagram, raw.
    async fn recv(&self) -> Vec<u8> {
        let mut buf = vec![0; 65_536];
        let len = within("datagram", self.socket.recv(&mut buf)).await.expect("recv");
        buf.truncate(len);
        buf
    }

    /// The next datagram, decoded.
    async fn frame(&self) -> ServerFrame {
        let bytes = self.recv().await;
        match bytes.first() {
            Some(&binary::VERSION) => ServerFrame::decode_binary(&bytes),
            _ => ServerFrame::decode_json(&bytes),
        }
        .expect("a server frame")
    }

    /// Validates the address and opens a session; returns the session id.
    async fn handshake(&self, name: &str) -> String {
        self.send(&padded(json!({"type": "hello", "v": 1, "name": name}))).await;
        let cookie = match self.frame().await {
            ServerFrame::Challenge(challenge) => challenge.cookie,
            other => panic!("expected a challenge, got {other:?}"),
        };
        let hello = json!({"type": "hello", "v": 1, "name": name, "cookie": cookie});
        self.send(&padded(hello)).await;
        match self.frame().await {
            ServerFrame::Welcome(welcome) => welcome.session,
            other => panic!("expected welcome, got {other:?}"),
        }
    }
}

/// `value` (a JSON object) padded with a `pad` field to [`HELLO_SIZE`] bytes, as clients do.
fn padded(mut value: Value) -> Vec<u8> {
    let len = serde_json::to_vec(&value).expect("json").len();
    let pad = HELLO_SIZE - len - r#","pad":"""#.len();
    value["pad"] = Value::String(" ".repeat(pad));
    let bytes = serde_json::to_vec(&value).expect("json");
    assert_eq!(bytes.len(), HELLO_SIZE);
    bytes
}

fn error_code(frame: &ServerFrame) -> Option<u16> {
    match frame {
        ServerFrame::Error(error) => Some(error.code),
        _ => None,
    }
}

#[tokio::test]
async fn handshake_then_the_protocol_and_per_transport_metrics() {
    let server = TestServer::start(|_| {}).await;
    let peer = Peer::new(server.addr("udp")).await;
    let session = peer.handshake("ana").await;
    assert!(session.starts_with("s-"));
    assert_eq!(server.hub.metrics().connections(Transport::Udp), 1);
    assert!(server.hub.metrics().render().contains("enchufe_connections{transport=\"udp\"} 1"));

    peer.send_json(&json!({"type": "join", "room": "r", "id": 1})).await;
    assert!(matches!(peer.frame().await, ServerFrame::Joined(j) if j.id == Some(1)));
    peer.send_json(&json!({"type": "publish", "room": "r", "body": "hi", "id": 2})).await;
    let mut got = [peer.frame().await, peer.frame().await];
    got.sort_by_key(|f| f.kind());
    assert!(matches!(&got[0], ServerFrame::Ack(a) if a.id == 2 && a.seq == 1), "{got:?}");
    assert!(matches!(&got[1], ServerFrame::Message(m) if m.from == "ana" && m.seq == 1));
    server.stop().await;
}

#[tokio::test]
async fn a_short_hello_gets_no_answer_larger_than_itself() {
    let server = TestServer::start(|_| {}).await;
    let peer = Peer::new(server.addr("udp")).await;
    let bare = br#"{"type":"hello","v":1}"#;
    peer.send(bare).await;
    // Probe: a padded non-hello from the unknown address is answered with 4005.
    peer.send(&padded(json!({"type": "ping", "id": 7}))).await;
    let first = peer.recv().await;
    let frame = ServerFrame::decode_json(&first).expect("frame");
    assert_eq!(error_code(&frame), Some(ErrorCode::HelloRequired.code()), "{frame:?}");
    // A short non-hello whose answer would be larger is not answered either.
    peer.send(br#"{"type":"ping"}"#).await;
    peer.send(&padded(json!({"type": "hello", "v": 1}))).await;
    let challenge = peer.recv().await;
    assert!(challenge.len() <= HELLO_SIZE);
    assert!(matches!(ServerFrame::decode_json(&challenge), Ok(ServerFrame::Challenge(_))));
    assert_eq!(server.hub.session_count(), 0, "no session before the cookie comes back");
    server.stop().await;
}

#[tokio::test]
async fn an_unvalidated_peer_never_gets_a_welcome() {
    let server = TestServer::start(|_| {}).await;
    let udp = server.addr("udp");
    let (x, y) = (Peer::new(udp).await, Peer::new(udp).await);

    // A made-up cookie earns a challenge, not a welcome.
    y.send(&padded(json!({"type": "hello", "v": 1, "cookie": "00000000000000000000000000000000"})))
        .await;
    let ServerFrame::Challenge(_) = y.frame().await else { panic!("expected a challenge") };

    // X's cookie does not validate Y's address.
    x.send(&padded(json!({"type": "hello", "v": 1}))).await;
    let ServerFrame::Challenge(challenge) = x.frame().await else { panic!("expected a challenge") };
    y.send(&padded(json!({"type": "hello", "v": 1, "cookie": challenge.cookie}))).await;
    let ServerFrame::Challenge(_) = y.frame().await else { panic!("expected a challenge") };

    // Frames from an unvalidated address do nothing: the publish is refused and not stored.
    let publish = json!({"type": "publish", "room": "r", "body": "x".repeat(100), "id": 1});
    y.send_json(&publish).await;
    assert_eq!(error_code(&y.frame().await), Some(ErrorCode::HelloRequired.code()));
    let room = RoomName::new("r").expect("room");
    assert!(server.hub.history(&room, None, None, enchufe::clock::now()).is_empty());
    assert_eq!(server.hub.session_count(), 0);

    // With its own cookie, X gets in.
    let hello = json!({"type": "hello", "v": 1, "cookie": challenge.cookie});
    x.send(&padded(hello)).await;
    assert!(matches!(x.frame().await, ServerFrame::Welcome(_)));
    server.stop().await;
}

/// A message too large for a datagram is not sent: the UDP client gets 4012 naming the room
/// and seq, then the gap, then the next message; it stays online.
#[tokio::test]
async fn an_oversize_message_is_refused_with_4012_and_seen_as_a_gap() {
    let server = TestServer::start(|_| {}).await;
    let udp = connect(&server.url("udp"), options("udp")).await;
    let tcp = connect(&server.url("tcp"), options("tcp")).await;
    within("join", udp.join("big", None)).await.expect("join");
    let huge = "x".repeat(2000);
    assert_eq!(within("publish", tcp.publish_json("big", &huge)).await.expect("ack"), 1);
    assert_eq!(within("publish", tcp.publish_json("big", &"small")).await.expect("ack"), 2);

    let (code, message) = next_matching(&udp, |event| match event {
        Event::Error { code, message } => Some((code, message)),
        Event::Message(m) => panic!("message {} arrived before the refusal", m.seq),
        _ => None,
    })
    .await;
    assert_eq!(code, ErrorCode::TooLargeForDatagram.code());
    assert!(message.contains("message 1 of room big"), "{message}");
    let gap = next_matching(&udp, |event| match event {
        Event::Gap { room, from, to } => Some((room.to_string(), from, to)),
        Event::Message(m) => panic!("message {} arrived before the gap", m.seq),
        _ => None,
    })
    .await;
    assert_eq!(gap, ("big".to_owned(), 1, 1));
    let next = client_support::next_message(&udp).await;
    assert_eq!((next.seq, client_support::text(&next)), (2, "\"small\""));
    assert!(udp.state().is_online(), "4012 does not end the session");

    // The message is still there for a transport that can carry it.
    let history = within("history", tcp.history("big", Some(0), None)).await.expect("history");
    assert_eq!(history[0].body.len(), huge.len() + 2);
    udp.close().await;
    tcp.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_datagram_over_max_frame_is_dropped() {
    let server = TestServer::start(|config| config.hub.max_frame = 512).await;
    let peer = Peer::new(server.addr("udp")).await;
    // The handshake's padded hello is larger than max_frame here, so it is sent unpadded: the
    // challenge is no larger than it.
    peer.send(br#"{"type":"hello","v":1,"pad":"                                              "}"#)
        .await;
    let ServerFrame::Challenge(challenge) = peer.frame().await else { panic!("challenge") };
    let hello = json!({"type": "hello", "v": 1, "cookie": challenge.cookie});
    peer.send_json(&hello).await;
    assert!(matches!(peer.frame().await, ServerFrame::Welcome(_)));

    let big = json!({"type": "publish", "room": "r", "body": "x".repeat(1000), "id": 1});
    peer.send_json(&big).await;
    peer.send_json(&json!({"type": "ping", "id": 2})).await;
    let answer = peer.frame().await;
    assert!(matches!(answer, ServerFrame::Pong(ref p) if p.id == Some(2)), "{answer:?}");
    let room = RoomName::new("r").expect("room");
    assert!(
        server.hub.history(&room, None, None, enchufe::clock::now()).is_empty(),
        "the big publish was dropped"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_idle_session_expires() {
    let server = TestServer::start(|config| config.hub.heartbeat_ms = 100).await;
    let peer = Peer::new(server.addr("udp")).await;
    peer.handshake("sleepy").await;
    peer.send_json(&json!({"type": "join", "room": "r", "id": 1})).await;
    assert!(matches!(peer.frame().await, ServerFrame::Joined(_)));
    // Silence for 3 × 100 ms: the server says why it ends the session.
    let started = tokio::time::Instant::now();
    let frame = peer.frame().await;
    assert_eq!(error_code(&frame), Some(ErrorCode::IdleTimeout.code()), "{frame:?}");
    assert!(started.elapsed() >= Duration::from_millis(250), "not before 3 heartbeats");
    // The address is a stranger again.
    peer.send(&padded(json!({"type": "ping", "id": 3}))).await;
    assert_eq!(error_code(&peer.frame().await), Some(ErrorCode::HelloRequired.code()));
    assert_eq!(server.hub.session_count(), 0);
    assert_eq!(server.hub.rooms()[0].members, 0, "it left its room");
    server.stop().await;
}

#[tokio::test]
async fn answers_follow_the_encoding_of_the_datagram() {
    let server = TestServer::start(|_| {}).await;
    let peer = Peer::new(server.addr("udp")).await;
    peer.handshake("bilingual").await;
    let mut ping = Vec::new();
    enchufe_core::ClientFrame::Ping(enchufe_core::Ping { id: Some(5) }).encode_binary(&mut ping);
    peer.send(&ping).await;
    let pong = peer.recv().await;
    assert_eq!(pong.first(), Some(&binary::VERSION), "binary in, binary out");
    peer.send_json(&json!({"type": "ping", "id": 6})).await;
    let pong = peer.recv().await;
    assert_eq!(pong.first(), Some(&b'{'), "JSON in, JSON out");
    // A binary frame of a version this server does not speak: 4004, not taken for broken JSON.
    peer.send(&[0x02, 0x80, 0x00]).await;
    let refused = peer.frame().await;
    assert!(matches!(&refused, ServerFrame::Error(e) if e.code == 4004), "{refused:?}");
    server.stop().await;
}

#[tokio::test]
async fn shutdown_tells_udp_peers() {
    let server = TestServer::start(|_| {}).await;
    let peer = Peer::new(server.addr("udp")).await;
    peer.handshake("leaving").await;
    server.shutdown.trigger();
    let frame = peer.frame().await;
    assert_eq!(error_code(&frame), Some(ErrorCode::ShuttingDown.code()), "{frame:?}");
    server.stop().await;
}

/// A client whose `welcome` datagram was lost sends its `hello` again and gets the same
/// session's `welcome` again, instead of an error it cannot recover from.
#[tokio::test]
async fn a_repeated_hello_gets_the_welcome_again() {
    let server = TestServer::start(|_| {}).await;
    let peer = Peer::new(server.addr("udp")).await;
    let session = peer.handshake("forgetful").await;
    peer.send(&padded(json!({"type": "hello", "v": 1, "name": "forgetful"}))).await;
    match peer.frame().await {
        ServerFrame::Welcome(welcome) => assert_eq!(welcome.session, session),
        other => panic!("expected the welcome again, got {other:?}"),
    }
    server.stop().await;
}
