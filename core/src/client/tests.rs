//! Unit tests of the whole machine against a scripted server (one frame at a time). The
//! network-level behaviour is simulated, against the real hub, in `native/tests/simulation.rs`.

use crate::prelude::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::{
    Ack, Body, ErrorCode, ErrorFrame, History, Joined, Left, Limits, Message, Pong, ServerFrame,
    Welcome,
};

fn room(name: &str) -> RoomName {
    RoomName::new(name).unwrap()
}

fn client() -> Client {
    let mut config = ClientConfig::new("c-1");
    config.name = Some("ana".into());
    config.heartbeat_ms = 1_000;
    config.connect_timeout_ms = 5_000;
    config.outbox_capacity = 3;
    Client::new(config, 7)
}

/// Every output until `Wait`, and the deadline it carries.
fn drain(c: &mut Client) -> (Vec<Output>, Option<u64>) {
    let mut outputs = Vec::new();
    loop {
        match c.poll_output() {
            Output::Wait(deadline) => return (outputs, deadline),
            output => outputs.push(output),
        }
    }
}

fn frames(outputs: &[Output]) -> Vec<ClientFrame> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Transmit(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

fn events(outputs: &[Output]) -> Vec<Event> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn welcome(session: &str, heartbeat_ms: u64) -> ServerFrame {
    ServerFrame::Welcome(Welcome {
        v: 1,
        session: session.into(),
        heartbeat_ms,
        limits: Limits { max_frame: 64, max_rooms: 64, max_history: 1000 },
        expires: None,
    })
}

fn message(name: &str, seq: u64) -> ServerFrame {
    ServerFrame::Message(Message {
        room: room(name),
        seq,
        from: "s-x".into(),
        ts: 0,
        body: Body::Json(crate::JsonText::new(seq.to_string()).unwrap()),
    })
}

fn error(code: ErrorCode, id: Option<u64>) -> ServerFrame {
    ServerFrame::Error(ErrorFrame::new(code, code.name(), id))
}

fn body(text: &str) -> Body {
    Body::Json(crate::JsonText::new(text).unwrap())
}

/// Connects `c` at `now` and takes it online; returns what went out after `welcome`.
fn online(c: &mut Client, now: u64, session: &str) -> Vec<Output> {
    c.connect(now);
    c.handle_connected(now);
    drain(c);
    c.handle_frame(now, welcome(session, 1_000));
    drain(c).0
}

#[test]
fn hello_goes_first_and_nothing_else_before_welcome() {
    let mut c = client();
    let join = c.join(0, room("a"), Some(4));
    let publish = c.publish(0, room("a"), body("1")).unwrap();
    assert_eq!((join, publish), (1, 2), "one id counter from 1");
    assert_eq!(drain(&mut c), (vec![], None), "idle: nothing to do");

    c.connect(10);
    let (out, deadline) = drain(&mut c);
    assert_eq!(
        out,
        [Output::Event(Event::State(ConnState::Connecting { attempt: 0 })), Output::Connect]
    );
    assert_eq!(deadline, Some(5_010), "the connect timeout");
    c.handle_frame(11, message("a", 5)); // before the transport is open: ignored
    c.handle_connected(12);
    let (out, _) = drain(&mut c);
    let [Output::Transmit(ClientFrame::Hello(hello))] = out.as_slice() else { panic!("{out:?}") };
    assert_eq!(
        (hello.v, hello.client.as_deref(), hello.name.as_deref()),
        (1, Some("c-1"), Some("ana"))
    );
    c.handle_frame(13, message("a", 5)); // before welcome: ignored
    assert!(drain(&mut c).0.is_empty());

    c.handle_frame(14, welcome("s-1", 2_000));
    let (out, deadline) = drain(&mut c);
    assert_eq!(events(&out), [Event::State(ConnState::Online { session: "s-1".into() })]);
    let sent = frames(&out);
    assert!(matches!(&sent[0], ClientFrame::Join(j) if j.since == Some(4) && j.id == Some(1)));
    assert!(matches!(&sent[1], ClientFrame::Publish(p) if p.id == Some(2)));
    assert_eq!(sent.len(), 2);
    assert_eq!((c.session(), c.heartbeat_ms(), deadline), (Some("s-1"), 2_000, Some(2_014)));
}

#[test]
fn a_failed_or_timed_out_attempt_backs_off_and_retries() {
    let mut c = client();
    c.connect(0);
    drain(&mut c);
    c.handle_disconnected(100);
    let (out, deadline) = drain(&mut c);
    let [Output::Event(Event::State(ConnState::Waiting { until, attempt: 1 }))] = out[..] else {
        panic!("{out:?}")
    };
    assert!((100..=600).contains(&until) && deadline == Some(until));
    c.handle_timeout(until - 1);
    assert!(drain(&mut c).0.is_empty(), "early timeout is a no-op");
    c.handle_timeout(until);
    assert_eq!(drain(&mut c).0[1], Output::Connect);
    assert_eq!(c.state(), &ConnState::Connecting { attempt: 1 });
    c.handle_timeout(until);
    assert!(drain(&mut c).0.is_empty(), "a repeated timeout is a no-op");
    // The transport never answers: the attempt times out.
    c.handle_timeout(until + 5_000);
    let (out, _) = drain(&mut c);
    assert_eq!(out[0], Output::Disconnect);
    assert!(matches!(c.state(), ConnState::Waiting { attempt: 2, .. }));
    // A late report about the abandoned transport changes nothing.
    c.handle_connected(until + 5_001);
    c.handle_disconnected(until + 5_001);
    assert!(drain(&mut c).0.is_empty());
}

#[test]
fn a_busy_server_is_left_alone_for_at_least_its_retry_time() {
    let mut c = client();
    c.connect(0);
    c.handle_connected(10);
    drain(&mut c);
    // Refused before welcome: the server is full.
    c.handle_frame(20, error(ErrorCode::ServerBusy, None));
    c.handle_disconnected(30);
    drain(&mut c);
    let ConnState::Waiting { until, .. } = *c.state() else { panic!("{:?}", c.state()) };
    assert!(until >= 30 + crate::SERVER_BUSY_RETRY_MS, "waits {} ms", until - 30);
    // Only that once: the next failure backs off as usual.
    c.handle_timeout(until);
    c.handle_disconnected(until + 1);
    drain(&mut c);
    let ConnState::Waiting { until: next, .. } = *c.state() else { panic!() };
    assert!(next - (until + 1) < crate::SERVER_BUSY_RETRY_MS);
}

#[test]
fn heartbeat_pings_when_quiet_and_declares_a_silent_server_dead() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    c.handle_timeout(999);
    assert!(drain(&mut c).0.is_empty());
    c.handle_timeout(1_000);
    assert_eq!(frames(&drain(&mut c).0), [ClientFrame::Ping(crate::Ping { id: None })]);
    c.handle_timeout(1_000);
    assert!(drain(&mut c).0.is_empty(), "now stood still: no second ping");
    c.handle_frame(1_500, ServerFrame::Pong(Pong { id: None }));
    c.handle_timeout(2_000);
    assert_eq!(frames(&drain(&mut c).0).len(), 1, "ping again after another quiet second");
    c.handle_timeout(3_000);
    assert_eq!(frames(&drain(&mut c).0).len(), 1);
    // Nothing received since 1 500: dead at 1 500 + 2 × 1 000.
    let (_, deadline) = drain(&mut c);
    assert_eq!(deadline, Some(3_500));
    c.handle_timeout(3_500);
    let (out, _) = drain(&mut c);
    assert_eq!(out[0], Output::Disconnect);
    assert!(matches!(c.state(), ConnState::Waiting { attempt: 1, .. }));
}

