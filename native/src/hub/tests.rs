//! The hub's rules, driven through sessions without any socket.

use std::sync::Arc;

use enchufe_core::{
    Body, ClientFrame, ErrorCode, Hello, HistoryRequest, Join, Leave, PresenceAction, Publish,
    RoomName, ServerFrame,
};

use super::*;
use crate::metrics::Metrics;

fn hub(config: HubConfig) -> Hub {
    Hub::new(config, Arc::new(Metrics::default()), crate::mac::Key::random())
}

/// The moment `ms` into a test (the hub reads no clock: tests say what time it is).
fn at(ms: u64) -> Now {
    Now { ms, unix_ms: 1_700_000_000_000 + ms }
}

fn room(name: &str) -> RoomName {
    RoomName::new(name).unwrap()
}

fn join(name: &str, since: Option<u64>) -> ClientFrame {
    ClientFrame::Join(Join { room: room(name), since, id: None, epoch: None })
}

fn publish(name: &str, text: &str, id: Option<u64>) -> ClientFrame {
    ClientFrame::Publish(Publish { room: room(name), body: Body::json(&text).unwrap(), id })
}

fn hello(client: &str) -> ClientFrame {
    ClientFrame::Hello(Hello { v: 1, client: Some(client.into()), ..Hello::default() })
}

/// Everything queued for `session` now: batch after batch, a replay pulled as the writer would.
fn drain(session: &Session) -> Vec<ServerFrame> {
    let mut frames = Vec::new();
    while !session.queue().is_empty() {
        frames.extend(take(session));
    }
    frames
}

/// One batch the writer would take now (a replay at the front is pulled).
fn take(session: &Session) -> Vec<ServerFrame> {
    let mut batch = Vec::new();
    let queue = session.queue().clone();
    tokio_test_block_on(async move {
        queue.next_batch(&mut batch).await;
        batch
    })
    .iter()
    .map(|o| o.frame().clone())
    .collect()
}

fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
}

fn seqs(frames: &[ServerFrame]) -> Vec<u64> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message(m) => Some(m.seq),
            _ => None,
        })
        .collect()
}

fn error_codes(frames: &[ServerFrame]) -> Vec<u16> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Error(e) => Some(e.code),
            _ => None,
        })
        .collect()
}

#[test]
fn a_first_frame_other_than_hello_implies_one() {
    let hub = hub(HubConfig::default());
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), ClientFrame::Ping(enchufe_core::Ping { id: Some(1) }));
    let frames = drain(&s);
    assert!(matches!(&frames[0], ServerFrame::Welcome(w) if w.session == s.id()));
    assert!(matches!(&frames[1], ServerFrame::Pong(p) if p.id == Some(1)));
}

#[test]
fn subscribers_see_one_order_and_the_publisher_gets_acks() {
    let hub = hub(HubConfig::default());
    let mut a = hub.open(Transport::Tcp, at(0));
    let mut b = hub.open(Transport::Ws, at(0));
    a.handle(at(0), join("r", None));
    b.handle(at(0), join("r", None));
    drain(&a);
    drain(&b);
    for i in 0..5 {
        b.handle(at(0), publish("r", &format!("m{i}"), Some(i)));
    }
    assert_eq!(seqs(&drain(&a)), vec![1, 2, 3, 4, 5]);
    let frames = drain(&b);
    assert_eq!(seqs(&frames), vec![1, 2, 3, 4, 5]);
    let acked: Vec<u64> = acks(&frames).into_iter().map(|(_, seq)| seq).collect();
    assert_eq!(acked, vec![1, 2, 3, 4, 5]);
}

fn acks(frames: &[ServerFrame]) -> Vec<(u64, u64)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Ack(a) => Some((a.id, a.seq)),
            _ => None,
        })
        .collect()
}

