//! The browser client across a server restart (its own test binary, so that restarting the
//! server disturbs no other test): `cargo xtask test` restarts `enchufe serve` on the same port
//! when the test asks its control endpoint.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The server is killed and started again on the same port, losing its in-memory rooms. The
/// client waits (backoff), reconnects and re-joins by itself; the new server numbers the room
/// from 1 under a new epoch, which the client reports as a `reset` event right after that
/// `joined`. Every message of the new numbering then arrives exactly once — including those
/// whose seqs the client had already seen in the old numbering, and beyond them.
#[wasm_bindgen_test]
async fn reconnects_and_rejoins_after_a_server_restart() {
    let room = fresh_room("restart");
    let client = client(r#"{"name":"ana","reconnect":{"baseMs":100,"capMs":1000}}"#);
    let events = Recorder::attach(&client);
    let first = resolved(5_000.0, "join", client.join(&room, None)).await;
    for n in 1..=2 {
        resolved(5_000.0, "publish", client.publish(&room, format!("old {n}").into())).await;
    }
    events.until(5_000.0, "two messages", |e| e.messages(&room).len() == 2).await;
    let before = client.session().expect("online");

    control("restart", "").await;
    // Published on the new server, likely before the client is back: replayed on the re-join
    // (or live, if the client was quicker); once either way.
    control(&format!("publish/{room}?from=rest"), r#""new 1""#).await;

    events.online(2).await;
    let after = client.session().expect("online again");
    assert_ne!(before, after, "a new session on the new server");
    let states = events.states();
    let waited = states.iter().skip_while(|s| *s != "online").any(|s| s == "waiting");
    assert!(waited, "waited before reconnecting: {states:?}");
    events.until(5_000.0, "the re-join", |e| e.of("joined").len() == 2).await;
    events.until(5_000.0, "the reset", |e| !e.of("reset").is_empty()).await;

    // More messages than the client saw before the restart: the new seqs pass the old last one.
    for n in 2..=4 {
        let seq = resolved(5_000.0, "publish", client.publish(&room, format!("new {n}").into()));
        assert_eq!(seq.await.as_f64(), Some(f64::from(n)), "the new server numbers from 1");
    }
    events.until(5_000.0, "the new messages", |e| e.messages(&room).len() == 6).await;
    // One more round trip, so that a late duplicate would have shown up.
    resolved(5_000.0, "a history round trip", client.history(&room, None)).await;

    let joined = events.of("joined");
    assert_eq!(joined.len(), 2, "{joined:?}");
    let (old_epoch, new_epoch) = (text(&first, "epoch"), text(&joined[1], "epoch"));
    assert_eq!(text(&joined[0], "epoch"), old_epoch);
    assert!(!new_epoch.is_empty() && new_epoch != old_epoch, "{old_epoch:?} → {new_epoch:?}");
    assert_eq!(get(&joined[1], "recovered"), JsValue::FALSE, "{}", json(&joined[1]));

    let resets = events.of("reset");
    assert_eq!(resets.len(), 1, "one reset: {resets:?}");
    assert_eq!((text(&resets[0], "room"), text(&resets[0], "epoch")), (room.clone(), new_epoch));
    assert!(events.of("gap").is_empty(), "nothing lost: {:?}", events.of("gap"));

    // The order the listeners saw: the re-join, the reset, then the new numbering in full.
    let seen: Vec<String> = events
        .all()
        .iter()
        .filter_map(|(kind, e)| match kind.as_str() {
            "joined" | "reset" => Some(kind.clone()),
            "message" => Some(format!("{} {}", num(e, "seq"), json(&get(e, "body")))),
            _ => None,
        })
        .collect();
    let want = [
        "joined",
        r#"1 "old 1""#,
        r#"2 "old 2""#,
        "joined",
        "reset",
        r#"1 "new 1""#,
        r#"2 "new 2""#,
        r#"3 "new 3""#,
        r#"4 "new 4""#,
    ];
    assert_eq!(seen, want, "each message once, the new numbering after the reset");
    client.close();
}
