//! Recovery over each transport: the server disconnects the client (admin kick) while others
//! publish, and after the automatic reconnect the client has every message exactly once, in
//! order; a publish made while the client is offline is delivered exactly once after it is back.

mod client_support;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use client_support::{
    Relay, SCHEMES, TestServer, connect, kick, messages, next_matching, options, state, url, within,
};
use enchufe::client::{ConnState, Event};
use enchufe_core::ErrorCode;

/// A publisher keeps publishing while the subscriber is kicked twice (once early, once right
/// after it is back): the subscriber still sees 1..=N, each once, in order, without a gap.
async fn kicked_while_others_publish(scheme: &str) {
    let server = TestServer::start(|_| {}).await;
    let http = server.addr("http");
    let subject = connect(&server.url(scheme), options("subject")).await;
    within("join", subject.join("news", None)).await.expect("join");
    let publisher = connect(&server.url("tcp"), options("publisher")).await;
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                assert_eq!(publisher.publish_json("news", &n).await.expect("ack"), n);
            }
            publisher.close().await;
            n
        }
    });

    // One loop over every event, so that no message is skipped while waiting for another kind.
    let mut seen: Vec<u64> = Vec::new();
    let (mut kicks_sent, mut kicks_seen, mut reconnects) = (0, 0, 0);
    let mut sessions = vec![subject.session().expect("online")];
    let mut gaps = Vec::new();
    loop {
        let event = within("event", subject.next_event()).await.expect("not closed");
        match event {
            Event::Message(message) => {
                seen.push(message.seq);
                // Kick at the 10th message, then again at the first message after reconnecting.
                if (kicks_sent == 0 && message.seq == 10) || (kicks_sent == 1 && reconnects == 1) {
                    let session = subject.session().expect("online while receiving");
                    assert_eq!(kick(http, &session).await, 204, "{scheme}: kicked");
                    kicks_sent += 1;
                }
                if reconnects == 2 {
                    break;
                }
            }
            // UDP promises no retransmission: a datagram lost in a burst is a gap, filled below
            // from history as the protocol says. Streams never have one.
            Event::Gap { from, to, .. } if scheme == "udp" => gaps.push(from..=to),
            Event::Gap { from, to, .. } => panic!("{scheme}: gap {from}..={to}"),
            Event::Error { code, .. } => {
                assert_eq!(code, ErrorCode::Kicked.code(), "{scheme}");
                kicks_seen += 1;
            }
            Event::State(ConnState::Online { session }) => {
                sessions.push(session);
                reconnects = kicks_seen;
            }
            _ => {}
        }
    }
    stop.store(true, Ordering::SeqCst);
    let last = within("publisher", publishing).await.expect("publisher task");
    if scheme == "udp" {
        udp_fills_gaps_from_history(&subject, &seen, &gaps, last).await;
    } else {
        let rest = usize::try_from(last).expect("small") - seen.len();
        seen.extend(messages(&subject, rest).await.iter().map(|m| m.seq));
        assert_eq!(seen, (1..=last).collect::<Vec<_>>(), "{scheme}: every message once, in order");
    }
    assert_eq!(kicks_seen, 2, "{scheme}: both kicks reached the client");
    sessions.dedup();
    assert_eq!(sessions.len(), 3, "{scheme}: two reconnects, each a new session");
    subject.close().await;
    server.stop().await;
}

/// What UDP promises instead of a retransmission (docs/DECISIONS.md, UDP): live messages in
/// order and at most once, every one missing among them reported as a gap (or lost after the
/// last one received, which no later datagram can reveal), and history holding them all.
async fn udp_fills_gaps_from_history(
    subject: &enchufe::client::Client,
    seen: &[u64],
    gaps: &[std::ops::RangeInclusive<u64>],
    last: u64,
) {
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "udp: in order, each once: {seen:?}");
    let newest = seen.last().copied().unwrap_or(0);
    for seq in (1..=newest).filter(|seq| !seen.contains(seq)) {
        assert!(gaps.iter().any(|gap| gap.contains(&seq)), "udp: {seq} lost without a gap event");
    }
    // Small pages: a history answer must fit in one datagram.
    let mut stored = Vec::new();
    while stored.last().copied().unwrap_or(0) < last {
        let since = stored.last().copied();
        let page = within("history", subject.history("news", since, Some(10)))
            .await
            .expect("a history page");
        assert!(!page.is_empty(), "udp: history after {since:?}");
        stored.extend(page.iter().map(|m| m.seq));
    }
    assert_eq!(stored, (1..=last).collect::<Vec<_>>(), "udp: history holds every message");
}