/// A transport that gathers publishes (`hub/run.rs`): a run waits for `flush`, or for a frame
/// that is not a publish to its room, and then goes out whole, in order, each publish answered.
#[test]
fn a_run_of_publishes_goes_out_whole_when_flushed_or_interrupted() {
    let hub = hub(HubConfig::default());
    let mut sub = hub.open(Transport::Tcp, at(0));
    sub.handle(at(0), join("r", None));
    sub.handle(at(0), join("q", None));
    drain(&sub);
    let mut p = hub.open(Transport::Tcp, at(0));
    p.batch_publishes();
    p.handle(at(0), hello("pub"));
    drain(&p);
    for i in 1..=3 {
        p.handle(at(0), publish("r", &format!("m{i}"), Some(i)));
    }
    // The same id again, within the run: one message, acked twice with its seq.
    p.handle(at(0), publish("r", "m3", Some(3)));
    assert!(drain(&sub).is_empty() && drain(&p).is_empty(), "gathered, not yet fanned out");
    p.flush();
    assert_eq!(seqs(&drain(&sub)), vec![1, 2, 3]);
    assert_eq!(acks(&drain(&p)), vec![(1, 1), (2, 2), (3, 3), (3, 3)]);

    // A publish to another room, then a ping: each sends out the run before it.
    p.handle(at(0), publish("r", "m4", Some(4)));
    p.handle(at(0), publish("q", "x", Some(5)));
    assert_eq!(seqs(&drain(&sub)), vec![4]);
    p.handle(at(0), ClientFrame::Ping(enchufe_core::Ping { id: Some(6) }));
    let frames = drain(&sub);
    assert!(matches!(&frames[..], [ServerFrame::Message(m)] if m.room == room("q")));
    let answers = drain(&p);
    assert_eq!(acks(&answers), vec![(4, 4), (5, 1)]);
    assert!(matches!(answers.last(), Some(ServerFrame::Pong(_))), "the pong after the acks");

    // A run as long as MAX_RUN goes out without waiting; and dropping the session sends the
    // rest: what a client sent before it left is published.
    for i in 0..run::MAX_RUN as u64 + 2 {
        p.handle(at(0), publish("r", "n", Some(100 + i)));
    }
    assert_eq!(seqs(&drain(&sub)).len(), run::MAX_RUN);
    drop(p);
    assert_eq!(seqs(&drain(&sub)), vec![69, 70]);
}

#[test]
fn a_repeated_publish_id_from_the_same_client_is_acked_but_not_delivered() {
    let hub = hub(HubConfig::default());
    let mut sub = hub.open(Transport::Tcp, at(0));
    sub.handle(at(0), join("r", None));
    let mut first = hub.open(Transport::Tcp, at(0));
    first.handle(at(0), hello("client-1"));
    first.handle(at(0), publish("r", "once", Some(9)));
    drop(first);
    let mut again = hub.open(Transport::Tcp, at(0));
    again.handle(at(0), hello("client-1"));
    again.handle(at(0), publish("r", "once", Some(9)));
    let frames = drain(&again);
    assert!(frames.iter().any(|f| matches!(f, ServerFrame::Ack(a) if a.id == 9 && a.seq == 1)));
    assert_eq!(seqs(&drain(&sub)), vec![1]);
    // Another client may use the same id.
    let mut other = hub.open(Transport::Tcp, at(0));
    other.handle(at(0), hello("client-2"));
    other.handle(at(0), publish("r", "other", Some(9)));
    assert_eq!(seqs(&drain(&sub)), vec![2]);
}

#[test]
fn join_with_since_replays_then_reports_recovery() {
    let config = HubConfig { history_len: 3, ..HubConfig::default() };
    let hub = hub(config);
    let mut p = hub.open(Transport::Tcp, at(0));
    for i in 0..5 {
        p.handle(at(0), publish("r", &format!("m{i}"), None));
    }
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), join("r", Some(3)));
    let frames = drain(&s);
    assert!(matches!(&frames[1], ServerFrame::Joined(j) if j.seq == 5 && j.recovered));
    assert_eq!(seqs(&frames), vec![4, 5]);
    s.handle(at(0), join("r", Some(0)));
    let frames = drain(&s);
    assert!(matches!(&frames[0], ServerFrame::Joined(j) if !j.recovered), "{frames:?}");
    assert_eq!(seqs(&frames), vec![3, 4, 5]);
    s.handle(at(0), join("r", Some(99)));
    let frames = drain(&s);
    assert!(matches!(&frames[0], ServerFrame::Joined(j) if !j.recovered));
}