#[test]
fn a_reconnect_rejoins_with_the_last_seq_and_resends_the_outbox_with_the_same_ids() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let join = c.join(0, room("a"), None);
    c.handle_frame(
        1,
        ServerFrame::Joined(Joined {
            room: room("a"),
            seq: 10,
            members: vec![],
            recovered: true,
            id: Some(join),
            epoch: "e1".into(),
        }),
    );
    c.handle_frame(2, message("a", 11));
    let first = c.publish(3, room("a"), body("1")).unwrap();
    let second = c.publish(3, room("a"), body("2")).unwrap();
    c.handle_frame(4, ServerFrame::Ack(Ack { id: first, room: room("a"), seq: 12 }));
    let history = c.history(5, room("a"), Some(0), Some(5));
    drain(&mut c);
    c.handle_frame(6, error(ErrorCode::SlowConsumer, None));
    assert_eq!(
        events(&drain(&mut c).0),
        [Event::Error { code: 4011, message: "slow_consumer".into() }]
    );
    c.handle_disconnected(7);
    drain(&mut c);
    let ConnState::Waiting { until, .. } = *c.state() else { panic!() };
    c.handle_timeout(until);
    c.handle_connected(until);
    drain(&mut c);
    c.handle_frame(until, welcome("s-2", 1_000));
    let sent = frames(&drain(&mut c).0);
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(matches!(
        &sent[0],
        ClientFrame::Join(j) if j.since == Some(11) && j.id == Some(join) && j.epoch.as_deref() == Some("e1")
    ));
    assert!(matches!(&sent[1], ClientFrame::History(h) if h.id == Some(history)));
    assert!(matches!(&sent[2], ClientFrame::Publish(p) if p.id == Some(second)));
    // The replay overlaps what was seen: only new seqs come through; the first ack for the
    // retried publish counts, a repeated one is ignored.
    for seq in [11, 12, 13] {
        c.handle_frame(until, message("a", seq));
    }
    c.handle_frame(until, ServerFrame::Ack(Ack { id: second, room: room("a"), seq: 13 }));
    c.handle_frame(until, ServerFrame::Ack(Ack { id: second, room: room("a"), seq: 13 }));
    let seen: Vec<Event> = events(&drain(&mut c).0);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(matches!(&seen[0], Event::Message(m) if m.seq == 12));
    assert!(matches!(&seen[1], Event::Message(m) if m.seq == 13));
    assert_eq!(seen[2], Event::Ack { id: second, room: room("a"), seq: 13 });
    assert_eq!(c.outbox_len(), 0);
}

