//! Deterministic simulations of core's client state machines and the real hub over unreliable
//! links, in virtual time (the harness is in `sim/`): both sides are sans-IO, so the
//! simulation is their driver, with no socket and no clock. Each scenario asserts what a user would notice: every message
//! exactly once and in order, publishes that survive outages, reconnect timing, and gaps that
//! are reported rather than hidden.

// Virtual time only: a clock read would make a scenario depend on the machine (clippy.toml).
#![deny(clippy::disallowed_methods)]

mod sim;

use enchufe_core::ErrorCode;
use enchufe_core::client::{ClientConfig, ConnState, Event};
use sim::{Link, Server, World, room_name};

const ROOM: &str = "chat";
const HEARTBEAT_MS: u64 = 1_000;

fn config(id: &str) -> ClientConfig {
    ClientConfig::new(id)
}

/// A world with a publisher (node 0) and a subscriber (node 1) joined to [`ROOM`], both online.
fn pub_sub(seed: u64, history: usize) -> World {
    let mut world = World::new(seed, Server::new(history, HEARTBEAT_MS));
    let publisher = world.add(config("publisher"), seed, Link::default());
    let subscriber = world.add(
        config("subscriber"),
        seed + 1,
        Link { up_ms: 15, down_ms: 25, ..Link::default() },
    );
    world.join(subscriber, ROOM, None);
    world.connect(publisher);
    world.connect(subscriber);
    world.run_for(500);
    assert!(world.nodes[publisher].client.state().is_online());
    assert!(world.nodes[subscriber].client.state().is_online());
    world
}

fn went_offline_and_back(states: &[(u64, ConnState)]) -> bool {
    let waiting = states.iter().position(|(_, s)| matches!(s, ConnState::Waiting { .. }));
    waiting.is_some_and(|w| states[w..].iter().any(|(_, s)| s.is_online()))
}

/// (1) The subscriber's link breaks while another client keeps publishing: after it
/// reconnects it has every message exactly once, in seq order, with no gap reported.
#[test]
fn a_disconnect_mid_stream_loses_and_repeats_nothing() {
    let mut world = pub_sub(1, 1000);
    let (publisher, subscriber) = (0, 1);
    for i in 1..=200 {
        world.publish(publisher, ROOM, &format!("m{i}")).unwrap();
        world.run_for(50);
        if i == 60 {
            world.partition(subscriber, 4_000);
        }
    }
    world.run_for(60_000);

    let sub = &world.nodes[subscriber];
    assert!(went_offline_and_back(&sub.states()), "{:?}", sub.states());
    let expected: Vec<(u64, String)> = (1..=200).map(|i| (i, format!("m{i}"))).collect();
    assert_eq!(sub.messages(ROOM), expected);
    assert_eq!(sub.gaps(ROOM), []);
    assert_eq!(world.nodes[publisher].acks().len(), 200);
}

/// (2a) A publish made while offline is delivered exactly once after the reconnect, and acked.
#[test]
fn a_publish_during_an_outage_is_delivered_once_and_acked() {
    let mut world = pub_sub(2, 1000);
    let (publisher, subscriber) = (0, 1);
    world.partition(publisher, 5_000);
    world.run_for(1_000);
    assert!(!world.nodes[publisher].client.state().is_online());
    let id = world.publish(publisher, ROOM, "during the outage").unwrap();
    assert_eq!(world.nodes[publisher].client.outbox_len(), 1);
    world.run_for(60_000);

    assert!(went_offline_and_back(&world.nodes[publisher].states()));
    assert_eq!(world.nodes[subscriber].messages(ROOM), [(1, "during the outage".to_string())]);
    assert_eq!(world.nodes[publisher].acks(), [(id, 1)]);
    assert_eq!(world.nodes[publisher].client.outbox_len(), 0);
}