#[test]
fn a_replay_is_pulled_then_the_member_goes_live_with_no_gap_and_no_duplicate() {
    let hub = hub(HubConfig::default());
    let mut p = hub.open(Transport::Tcp, at(0));
    for i in 0..5 {
        p.handle(at(0), publish("r", &format!("m{i}"), None));
    }
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), join("r", Some(0)));
    assert_eq!(s.queue().len(), 3, "welcome, joined, and the replay as one entry");
    p.handle(at(0), publish("r", "during", None)); // not pushed: the replay will pull it
    assert_eq!(s.queue().len(), 3);
    assert!(seqs(&take(&s)).is_empty(), "welcome and joined first");
    assert_eq!(seqs(&take(&s)), vec![1, 2, 3, 4, 5, 6], "pulled up to the latest");
    p.handle(at(0), publish("r", "after", None));
    assert_eq!(seqs(&drain(&s)), vec![7], "then live");
}

#[test]
fn a_replay_that_history_outruns_is_cut_but_one_whose_member_left_just_ends() {
    let hub = hub(HubConfig { history_len: 3, ..HubConfig::default() });
    let mut p = hub.open(Transport::Tcp, at(0));
    for i in 0..3 {
        p.handle(at(0), publish("r", &format!("m{i}"), None));
    }
    let mut slow = hub.open(Transport::Tcp, at(0));
    slow.handle(at(0), join("r", Some(0)));
    let mut gone = hub.open(Transport::Tcp, at(0));
    gone.handle(at(0), join("r", Some(0)));
    take(&slow);
    take(&gone);
    for i in 3..7 {
        p.handle(at(0), publish("r", &format!("m{i}"), None)); // evicts seqs 1 to 4
    }
    let frames = take(&slow);
    assert_eq!(error_codes(&frames), vec![ErrorCode::SlowConsumer.code()]);
    assert!(slow.is_closed());
    gone.handle(at(0), ClientFrame::Leave(Leave { room: room("r"), id: None }));
    let frames = drain(&gone);
    assert!(seqs(&frames).is_empty() && error_codes(&frames).is_empty(), "{frames:?}");
    assert!(matches!(frames.last(), Some(ServerFrame::Left(_))));
}

#[test]
fn presence_stops_above_the_limit_and_member_lists_are_capped() {
    let hub = hub(HubConfig { presence_limit: 3, ..HubConfig::default() });
    let sessions: Vec<Session> = (0..5)
        .map(|_| {
            let mut s = hub.open(Transport::Tcp, at(0));
            s.handle(at(0), join("r", None));
            s
        })
        .collect();
    let presence = |frames: &[ServerFrame]| {
        frames.iter().filter(|f| matches!(f, ServerFrame::Presence(_))).count()
    };
    let counts: Vec<usize> = sessions.iter().map(|s| presence(&drain(s))).collect();
    assert_eq!(counts, vec![2, 1, 0, 0, 0], "joins 2 and 3 are announced, 4 and 5 are not");
    let mut late = hub.open(Transport::Tcp, at(0));
    late.handle(at(0), join("r", None));
    let frames = drain(&late);
    let Some(ServerFrame::Joined(joined)) = frames.get(1) else { panic!("{frames:?}") };
    assert_eq!(joined.members.len(), 3);
    assert_eq!(joined.members[0].session, late.id(), "the joining member is listed first");
}