#[test]
fn a_full_outbox_refuses_and_reports_without_growing() {
    let mut c = client();
    for i in 0..3 {
        assert!(c.publish(0, room("a"), body(&i.to_string())).is_ok());
    }
    drain(&mut c);
    let err = c.publish(0, room("a"), body("4")).unwrap_err();
    assert_eq!(err, ClientError::OutboxFull { id: 4, capacity: 3 });
    let out = events(&drain(&mut c).0);
    assert!(matches!(&out[..], [Event::PublishFailed { id: 4, code: 4016, .. }]), "{out:?}");
    assert_eq!(c.outbox_len(), 3);
}

#[test]
fn publish_errors_fail_the_publish_unless_the_connection_is_going_away() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let refused = c.publish(0, room("a"), body("1")).unwrap();
    let kept = c.publish(0, room("a"), body("2")).unwrap();
    let big = c.publish(0, room("a"), body("3")).unwrap();
    drain(&mut c);
    c.handle_frame(1, error(ErrorCode::RateLimited, Some(refused)));
    c.handle_frame(1, error(ErrorCode::Internal, Some(kept)));
    c.handle_frame(1, error(ErrorCode::TooLarge, Some(big)));
    let out = events(&drain(&mut c).0);
    assert!(matches!(&out[0], Event::PublishFailed { id, code: 4010, .. } if *id == refused));
    assert!(matches!(&out[1], Event::Error { code: 4017, .. }));
    assert!(matches!(&out[2], Event::PublishFailed { id, code: 4003, .. } if *id == big));
    assert_eq!(c.outbox_len(), 1, "the publish hit by a fatal error waits for the retry");
    // A body larger than the announced max_frame (64 here) is refused at once.
    let huge = c.publish(2, room("a"), Body::Bytes(vec![0; 65])).unwrap();
    let out = events(&drain(&mut c).0);
    assert!(matches!(&out[..], [Event::PublishFailed { id, code: 4003, .. }] if *id == huge));
    assert_eq!(c.outbox_len(), 1);
}

#[test]
fn work_the_server_cannot_do_for_now_is_sent_again_not_dropped() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let p = c.publish(0, room("a"), body("1")).unwrap();
    let j = c.join(0, room("b"), None);
    drain(&mut c);
    c.handle_frame(10, error(ErrorCode::Unavailable, Some(p)));
    c.handle_frame(10, error(ErrorCode::Unavailable, Some(j)));
    let (out, deadline) = drain(&mut c);
    assert!(events(&out).is_empty(), "nothing failed: {out:?}");
    assert!(deadline <= Some(10 + crate::client::UNAVAILABLE_RETRY_MS), "{deadline:?}");
    assert!(c.is_joined(&room("b")));
    c.handle_timeout(10 + crate::client::UNAVAILABLE_RETRY_MS);
    let sent: Vec<ClientFrame> = frames(&drain(&mut c).0)
        .into_iter()
        .filter(|f| !matches!(f, ClientFrame::Ping(_)))
        .collect();
    assert!(
        matches!(&sent[..], [ClientFrame::Publish(pb), ClientFrame::Join(jn)]
            if pb.id == Some(p) && jn.id == Some(j) && jn.room == room("b")),
        "{sent:?}"
    );
    c.handle_frame(1100, ServerFrame::Ack(crate::Ack { id: p, room: room("a"), seq: 1 }));
    assert_eq!(c.outbox_len(), 0);
}