/// (2b) The publish got through but its ack was lost with the connection: the client retries
/// with the same id, the server recognises it, and the message is still delivered once.
#[test]
fn a_retry_after_a_lost_ack_is_not_delivered_twice() {
    let mut world = pub_sub(3, 1000);
    let (publisher, subscriber) = (0, 1);
    world.publish(publisher, ROOM, "first").unwrap();
    world.run_for(200);
    world.drop_next(publisher, "ack");
    let id = world.publish(publisher, ROOM, "ack lost").unwrap();
    world.run_for(200);
    assert_eq!(world.nodes[subscriber].seqs(ROOM), [1, 2], "delivered before the ack was lost");
    assert_eq!(world.nodes[publisher].client.outbox_len(), 1, "no ack: still pending");
    world.partition(publisher, 1_000);
    world.run_for(60_000);

    let publisher_node = &world.nodes[publisher];
    assert_eq!(
        publisher_node.publish_ids_sent().iter().filter(|&&i| i == id).count(),
        2,
        "retried"
    );
    assert_eq!(
        publisher_node.acks().iter().filter(|(i, _)| *i == id).collect::<Vec<_>>(),
        [&(id, 2)]
    );
    assert_eq!(publisher_node.client.outbox_len(), 0);
    let texts: Vec<String> =
        world.nodes[subscriber].messages(ROOM).into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, ["first", "ack lost"]);
    assert_eq!(world.server.log(&room_name(ROOM)).len(), 2);
}

/// (3) With the server down, the delays between attempts stay within
/// `[0, min(cap, base·2ⁿ)]`, attempts start exactly when announced, and delays are spread out
/// (full jitter) rather than equal across clients.
#[test]
fn backoff_delays_are_bounded_and_jittered() {
    let (base, cap) = (ClientConfig::DEFAULT_BACKOFF_BASE_MS, ClientConfig::DEFAULT_BACKOFF_CAP_MS);
    let bound = |attempt: u32| (base << (attempt - 1).min(20)).min(cap);
    // delays[attempt] = the delay each seed drew before that attempt.
    let mut delays: Vec<Vec<u64>> = vec![Vec::new(); 13];
    for seed in 0..300 {
        let mut world = World::new(seed, Server::new(10, HEARTBEAT_MS));
        world.server_up = false;
        let node = world.add(config("c"), seed, Link::default());
        world.connect(node);
        world.run_for(10 * 60_000);
        let states = world.nodes[node].states();
        for (i, (t, state)) in states.iter().enumerate() {
            if let ConnState::Waiting { until, attempt } = *state {
                let delay = until - t;
                assert!(delay <= bound(attempt), "seed {seed}: attempt {attempt} waited {delay}");
                let next = states.get(i + 1);
                if let Some((started, ConnState::Connecting { attempt: a })) = next {
                    assert_eq!(
                        (*started, *a),
                        (until, attempt),
                        "seed {seed}: attempt not on time"
                    );
                }
                if let Some(d) = delays.get_mut(attempt as usize) {
                    d.push(delay);
                }
            }
        }
    }
    for (attempt, drawn) in delays.iter().enumerate().skip(1) {
        assert!(drawn.len() >= 100, "attempt {attempt}: {} samples", drawn.len());
        let mut distinct = drawn.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > drawn.len() / 2, "attempt {attempt}: little jitter");
        // Uniform on [0, bound]: the mean is near bound / 2 and the range is covered.
        let b = bound(attempt as u32) as f64;
        let mean = drawn.iter().sum::<u64>() as f64 / drawn.len() as f64;
        assert!((0.35 * b..0.65 * b).contains(&mean), "attempt {attempt}: mean {mean} of {b}");
        assert!(*distinct.last().unwrap() as f64 > 0.8 * b && (distinct[0] as f64) < 0.2 * b);
    }
}