#[tokio::test]
async fn ws_kicked_while_others_publish() {
    kicked_while_others_publish("ws").await;
}

#[tokio::test]
async fn tcp_kicked_while_others_publish() {
    kicked_while_others_publish("tcp").await;
}

#[tokio::test]
async fn udp_kicked_while_others_publish() {
    kicked_while_others_publish("udp").await;
}

/// The client is kicked and held offline (a relay refuses its new connections) while another
/// client publishes and while it publishes itself; once it can reconnect it gets the missed
/// messages and its own publish, exactly once and in order, and the other client gets that
/// publish exactly once too.
async fn offline_publish_delivered_once(scheme: &str) {
    let server = TestServer::start(|_| {}).await;
    let relay = Relay::start(scheme, server.addr(scheme)).await;
    let subject = Arc::new(connect(&url(scheme, relay.addr), options("subject")).await);
    let other = connect(&server.url("tcp"), options("other")).await;
    within("join", subject.join("r", None)).await.expect("join");
    within("join", other.join("r", None)).await.expect("join");
    within("publish", other.publish_json("r", &"one")).await.expect("ack");
    assert_eq!(messages(&subject, 1).await[0].seq, 1);

    // Offline: kicked, and every reconnect attempt goes nowhere until the relay unblocks.
    relay.block(true);
    let first_session = subject.session().expect("online");
    assert_eq!(kick(server.addr("http"), &first_session).await, 204);
    state(&subject, |s| matches!(s, ConnState::Waiting { .. })).await;
    for text in ["two", "three"] {
        within("publish", other.publish_json("r", &text)).await.expect("ack");
    }
    let offline = tokio::spawn({
        let subject = subject.clone();
        async move { subject.publish_json("r", &"from offline").await }
    });
    // Commands are handled in order: once this answers, the publish is in the outbox.
    within("last seq", subject.last_seq("r")).await.expect("seq");
    assert!(!subject.state().is_online(), "{scheme}: still offline when publishing");

    relay.block(false);
    let seq = within("offline publish", offline).await.expect("task").expect("acked");
    assert_eq!(seq, 4, "{scheme}: stored after the two missed messages");
    assert_ne!(subject.session().expect("online"), first_session, "{scheme}: a new session");
    within("publish", other.publish_json("r", &"five")).await.expect("ack");

    let got = messages(&subject, 4).await;
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), [2, 3, 4, 5], "{scheme}");
    assert_eq!(client_support::text(&got[2]), "\"from offline\"");
    let got = messages(&other, 5).await;
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5], "{scheme}");
    assert_eq!(
        (got[3].from.as_str(), client_support::text(&got[3])),
        ("subject", "\"from offline\"")
    );
    subject.close().await;
    other.close().await;
    server.stop().await;
}

#[tokio::test]
async fn ws_offline_publish_delivered_once() {
    offline_publish_delivered_once("ws").await;
}

#[tokio::test]
async fn tcp_offline_publish_delivered_once() {
    offline_publish_delivered_once("tcp").await;
}

#[tokio::test]
async fn udp_offline_publish_delivered_once() {
    offline_publish_delivered_once("udp").await;
}

/// A client that joins with `since` gets what it missed before it was even started, on every
/// transport.
#[tokio::test]
async fn join_since_replays_on_every_transport() {
    let server = TestServer::start(|_| {}).await;
    let publisher = connect(&server.url("tcp"), options("p")).await;
    for n in 1..=5 {
        within("publish", publisher.publish_json("archive", &n)).await.expect("ack");
    }
    for scheme in SCHEMES {
        let late = connect(&server.url(scheme), options("late")).await;
        let joined = within("join", late.join("archive", Some(2))).await.expect("join");
        assert!(joined.recovered && joined.seq == 5, "{scheme}: {joined:?}");
        let got = messages(&late, 3).await;
        assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), [3, 4, 5], "{scheme}");
        late.close().await;
    }
    publisher.close().await;
    server.stop().await;
}