#[test]
fn unauthorized_closes_and_fails_what_is_pending() {
    let mut c = client();
    let p = c.publish(0, room("a"), body("1")).unwrap();
    let h = c.history(0, room("a"), None, None);
    let j = c.join(0, room("b"), None);
    c.connect(0);
    c.handle_connected(1);
    drain(&mut c);
    c.handle_frame(2, error(ErrorCode::Unauthorized, None));
    let (out, deadline) = drain(&mut c);
    assert_eq!(deadline, None, "no reconnect");
    assert!(out.contains(&Output::Disconnect));
    let ev = events(&out);
    assert!(matches!(ev[0], Event::Error { code: 4009, .. }));
    assert!(matches!(ev[1], Event::PublishFailed { id, code: 4009, .. } if id == p));
    assert!(matches!(ev[2], Event::RequestFailed { id, code: 4009, .. } if id == h));
    assert!(matches!(ev[3], Event::RequestFailed { id, code: 4009, .. } if id == j));
    assert_eq!(ev[4], Event::State(ConnState::Closed));
    c.handle_disconnected(3);
    c.handle_timeout(100_000);
    assert!(drain(&mut c).0.is_empty());
}

#[test]
fn close_stops_everything_and_connect_starts_over() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let p = c.publish(0, room("a"), body("1")).unwrap();
    drain(&mut c);
    c.close(1);
    let (out, deadline) = drain(&mut c);
    assert_eq!(out[0], Output::Disconnect);
    assert!(matches!(events(&out)[0], Event::PublishFailed { id, code: 4018, .. } if id == p));
    assert_eq!((c.state(), deadline, c.outbox_len()), (&ConnState::Closed, None, 0));
    c.close(2);
    assert!(drain(&mut c).0.is_empty(), "closing twice does nothing");
    c.connect(3);
    assert_eq!(drain(&mut c).0[1], Output::Connect);
}

#[test]
fn leave_answers_when_offline_on_left_or_when_the_connection_drops() {
    let mut c = client();
    let id = c.leave(0, room("a"));
    assert_eq!(events(&drain(&mut c).0), [Event::Left { id, room: room("a") }]);
    online(&mut c, 0, "s-1");
    let j = c.join(0, room("a"), None);
    let id = c.leave(0, room("a"));
    let out = drain(&mut c).0;
    assert!(matches!(events(&out)[0], Event::RequestFailed { id, code: 4018, .. } if id == j));
    c.handle_frame(1, message("a", 1));
    c.handle_frame(1, ServerFrame::Left(Left { room: room("a"), id: Some(id) }));
    assert_eq!(events(&drain(&mut c).0), [Event::Left { id, room: room("a") }]);
    let id = c.leave(2, room("b"));
    c.handle_disconnected(3);
    assert_eq!(events(&drain(&mut c).0)[0], Event::Left { id, room: room("b") });
}

#[test]
fn a_refused_join_unwants_the_room_and_history_errors_fail_the_request() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let j = c.join(0, room("a"), None);
    let h = c.history(0, room("a"), None, Some(0));
    drain(&mut c);
    c.handle_frame(1, error(ErrorCode::TooManyRooms, Some(j)));
    c.handle_frame(1, error(ErrorCode::InvalidField, Some(h)));
    c.handle_frame(1, error(ErrorCode::InvalidField, Some(h)));
    let out = events(&drain(&mut c).0);
    assert!(matches!(out[0], Event::RequestFailed { id, code: 4006, .. } if id == j));
    assert!(matches!(out[1], Event::RequestFailed { id, code: 4008, .. } if id == h));
    assert!(matches!(out[2], Event::Error { code: 4008, .. }), "the id is no longer pending");
    assert!(!c.is_joined(&room("a")));
}

#[test]
fn history_is_answered_once() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let h = c.history(0, room("a"), None, None);
    drain(&mut c);
    let answer = History { room: room("a"), messages: vec![], id: Some(h) };
    c.handle_frame(1, ServerFrame::History(answer.clone()));
    c.handle_frame(1, ServerFrame::History(answer));
    let out = events(&drain(&mut c).0);
    assert_eq!(out, [Event::History { id: h, room: room("a"), messages: vec![] }]);
}