/// A connection attempt that never gets an answer is abandoned at the connect timeout.
#[test]
fn an_unanswered_connection_attempt_times_out_and_backs_off() {
    let mut world = World::new(4, Server::new(10, HEARTBEAT_MS));
    world.blackhole = true;
    let node = world.add(config("c"), 4, Link::default());
    world.connect(node);
    world.run_for(ClientConfig::DEFAULT_CONNECT_TIMEOUT_MS - 1);
    assert!(world.nodes[node].disconnects.is_empty());
    world.run_for(1);
    assert_eq!(world.nodes[node].disconnects, [ClientConfig::DEFAULT_CONNECT_TIMEOUT_MS]);
    assert!(matches!(world.nodes[node].client.state(), ConnState::Waiting { attempt: 1, .. }));
    world.blackhole = false;
    world.run_for(60_000);
    assert!(world.nodes[node].client.state().is_online());
}

/// (4) The server stops answering without closing: heartbeats detect it within two heartbeat
/// intervals of the last frame received (three of the silence), and the client reconnects and
/// catches up on what was published meanwhile. An idle but healthy connection is kept.
#[test]
fn a_silent_server_is_detected_by_heartbeats_and_the_client_reconnects() {
    let mut world = pub_sub(5, 1000);
    let (publisher, subscriber) = (0, 1);
    world.run_for(20 * HEARTBEAT_MS);
    assert!(world.nodes[subscriber].disconnects.is_empty(), "idle is not dead: pings keep it");
    assert_eq!(world.nodes[subscriber].states().len(), 2, "connecting, online");

    let silent_from = world.now;
    world.silence(subscriber);
    for i in 1..=10 {
        world.publish(publisher, ROOM, &format!("m{i}")).unwrap();
        world.run_for(300);
    }
    world.run_for(60_000);

    let sub = &world.nodes[subscriber];
    let detected = sub.disconnects[0];
    assert!(detected >= silent_from + HEARTBEAT_MS, "too early: {detected}");
    assert!(
        detected <= silent_from + 3 * HEARTBEAT_MS,
        "too late: {detected} (silent from {silent_from})"
    );
    let sessions: Vec<String> = sub
        .states()
        .into_iter()
        .filter_map(|(_, s)| match s {
            ConnState::Online { session } => Some(session),
            _ => None,
        })
        .collect();
    assert_eq!(sessions.len(), 2, "reconnected once");
    assert_ne!(sessions[0], sessions[1]);
    assert_eq!(sub.seqs(ROOM), (1..=10).collect::<Vec<_>>());
}

/// (5) Offline with a small outbox: publishes beyond it are refused with an error event and the
/// outbox does not grow; the ones accepted are delivered once the client is back.
#[test]
fn a_full_outbox_reports_an_error_and_does_not_grow() {
    let mut world = World::new(6, Server::new(1000, HEARTBEAT_MS));
    let mut small = config("publisher");
    small.outbox_capacity = 8;
    let publisher = world.add(small, 6, Link::default());
    let subscriber = world.add(config("subscriber"), 7, Link::default());
    world.join(subscriber, ROOM, None);
    world.connect(subscriber);
    world.connect(publisher);
    world.run_for(500);
    world.partition(publisher, 10_000);

    let mut refused = Vec::new();
    for i in 1..=20 {
        match world.publish(publisher, ROOM, &format!("m{i}")) {
            Ok(_) => {}
            Err(e) => refused.push(e),
        }
        assert!(world.nodes[publisher].client.outbox_len() <= 8);
    }
    assert_eq!(refused.len(), 12);
    let failures = world.nodes[publisher]
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::PublishFailed { code, .. } if *code == ErrorCode::OutboxFull.code()))
        .count();
    assert_eq!(failures, 12);
    assert_eq!(world.nodes[publisher].client.outbox_len(), 8);

    world.run_for(60_000);
    let expected: Vec<(u64, String)> = (1..=8).map(|i| (i, format!("m{i}"))).collect();
    assert_eq!(world.nodes[subscriber].messages(ROOM), expected);
    assert_eq!(world.nodes[publisher].acks().len(), 8);
    assert_eq!(world.nodes[publisher].client.outbox_len(), 0);
    assert!(world.publish(publisher, ROOM, "again").is_ok(), "room in the outbox again");
}