/// Over UDP nothing says a path died: the client's heartbeat finds out (nothing received for
/// 2 × the server's heartbeat), and it reconnects and catches up once the path is back. While
/// the path is fine, its pings keep the server's session alive past the 3 × heartbeat expiry.
#[tokio::test]
async fn udp_heartbeat_keeps_the_session_and_detects_a_dead_path() {
    let server = TestServer::start(|config| config.hub.heartbeat_ms = 100).await;
    let relay = Relay::start("udp", server.addr("udp")).await;
    let subject = connect(&url("udp", relay.addr), options("subject")).await;
    let session = subject.session().expect("online");
    within("join", subject.join("beat", None)).await.expect("join");

    // Quiet for 5 heartbeats: only the client's pings flow, and they keep the session.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let other = connect(&server.url("tcp"), options("other")).await;
    within("publish", other.publish_json("beat", &1)).await.expect("ack");
    assert_eq!(messages(&subject, 1).await[0].seq, 1);
    assert_eq!(subject.session().as_deref(), Some(session.as_str()), "the same session");

    relay.cut(true);
    state(&subject, |s| matches!(s, ConnState::Waiting { .. })).await;
    within("publish", other.publish_json("beat", &2)).await.expect("ack");
    relay.cut(false);
    let ConnState::Online { session: back } = state(&subject, ConnState::is_online).await else {
        unreachable!()
    };
    assert_ne!(back, session, "a new session after the dead path");
    assert_eq!(messages(&subject, 1).await[0].seq, 2, "the missed message is recovered");
    subject.close().await;
    other.close().await;
    server.stop().await;
}

/// The server restarts (its history is in memory) while the client is held offline, and the new
/// server numbers more messages than the client had seen before: the client learns that the
/// room was numbered anew (a new epoch) and gets every new message, from seq 1, exactly once.
#[tokio::test]
async fn tcp_server_restart_while_offline_renumbers_the_room() {
    let first = TestServer::start(|_| {}).await;
    let tcp = first.addr("tcp");
    let relay = Relay::start("tcp", tcp).await;
    let subject = connect(&url("tcp", relay.addr), options("subject")).await;
    within("join", subject.join("r", None)).await.expect("join");
    let publisher = connect(&first.url("tcp"), options("before")).await;
    for n in 1..=3 {
        within("publish", publisher.publish_json("r", &format!("old {n}"))).await.expect("ack");
    }
    assert_eq!(messages(&subject, 3).await.last().map(|m| m.seq), Some(3));
    publisher.close().await;

    // Offline across the restart; the new server listens where the old one did.
    relay.block(true);
    first.stop().await;
    state(&subject, |s| matches!(s, ConnState::Waiting { .. })).await;
    let second = TestServer::start(|config| config.tcp = Some(tcp)).await;
    let publisher = connect(&second.url("tcp"), options("after")).await;
    for n in 1..=5 {
        within("publish", publisher.publish_json("r", &format!("new {n}"))).await.expect("ack");
    }
    relay.block(false);

    let reset = next_matching(&subject, |event| match event {
        Event::Reset { room, .. } => Some(room),
        Event::Message(m) => panic!("a message before the reset: {m:?}"),
        Event::Gap { from, to, .. } => panic!("gap {from}..={to}"),
        _ => None,
    })
    .await;
    assert_eq!(reset.as_str(), "r");
    let got = messages(&subject, 5).await;
    let texts: Vec<&str> = got.iter().map(client_support::text).collect();
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(texts, ["\"new 1\"", "\"new 2\"", "\"new 3\"", "\"new 4\"", "\"new 5\""]);
    subject.close().await;
    publisher.close().await;
    second.stop().await;
}