#[test]
fn an_unrecovered_rejoin_with_nothing_replayed_reports_the_gap_at_the_pong() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let j = c.join(0, room("a"), Some(5));
    drain(&mut c);
    c.handle_frame(
        1,
        ServerFrame::Joined(Joined {
            room: room("a"),
            seq: 9,
            members: vec![],
            recovered: false,
            id: Some(j),
            epoch: "e1".into(),
        }),
    );
    let out = drain(&mut c).0;
    let [ClientFrame::Ping(ping)] = &frames(&out)[..] else { panic!("{out:?}") };
    assert!(matches!(events(&out)[0], Event::Joined { recovered: false, seq: 9, .. }));
    c.handle_frame(2, ServerFrame::Pong(Pong { id: ping.id }));
    assert_eq!(events(&drain(&mut c).0), [Event::Gap { room: room("a"), from: 6, to: 9 }]);
    assert_eq!(c.last_seq(&room("a")), Some(9));
}

fn joined(name: &str, seq: u64, recovered: bool, id: u64, epoch: &str) -> ServerFrame {
    ServerFrame::Joined(Joined {
        room: room(name),
        seq,
        members: vec![],
        recovered,
        id: Some(id),
        epoch: epoch.into(),
    })
}

/// Goes offline and back online (a new session), returning what went out after `welcome`.
fn reconnect(c: &mut Client, now: u64, session: &str) -> Vec<ClientFrame> {
    c.handle_disconnected(now);
    drain(c);
    let ConnState::Waiting { until, .. } = *c.state() else { panic!("{:?}", c.state()) };
    c.handle_timeout(until);
    c.handle_connected(until);
    drain(c);
    c.handle_frame(until, welcome(session, 1_000));
    frames(&drain(c).0)
}

#[test]
fn a_new_epoch_resets_the_room_and_delivers_the_new_numbering_in_full() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let j = c.join(0, room("a"), None);
    c.handle_frame(1, joined("a", 0, true, j, "old"));
    for seq in 1..=3 {
        c.handle_frame(2, message("a", seq));
    }
    drain(&mut c);
    assert_eq!((c.last_seq(&room("a")), c.epoch(&room("a"))), (Some(3), Some("old")));

    // The server restarted and numbered 5 messages while the client was away.
    let sent = reconnect(&mut c, 3, "s-2");
    let [ClientFrame::Join(join)] = &sent[..] else { panic!("{sent:?}") };
    assert_eq!((join.since, join.epoch.as_deref()), (Some(3), Some("old")));
    c.handle_frame(4, joined("a", 5, false, j, "new"));
    for seq in 1..=5 {
        c.handle_frame(4, message("a", seq));
    }
    let out = drain(&mut c).0;
    let seen = events(&out);
    assert!(matches!(&seen[0], Event::Joined { seq: 5, recovered: false, .. }), "{seen:?}");
    assert_eq!(seen[1], Event::Reset { room: room("a"), epoch: "new".into() });
    let seqs: Vec<u64> = seen[2..]
        .iter()
        .map(|e| match e {
            Event::Message(m) => m.seq,
            other => panic!("only messages after the reset: {other:?}"),
        })
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    // The barrier ping goes out, but its pong finds nothing left to report.
    let [ClientFrame::Ping(ping)] = &frames(&out)[..] else { panic!("{out:?}") };
    c.handle_frame(5, ServerFrame::Pong(Pong { id: ping.id }));
    assert!(events(&drain(&mut c).0).is_empty());
    assert_eq!((c.last_seq(&room("a")), c.epoch(&room("a"))), (Some(5), Some("new")));

    // The next re-join counts in the new epoch; the same epoch again is no reset.
    let sent = reconnect(&mut c, 6, "s-3");
    let [ClientFrame::Join(join)] = &sent[..] else { panic!("{sent:?}") };
    assert_eq!((join.since, join.epoch.as_deref()), (Some(5), Some("new")));
    c.handle_frame(7, joined("a", 6, true, j, "new"));
    c.handle_frame(7, message("a", 5));
    c.handle_frame(7, message("a", 6));
    let seen = events(&drain(&mut c).0);
    assert!(
        matches!(&seen[..], [Event::Joined { .. }, Event::Message(m)] if m.seq == 6),
        "{seen:?}"
    );
}