/// (6) History holds 10 messages; the subscriber misses 25 during a long outage: it is told
/// exactly which 15 are lost, then gets the 10 still stored, in order.
#[test]
fn history_evicted_during_an_outage_is_reported_as_a_gap() {
    let mut world = pub_sub(8, 10);
    let (publisher, subscriber) = (0, 1);
    for i in 1..=5 {
        world.publish(publisher, ROOM, &format!("m{i}")).unwrap();
    }
    world.run_for(500);
    assert_eq!(world.nodes[subscriber].seqs(ROOM), [1, 2, 3, 4, 5]);
    world.partition(subscriber, 20_000);
    for i in 6..=30 {
        world.publish(publisher, ROOM, &format!("m{i}")).unwrap();
        world.run_for(100);
    }
    world.run_for(60_000);

    let sub = &world.nodes[subscriber];
    assert_eq!(sub.gaps(ROOM), [(6, 20)]);
    assert_eq!(sub.seqs(ROOM), [1, 2, 3, 4, 5].into_iter().chain(21..=30).collect::<Vec<_>>());
    // The gap is reported after the re-join's `joined` and before message 21.
    let order: Vec<&Event> = sub
        .events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e, Event::Joined { .. } | Event::Gap { .. } | Event::Message(_)))
        .skip(1 + 5)
        .take(3)
        .collect();
    assert!(matches!(order[0], Event::Joined { recovered: false, seq: 30, .. }), "{order:?}");
    assert!(matches!(order[1], Event::Gap { from: 6, to: 20, .. }));
    assert!(matches!(order[2], Event::Message(m) if m.seq == 21));
}

/// (6b) When history kept nothing at all, no replayed message can reveal where the gap ends:
/// the client still reports it, right after the re-join, and then delivers new messages.
#[test]
fn a_rejoin_with_nothing_left_in_history_reports_the_whole_gap() {
    let mut world = pub_sub(9, 0);
    let (publisher, subscriber) = (0, 1);
    for i in 1..=5 {
        world.publish(publisher, ROOM, &format!("m{i}")).unwrap();
    }
    world.run_for(500);
    world.partition(subscriber, 5_000);
    for i in 6..=30 {
        world.publish(publisher, ROOM, &format!("m{i}")).unwrap();
    }
    world.run_for(60_000);
    assert_eq!(world.nodes[subscriber].gaps(ROOM), [(6, 30)]);
    world.publish(publisher, ROOM, "m31").unwrap();
    world.run_for(500);
    let sub = &world.nodes[subscriber];
    assert_eq!(sub.seqs(ROOM), [1, 2, 3, 4, 5, 31]);
    assert_eq!(sub.gaps(ROOM), [(6, 30)]);
}

/// The server restarts and forgets its rooms, so their seqs start again at 1: the subscriber
/// does not drop the new messages as old duplicates, and loses none of them.
#[test]
fn after_a_server_restart_new_messages_still_arrive() {
    let mut world = pub_sub(10, 1000);
    let (publisher, subscriber) = (0, 1);
    for i in 1..=5 {
        world.publish(publisher, ROOM, &format!("old {i}")).unwrap();
    }
    world.run_for(500);
    world.restart_server();
    for i in 1..=3 {
        world.publish(publisher, ROOM, &format!("new {i}")).unwrap();
    }
    world.run_for(60_000);
    world.publish(publisher, ROOM, "new 4").unwrap();
    world.run_for(500);

    let texts: Vec<String> =
        world.nodes[subscriber].messages(ROOM).into_iter().map(|(_, t)| t).collect();
    let expected: Vec<String> =
        (1..=5).map(|i| format!("old {i}")).chain((1..=4).map(|i| format!("new {i}"))).collect();
    assert_eq!(texts, expected);
    assert_eq!(world.nodes[subscriber].gaps(ROOM), []);
    assert_eq!(world.nodes[subscriber].client.last_seq(&room_name(ROOM)), Some(4));
}