#[test]
fn presence_tells_the_others_about_joins_leaves_and_disconnects() {
    let hub = hub(HubConfig::default());
    let mut a = hub.open(Transport::Tcp, at(0));
    a.handle(at(0), join("r", None));
    let mut b = hub.open(Transport::Ws, at(0));
    b.handle(
        at(0),
        ClientFrame::Hello(Hello { v: 1, name: Some("bea".into()), ..Hello::default() }),
    );
    b.handle(at(0), join("r", None));
    let b_frames = drain(&b);
    assert!(matches!(&b_frames[1], ServerFrame::Joined(j) if j.members.len() == 2));
    let frames = drain(&a);
    assert!(matches!(&frames[2], ServerFrame::Presence(p)
        if p.action == PresenceAction::Join && p.member.name.as_deref() == Some("bea")));
    b.handle(at(0), ClientFrame::Leave(Leave { room: room("r"), id: Some(4) }));
    assert!(matches!(&drain(&a)[0], ServerFrame::Presence(p) if p.action == PresenceAction::Leave));
    b.handle(at(0), join("r", None));
    drain(&a);
    drop(b);
    assert!(matches!(&drain(&a)[0], ServerFrame::Presence(p) if p.action == PresenceAction::Leave));
    assert_eq!(hub.rooms()[0].members, 1);
}

#[test]
fn limits_are_refused_with_typed_errors() {
    let config = HubConfig { max_rooms: 2, ..HubConfig::default() };
    let hub = hub(config);
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), join("a", None));
    s.handle(at(0), join("b", None));
    s.handle(at(0), join("c", None));
    s.handle(at(0), join("a", None));
    s.handle(at(0), ClientFrame::Leave(Leave { room: room("zz"), id: Some(1) }));
    s.handle(
        at(0),
        ClientFrame::History(HistoryRequest {
            room: room("a"),
            since: None,
            limit: Some(0),
            id: None,
        }),
    );
    s.handle(at(0), hello("late"));
    let codes = error_codes(&drain(&s));
    assert_eq!(codes, vec![4006, 4007, 4008, 4008]);
    assert!(!s.is_closed());
}

#[tokio::test]
async fn only_a_stalled_consumer_is_cut_off_and_the_others_are_not_hurt() {
    let config = HubConfig { queue_bytes: 1000, slow_after_ms: 1000, ..HubConfig::default() };
    let hub = hub(config);
    let mut slow = hub.open(Transport::Tcp, at(0));
    slow.handle(at(0), join("r", None));
    let mut fast = hub.open(Transport::Tcp, at(0));
    fast.handle(at(0), join("r", None));
    let mut publisher = hub.open(Transport::Tcp, at(0));
    let mut fast_seqs = Vec::new();
    let mut batch = Vec::new();
    let mut take = async |session: &Session| {
        batch.clear();
        session.queue().next_batch(&mut batch).await;
        seqs(&batch.iter().map(|o| o.frame().clone()).collect::<Vec<_>>())
    };
    take(&slow).await; // joined; then the slow one stops taking
    for i in 0..50 {
        publisher.handle(at(0), publish("r", &format!("m{i}"), None));
        fast_seqs.extend(take(&fast).await);
    }
    assert!(slow.queue().is_paused(), "far over its high-water mark");
    assert_eq!(hub.handle_timeout(at(0)), 0, "the timer sees it over the mark: the clock starts");
    assert_eq!(hub.handle_timeout(at(999)), 0, "not stalled for the deadline yet: not cut");
    assert!(!slow.is_closed());
    assert_eq!(hub.handle_timeout(at(1000)), 1, "nothing taken for the deadline: cut");
    publisher.handle(at(1000), publish("r", "m50", None));
    fast_seqs.extend(take(&fast).await);
    assert_eq!(fast_seqs, (1..=51).collect::<Vec<_>>());
    assert!(slow.is_closed(), "nothing taken for the deadline while over the mark: cut");
    batch.clear();
    slow.queue().next_batch(&mut batch).await;
    let frames: Vec<ServerFrame> = batch.iter().map(|o| o.frame().clone()).collect();
    assert_eq!(error_codes(&frames), vec![ErrorCode::SlowConsumer.code()]);
    assert_eq!(hub.rooms()[0].members, 1, "the slow consumer left the room");
    assert_eq!(hub.metrics().slow_consumers.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn unsupported_version_closes_and_shutdown_reaches_everyone() {
    let hub = hub(HubConfig::default());
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), ClientFrame::Hello(Hello { v: 7, ..Hello::default() }));
    assert!(s.is_closed());
    assert_eq!(error_codes(&drain(&s)), vec![4004]);
    let t = hub.open(Transport::Ws, at(0));
    hub.shut_down();
    assert_eq!(error_codes(&drain(&t)), vec![4015]);
    let late = hub.open(Transport::Ws, at(0));
    assert_eq!(error_codes(&drain(&late)), vec![4015]);
}

