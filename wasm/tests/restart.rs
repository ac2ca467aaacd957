//! The browser client across a server restart (its own test binary, so that restarting the
//! server disturbs no other test): `cargo xtask test` restarts `enchufe serve` on the same port
//! when the test asks its control endpoint.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The server is killed and started again on the same port, losing its in-memory rooms. The
/// client waits (backoff), reconnects, re-joins by itself, learns the room restarted (a gap
/// for the numbering it will not replay), and delivers the new room's messages from seq 1.
#[wasm_bindgen_test]
async fn reconnects_and_rejoins_after_a_server_restart() {
    let room = fresh_room("restart");
    let client = client(r#"{"name":"ana","reconnect":{"baseMs":100,"capMs":1000}}"#);
    let events = Recorder::attach(&client);
    resolved(5_000.0, "join", client.join(&room, None)).await;
    for n in 1..=2 {
        resolved(5_000.0, "publish", client.publish(&room, n.into())).await;
    }
    events.until(5_000.0, "two messages", |e| e.messages(&room).len() == 2).await;
    let before = client.session().expect("online");

    control("restart", "").await;

    events.online(2).await;
    let after = client.session().expect("online again");
    assert_ne!(before, after, "a new session on the new server");
    let states = events.states();
    let waited = states.iter().skip_while(|s| *s != "online").any(|s| s == "waiting");
    assert!(waited, "waited before reconnecting: {states:?}");
    events.until(5_000.0, "the re-join", |e| e.of("joined").len() == 2).await;

    let seq = resolved(5_000.0, "publish after the restart", client.publish(&room, "new".into()));
    assert_eq!(seq.await.as_f64(), Some(1.0), "the restarted server numbers the room from 1");
    events.until(5_000.0, "the new message", |e| e.messages(&room).len() == 3).await;
    let messages = events.messages(&room);
    assert_eq!(num(&messages[2], "seq"), 1.0);
    assert_eq!(json(&get(&messages[2], "body")), r#""new""#);
    client.close();
}