#[test]
fn close_while_online_leaves_every_room_before_disconnecting() {
    let mut c = client();
    online(&mut c, 0, "s-1");
    let a = c.join(0, room("a"), None);
    c.join(0, room("b"), None);
    c.handle_frame(1, joined("a", 0, true, a, "e1"));
    drain(&mut c);
    c.close(2);
    let out = drain(&mut c).0;
    let disconnect = out.iter().position(|o| *o == Output::Disconnect).expect("a disconnect");
    let leaves: Vec<&str> = out[..disconnect]
        .iter()
        .map(|o| match o {
            Output::Transmit(ClientFrame::Leave(l)) if l.id.is_none() => l.room.as_str(),
            other => panic!("only leaves before the disconnect: {other:?}"),
        })
        .collect();
    assert_eq!(leaves, ["a", "b"], "the unanswered join's room too");
    assert!(frames(&out[disconnect..]).is_empty());
    assert!(!events(&out).iter().any(|e| matches!(e, Event::Left { .. })), "no answer awaited");

    // Offline there is no transport to say it on.
    let mut c = client();
    c.join(0, room("a"), None);
    c.connect(0);
    c.handle_connected(0);
    drain(&mut c);
    c.close(1);
    assert!(frames(&drain(&mut c).0).iter().all(|f| !matches!(f, ClientFrame::Leave(_))));
}

#[test]
fn a_udp_challenge_repeats_hello_with_the_cookie() {
    let mut c = client();
    c.connect(0);
    c.handle_connected(0);
    drain(&mut c);
    c.handle_frame(1, ServerFrame::Challenge(crate::Challenge { cookie: "k".into() }));
    let sent = frames(&drain(&mut c).0);
    assert!(matches!(&sent[..], [ClientFrame::Hello(h)] if h.cookie.as_deref() == Some("k")));
}

/// Random inputs in random states: never a panic, the outbox stays bounded, and the machine
/// never asks for a deadline in the past that `handle_timeout` would not move.
#[test]
fn survives_random_inputs() {
    for seed in 0..200 {
        let mut rng = rng::SplitMix64::new(seed);
        let mut c = client();
        let mut now = 0;
        for _ in 0..300 {
            now += rng.up_to(400);
            let r = room(["a", "b"][rng.up_to(1) as usize]);
            let id = rng.up_to(12);
            let seq = rng.up_to(20);
            match rng.up_to(15) {
                0 => c.connect(now),
                1 => c.handle_connected(now),
                2 => c.handle_disconnected(now),
                3 => {
                    c.join(now, r, Some(seq).filter(|_| id % 2 == 0));
                }
                4 => {
                    c.leave(now, r);
                }
                5 => {
                    let _ = c.publish(now, r, body("1"));
                }
                6 => c.handle_frame(now, welcome("s", rng.up_to(3_000))),
                7 => c.handle_frame(now, message(r.as_str(), seq)),
                8 => c.handle_frame(now, ServerFrame::Ack(Ack { id, room: r, seq })),
                9 => {
                    let joined = Joined {
                        room: r,
                        seq,
                        members: vec![],
                        recovered: id % 3 != 0,
                        id: Some(id),
                        epoch: ["e1", "e2"][(seq % 2) as usize].into(),
                    };
                    c.handle_frame(now, ServerFrame::Joined(joined));
                }
                10 => {
                    let code = ErrorCode::ALL[rng.up_to(ErrorCode::ALL.len() as u64 - 1) as usize];
                    let code = if matches!(
                        code,
                        ErrorCode::Unauthorized | ErrorCode::UnsupportedVersion
                    ) {
                        ErrorCode::Kicked
                    } else {
                        code
                    };
                    c.handle_frame(now, error(code, Some(id).filter(|_| seq % 2 == 0)));
                }
                11 => c.handle_frame(now, ServerFrame::Pong(Pong { id: Some(id) })),
                12 => c.handle_frame(now, ServerFrame::Left(Left { room: r, id: Some(id) })),
                13 => c.handle_frame(
                    now,
                    ServerFrame::History(History { room: r, messages: vec![], id: Some(id) }),
                ),
                _ => c.handle_timeout(now),
            }
            let (_, deadline) = drain(&mut c);
            assert!(c.outbox_len() <= 3);
            // A deadline already due is served by a few timeouts at the same `now`, never
            // a busy loop (a zero backoff delay may take one extra round).
            let mut deadline = deadline;
            for _ in 0..3 {
                if deadline.is_some_and(|d| d <= now) {
                    c.handle_timeout(now);
                    deadline = drain(&mut c).1;
                }
            }
            assert!(
                deadline.is_none_or(|d| d > now),
                "stuck at {deadline:?} <= {now} (seed {seed})"
            );
        }
    }
}