#[test]
fn kick_disconnects_a_session() {
    let hub = hub(HubConfig::default());
    let s = hub.open(Transport::Tcp, at(0));
    assert!(hub.kick(s.id()));
    assert!(s.is_closed());
    assert_eq!(error_codes(&drain(&s)), vec![4014]);
    assert!(!hub.kick("s-nobody"));
}

#[test]
fn idle_rooms_are_forgotten_and_history_expires() {
    let config = HubConfig { history_age_secs: 60, ..HubConfig::default() };
    let hub = hub(config);
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), publish("r", "x", None));
    s.handle(at(0), join("kept", None));
    hub.sweep(at(0));
    assert_eq!(hub.rooms().len(), 2, "history keeps the room for its age");
    hub.sweep(at(61_000));
    let rooms: Vec<String> = hub.rooms().iter().map(|r| r.room.to_string()).collect();
    assert_eq!(rooms, vec!["kept"]);
}

#[test]
fn a_history_answer_is_a_page_bounded_by_count_and_bytes() {
    let config = HubConfig { queue_bytes: 2000, ..HubConfig::default() };
    let hub = hub(config);
    let mut s = hub.open(Transport::Tcp, at(0));
    for _ in 0..5 {
        s.handle(at(0), publish("r", &"x".repeat(400), None));
    }
    let page = hub.history(&room("r"), None, None, at(0));
    assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
    let next = hub.history(&room("r"), Some(2), Some(1), at(0));
    assert_eq!(next.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![3]);
    let tiny = HubConfig { queue_bytes: 10, ..HubConfig::default() };
    let hub = super::Hub::new(tiny, Arc::new(Metrics::default()), crate::mac::Key::random());
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), publish("r", &"x".repeat(400), None));
    assert_eq!(hub.history(&room("r"), None, None, at(0)).len(), 1, "always at least one message");
}

#[test]
fn a_join_in_another_epoch_replays_the_room_from_its_start() {
    let hub = hub(HubConfig::default());
    let mut p = hub.open(Transport::Tcp, at(0));
    for i in 0..5 {
        p.handle(at(0), publish("r", &format!("m{i}"), None));
    }
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), join("r", None));
    let frames = drain(&s);
    let Some(ServerFrame::Joined(first)) = frames.get(1) else { panic!("{frames:?}") };
    assert_eq!(first.epoch.len(), 16, "8 bytes in hex: {}", first.epoch);
    let join_in = |since, epoch: &str| {
        ClientFrame::Join(Join {
            room: room("r"),
            since: Some(since),
            id: Some(7),
            epoch: Some(epoch.into()),
        })
    };

    // The room's own epoch: `since` is honoured.
    s.handle(at(0), join_in(3, &first.epoch));
    let frames = drain(&s);
    assert!(matches!(&frames[0], ServerFrame::Joined(j) if j.recovered && j.epoch == first.epoch));
    assert_eq!(seqs(&frames), vec![4, 5]);

    // Another epoch (the client's since counts in a numbering the server lost): `since` means
    // nothing here, even though it is below the room's seq; everything stored is replayed.
    s.handle(at(0), join_in(3, "0123456789abcdef"));
    let frames = drain(&s);
    assert!(
        matches!(&frames[0], ServerFrame::Joined(j) if !j.recovered && j.seq == 5 && j.id == Some(7)),
        "{frames:?}"
    );
    assert_eq!(seqs(&frames), vec![1, 2, 3, 4, 5]);
}

