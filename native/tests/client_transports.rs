//! The native client over each transport (WebSocket, TCP, UDP; JSON and binary): join, publish
//! → ack with the seq, and others' messages arrive.

mod client_support;

use client_support::{SCHEMES, TestServer, connect, messages, options, text, within};
use enchufe::client::{Event, Options};

/// Two clients on `scheme` in one room: each publish is acked with the next seq, and both see
/// every message once, in order, with the sender's name.
async fn publish_and_receive(scheme: &str, tweak: fn(Options) -> Options) {
    let server = TestServer::start(|_| {}).await;
    let url = server.url(scheme);
    let ana = connect(&url, tweak(options("ana"))).await;
    let bob = connect(&url, tweak(options("bob"))).await;
    let joined = within("join", ana.join("lobby", None)).await.expect("ana joins");
    assert_eq!((joined.room.as_str(), joined.seq), ("lobby", 0));
    let joined = within("join", bob.join("lobby", None)).await.expect("bob joins");
    assert_eq!(joined.members.len(), 2, "{scheme}: bob sees ana and himself");

    let first = within("publish", ana.publish_json("lobby", &"hola")).await.expect("ack");
    let second = within("publish", bob.publish_json("lobby", &serde_json::json!({"n": 2})))
        .await
        .expect("ack");
    assert_eq!((first, second), (1, 2), "{scheme}: acks carry the room's seqs");

    for client in [&ana, &bob] {
        let got = messages(client, 2).await;
        assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2], "{scheme}");
        assert_eq!((got[0].from.as_str(), text(&got[0])), ("ana", "\"hola\""), "{scheme}");
        assert_eq!((got[1].from.as_str(), text(&got[1])), ("bob", r#"{"n":2}"#), "{scheme}");
    }
    ana.close().await;
    bob.close().await;
    server.stop().await;
}

#[tokio::test]
async fn ws_json() {
    publish_and_receive("ws", |o| o).await;
}

#[tokio::test]
async fn ws_binary() {
    publish_and_receive("ws", |o| o.binary(true)).await;
}

#[tokio::test]
async fn tcp_json() {
    publish_and_receive("tcp", |o| o).await;
}

#[tokio::test]
async fn tcp_binary() {
    publish_and_receive("tcp", |o| o.binary(true)).await;
}

#[tokio::test]
async fn udp_json() {
    publish_and_receive("udp", |o| o).await;
}

#[tokio::test]
async fn udp_binary() {
    publish_and_receive("udp", |o| o.binary(true)).await;
}

/// Presence, history and leave work the same on every transport.
#[tokio::test]
async fn presence_history_and_leave_on_every_transport() {
    let server = TestServer::start(|_| {}).await;
    for scheme in SCHEMES {
        let room = format!("room-{scheme}");
        let ana = connect(&server.url(scheme), options("ana")).await;
        let bob = connect(&server.url(scheme), options("bob")).await;
        within("join", ana.join(&room, None)).await.expect("join");
        within("join", bob.join(&room, None)).await.expect("join");
        let presence = client_support::next_matching(&ana, |event| match event {
            Event::Presence(p) => Some(p),
            _ => None,
        })
        .await;
        assert_eq!(presence.member.name.as_deref(), Some("bob"), "{scheme}");

        for n in 1..=3 {
            within("publish", bob.publish_json(&room, &n)).await.expect("ack");
        }
        let history = within("history", ana.history(&room, Some(1), Some(10))).await.expect("h");
        assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), [2, 3], "{scheme}");

        within("leave", ana.leave(&room)).await.expect("left");
        let refused = within("leave", ana.leave(&room)).await.expect_err("not joined any more");
        assert_eq!(refused.code(), Some(enchufe_core::ErrorCode::NotJoined), "{scheme}");
        assert_eq!(within("last seq", ana.last_seq(&room)).await.expect("seq"), None);
        ana.close().await;
        bob.close().await;
    }
    server.stop().await;
}

/// A server that is not there fails `connect` with a typed error instead of hanging.
#[tokio::test]
async fn connect_to_nothing_fails() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let error = within("connect", enchufe::client::connect(&format!("tcp://{addr}"), options("x")))
        .await
        .expect_err("nothing listens there");
    assert!(matches!(error, enchufe::client::Error::Connect { .. }), "{error:?}");
    let error = enchufe::client::connect("smtp://x", options("x")).await.expect_err("bad scheme");
    assert!(matches!(error, enchufe::client::Error::InvalidUrl { .. }), "{error:?}");
}

/// Two joins of the same room in flight at once are each answered (each `join` gets its own
/// `joined`), on every transport.
#[tokio::test]
async fn two_joins_of_one_room_at_once_both_complete() {
    let server = TestServer::start(|_| {}).await;
    for scheme in SCHEMES {
        let client = connect(&server.url(scheme), options("twice")).await;
        let (first, second) = within("both joins", async {
            tokio::join!(client.join("same", None), client.join("same", None))
        })
        .await;
        let (first, second) = (first.expect("first join"), second.expect("second join"));
        assert_eq!((first.room.as_str(), second.room.as_str()), ("same", "same"), "{scheme}");
        client.close().await;
    }
    server.stop().await;
}