/// The server restarts while the subscriber is offline, and by the time it is back the new
/// server has numbered more messages than the subscriber had seen before: its `since` falls
/// inside the new numbering. The room's epoch tells the two numberings apart, so the
/// subscriber gets every post-restart message exactly once, in order, and is told that the
/// numbering restarted (what was published between its last message and the restart is lost).
#[test]
fn a_restart_while_offline_that_outnumbers_the_old_seqs_loses_nothing_new() {
    let mut world = pub_sub(11, 1000);
    let (publisher, subscriber) = (0, 1);
    for i in 1..=5 {
        world.publish(publisher, ROOM, &format!("old {i}")).unwrap();
    }
    world.run_for(500);
    assert_eq!(world.nodes[subscriber].seqs(ROOM), [1, 2, 3, 4, 5]);
    world.partition(subscriber, 20_000);
    world.restart_server();
    world.run_for(5_000);
    assert!(world.nodes[publisher].client.state().is_online(), "the publisher is back");
    for i in 1..=8 {
        world.publish(publisher, ROOM, &format!("new {i}")).unwrap();
        world.run_for(100);
    }
    assert!(!world.nodes[subscriber].client.state().is_online(), "still offline");
    world.run_for(60_000);
    world.publish(publisher, ROOM, "new 9").unwrap();
    world.run_for(500);

    let sub = &world.nodes[subscriber];
    let expected: Vec<(u64, String)> = (1..=5)
        .map(|i| (i, format!("old {i}")))
        .chain((1..=9).map(|i| (i, format!("new {i}"))))
        .collect();
    assert_eq!(sub.messages(ROOM), expected);
    assert_eq!(sub.gaps(ROOM), []);
    assert_eq!(sub.client.last_seq(&room_name(ROOM)), Some(9));
    // Told once, between the two numberings, with the new epoch it now re-joins in.
    let kinds: Vec<String> = sub
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Reset { epoch, .. } => Some(format!("reset {epoch}")),
            Event::Message(m) => Some(m.body.as_json_text().unwrap_or_default().to_owned()),
            _ => None,
        })
        .collect();
    let epoch = sub.client.epoch(&room_name(ROOM)).expect("joined").to_owned();
    assert_eq!(kinds[5..7], [format!("reset {epoch}"), r#""new 1""#.to_owned()], "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| k.starts_with("reset")).count(), 1);
}

/// (7) Many seeds of random latencies, reordering, drops and partitions, with three clients
/// that all publish into and listen to one room. Whatever happens:
/// - each client sees the room's messages in strictly increasing seq order (no duplicate, no
///   reordering), each exactly as stored;
/// - every seq is either delivered to a client or reported to it in a gap, never both;
/// - every publish lands in the room at most once, and every ack names it;
/// - once the network heals (and a last reconnect gives lost publishes their retry), every
///   publish is acked exactly once and every client has caught up.
#[test]
fn random_networks_keep_the_invariants() {
    for seed in 0..120 {
        check_random_network(seed);
    }
}

fn check_random_network(seed: u64) {
    let mut rng = sim::rng::Rng::new(seed);
    let mut world = World::new(seed, Server::new(10_000, HEARTBEAT_MS));
    let reorder = seed % 3 == 0;
    let nodes: Vec<usize> = (0..3)
        .map(|i| {
            let link = Link {
                up_ms: rng.range(1, 80),
                down_ms: rng.range(1, 80),
                jitter_ms: if reorder { rng.range(1, 60) } else { 0 },
                drop_up: rng.range(0, 5) as f64 / 100.0,
                drop_down: rng.range(0, 5) as f64 / 100.0,
                dup_down: rng.range(0, 3) as f64 / 100.0,
            };
            let node = world.add(config(&format!("client-{i}")), seed * 10 + i, link);
            world.join(node, ROOM, Some(0));
            world.connect(node);
            node
        })
        .collect();

    // 30 s of traffic and trouble.
    let mut published: Vec<(usize, u64, String)> = Vec::new();
    while world.now < 30_000 {
        world.run_for(rng.range(20, 300));
        let node = nodes[rng.range(0, 2) as usize];
        match rng.range(0, 19) {
            0 => world.partition(node, rng.range(0, 8_000)),
            1 => world.silence(node),
            _ => {
                let text = format!("{node}:{}", published.len());
                let id = world.publish(node, ROOM, &text).expect("the outbox is large enough");
                published.push((node, id, text));
            }
        }
    }
    // Heal: no more drops, no reordering; one last reconnect of everyone gives publishes and
    // joins lost on a live connection their retry.
    for &node in &nodes {
        world.nodes[node].link.drop_up = 0.0;
        world.nodes[node].link.drop_down = 0.0;
        world.nodes[node].link.jitter_ms = 0;
        world.nodes[node].link.dup_down = 0.0;
    }
    world.run_for(60_000);
    for &node in &nodes {
        world.partition(node, 0);
    }
    world.run_for(60_000);

    let log = world.server.log(&room_name(ROOM));
    let last = log.len() as u64;
    for (i, stored) in log.iter().enumerate() {
        assert_eq!(stored.message.seq, i as u64 + 1, "seed {seed}: the server's seqs");
    }
    // Every publish in the room at most once…
    let mut origins: Vec<&(String, u64)> = log.iter().filter_map(|s| s.origin.as_ref()).collect();
    let stored = origins.len();
    origins.sort();
    origins.dedup();
    assert_eq!(origins.len(), stored, "seed {seed}: a publish was stored twice");

    for &node in &nodes {
        let n = &world.nodes[node];
        let client_key = format!("client-{node}");
        assert!(n.client.state().is_online(), "seed {seed}: node {node} {:?}", n.client.state());
        // …acked exactly once, with the seq it was stored under, and eventually all acked.
        let acks = n.acks();
        let mine: Vec<&(usize, u64, String)> = published.iter().filter(|p| p.0 == node).collect();
        assert_eq!(acks.len(), mine.len(), "seed {seed}: node {node} acks");
        for (_, id, text) in mine {
            let acked: Vec<u64> = acks.iter().filter(|(i, _)| i == id).map(|(_, s)| *s).collect();
            assert_eq!(acked.len(), 1, "seed {seed}: publish {id} of node {node} acked {acked:?}");
            let entry = &log[acked[0] as usize - 1];
            assert_eq!(entry.origin, Some((client_key.clone(), *id)), "seed {seed}");
            assert_eq!(entry.message.body.as_json_text(), Some(format!("{text:?}").as_str()));
        }
        assert_eq!(n.client.outbox_len(), 0);

        // Deliveries: increasing, as stored, and together with the gaps exactly 1..=last.
        let seqs = n.seqs(ROOM);
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seed {seed}: node {node} order {seqs:?}");
        for (_, e) in &n.events {
            if let Event::Message(m) = e {
                assert_eq!(m, &log[m.seq as usize - 1].message, "seed {seed}");
            }
        }
        let mut covered: Vec<u64> = seqs.clone();
        for (from, to) in n.gaps(ROOM) {
            assert!(from <= to, "seed {seed}: empty gap");
            covered.extend(from..=to);
        }
        covered.sort_unstable();
        let expected: Vec<u64> = (1..=last).collect();
        assert_eq!(
            covered,
            expected,
            "seed {seed}: node {node} seqs {seqs:?} gaps {:?}",
            n.gaps(ROOM)
        );
    }
}