/// The epoch of room "r" as a new session joining it is told.
fn epoch_of(hub: &Hub) -> String {
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), join("r", None));
    match drain(&s).get(1) {
        Some(ServerFrame::Joined(j)) => j.epoch.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_room_created_again_has_a_new_epoch() {
    let hub = hub(HubConfig::default());
    let first = epoch_of(&hub);
    assert_eq!(epoch_of(&hub), first, "the same room while it exists");
    hub.sweep(at(0));
    assert!(hub.rooms().is_empty(), "an idle empty room is forgotten");
    assert_ne!(epoch_of(&hub), first, "created again");
    let restarted = super::Hub::new(
        HubConfig::default(),
        Arc::new(Metrics::default()),
        crate::mac::Key::random(),
    );
    assert_ne!(epoch_of(&restarted), first, "a restarted server numbers anew");
}

#[tokio::test]
async fn silent_sessions_are_closed_and_heard_ones_and_sse_are_not() {
    let config = HubConfig { heartbeat_ms: 1000, ..HubConfig::default() }; // idle after 3 s
    let hub = hub(config);
    let silent = hub.open(Transport::Tcp, at(0));
    let mut talking = hub.open(Transport::Ws, at(0));
    talking.handle(at(0), hello("talking")); // its first frame: no frame deadline from now on
    let mut reader = hub.open(Transport::Sse, at(0));
    // The SSE handler hands the session its hello and join itself: still never "silent".
    reader.handle(at(0), hello("reader"));
    reader.handle(at(0), join("r", None));
    assert_eq!(hub.handle_timeout(at(2500)), 0, "not yet silent for the whole timeout");
    talking.heard(at(2500));
    assert_eq!(hub.handle_timeout(at(3100)), 1);
    assert!(silent.is_closed());
    assert!(!talking.is_closed() && !reader.is_closed(), "heard 0.6 s ago; SSE never speaks");
    let mut frames = Vec::new();
    silent.queue().next_batch(&mut frames).await;
    let last = frames.last().map(|f| f.frame().clone());
    assert!(matches!(&last, Some(ServerFrame::Error(e)) if e.code == 4013), "{last:?}");
    assert_eq!(hub.handle_timeout(at(6100)), 1, "the other falls silent in turn");
    assert!(talking.is_closed() && !reader.is_closed());
}

// ---------------------------------------------------------------- identity (tokens, rights)

const SECRET: &str = "hub-test-secret";

/// A hub that verifies HS256 tokens signed with [`SECRET`], a grace of 1 s after expiry.
fn auth_hub() -> Hub {
    let config = crate::auth::AuthConfig {
        secret: Some(SECRET.into()),
        grace_secs: 1,
        ..crate::auth::AuthConfig::default()
    };
    let auth = Arc::new(crate::auth::Auth::load(config).unwrap());
    Hub::with_auth(
        HubConfig::default(),
        Arc::new(Metrics::default()),
        crate::mac::Key::random(),
        auth,
    )
}

/// A token for `sub` with `rooms` (a JSON value) expiring `exp_secs` after `at(0)`.
fn token(sub: &str, rooms: serde_json::Value, exp_secs: u64) -> String {
    let exp = at(0).unix_ms / 1000 + exp_secs;
    crate::auth::mint(SECRET, &serde_json::json!({"sub": sub, "exp": exp, "rooms": rooms}))
}

fn hello_with(token: &str, name: Option<&str>) -> ClientFrame {
    ClientFrame::Hello(Hello {
        v: 1,
        token: Some(token.into()),
        name: name.map(str::to_owned),
        client: Some("c".into()),
        ..Hello::default()
    })
}

#[test]
fn without_a_token_a_server_with_keys_refuses_the_hello() {
    let hub = auth_hub();
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), ClientFrame::Ping(enchufe_core::Ping { id: Some(1) }));
    assert!(s.is_closed());
    assert_eq!(error_codes(&drain(&s)), vec![ErrorCode::Unauthorized.code()]);
    let mut forged = hub.open(Transport::Ws, at(0));
    let bad = crate::auth::mint("another-secret", &serde_json::json!({"sub": "mallory"}));
    forged.handle(at(0), hello_with(&bad, None));
    assert_eq!(error_codes(&drain(&forged)), vec![ErrorCode::Unauthorized.code()]);
}

#[test]
fn a_token_decides_the_rooms_and_its_sub_is_the_sender() {
    let hub = auth_hub();
    let mut alice = hub.open(Transport::Tcp, at(0));
    alice
        .handle(at(0), hello_with(&token("alice", serde_json::json!(["chat:*"]), 60), Some("Bob")));
    let welcome = drain(&alice);
    assert!(matches!(&welcome[0], ServerFrame::Welcome(w) if w.expires.is_some()));
    alice.handle(at(0), join("chat:a", None));
    alice.handle(at(0), publish("chat:a", "hi", Some(1)));
    alice.handle(at(0), publish("ops:x", "no", Some(2)));
    alice.handle(at(0), join("ops:x", None));
    let frames = drain(&alice);
    let from: Vec<&str> = frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message(m) => Some(m.from.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(from, ["alice"], "the token's sub, not the name the client chose");
    assert_eq!(error_codes(&frames), vec![4021, 4021], "ops:x is neither publishable nor joinable");
    assert!(!alice.is_closed(), "a forbidden frame does not end the connection");
}

#[test]
fn a_refresh_keeps_the_connection_past_expiry_and_narrower_rights_leave_rooms() {
    let hub = auth_hub();
    let all = serde_json::json!(["chat:*", "ops:*"]);
    let mut s = hub.open(Transport::Ws, at(0));
    s.handle(at(0), hello_with(&token("alice", all.clone(), 10), None));
    s.handle(at(0), join("chat:a", None));
    s.handle(at(0), join("ops:x", None));
    drain(&s);
    // Refreshed before expiry with rights that no longer include ops:*.
    s.handle(
        at(5_000),
        ClientFrame::Refresh(enchufe_core::Refresh {
            token: token("alice", serde_json::json!(["chat:*"]), 100),
            id: Some(9),
        }),
    );
    let frames = drain(&s);
    assert_eq!(error_codes(&frames), vec![4021], "told that ops:x was left");
    assert!(frames.iter().any(
        |f| matches!(f, ServerFrame::Left(l) if l.room.as_str() == "ops:x" && l.id.is_none())
    ));
    assert!(frames.iter().any(|f| matches!(f, ServerFrame::Refreshed(r) if r.id == Some(9))));
    assert_eq!(hub.handle_timeout(at(20_000)), 0, "past the first token's expiry: still open");
    assert!(!s.is_closed());
    // Another sub is not a refresh.
    s.handle(
        at(20_000),
        ClientFrame::Refresh(enchufe_core::Refresh { token: token("mallory", all, 100), id: None }),
    );
    assert!(s.is_closed());
}

#[test]
fn an_expired_token_is_told_then_closed_after_the_grace() {
    let hub = auth_hub();
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), hello_with(&token("alice", serde_json::json!(["*"]), 2), None));
    drain(&s);
    hub.handle_timeout(at(1_000));
    assert!(drain(&s).is_empty(), "not expired yet");
    s.heard(at(2_000));
    hub.handle_timeout(at(2_000));
    assert_eq!(error_codes(&drain(&s)), vec![ErrorCode::TokenExpired.code()]);
    assert!(!s.is_closed(), "within the grace");
    hub.handle_timeout(at(2_500));
    assert!(drain(&s).is_empty(), "told once");
    s.heard(at(3_000));
    assert_eq!(hub.handle_timeout(at(3_000)), 1);
    assert_eq!(error_codes(&drain(&s)), vec![ErrorCode::Unauthorized.code()]);
}

#[test]
fn a_publish_id_reused_for_another_body_is_refused_not_acknowledged() {
    let hub = hub(HubConfig::default());
    let mut s = hub.open(Transport::Tcp, at(0));
    s.handle(at(0), hello("same-client"));
    s.handle(at(0), publish("r", "first", Some(1)));
    s.handle(at(0), publish("r", "first", Some(1)));
    s.handle(at(0), publish("r", "second", Some(1)));
    let frames = drain(&s);
    let acks = frames.iter().filter(|f| matches!(f, ServerFrame::Ack(_))).count();
    assert_eq!(acks, 2, "the retry is acknowledged again");
    assert_eq!(error_codes(&frames), vec![ErrorCode::InvalidField.code()]);
    assert_eq!(hub.history(&room("r"), None, None, at(0)).len(), 1);
}
