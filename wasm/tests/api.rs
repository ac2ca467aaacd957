//! The API's answers to failure: why a connection attempt failed (the `waiting` state's `code`
//! and `reason`), and `reconnect()` (or the browser's `online` event), which ends the wait at
//! once. Against the live server, in
//! headless Chromium (`cargo xtask browser`). The JavaScript-only parts (`once`, the function
//! `on` returns, `isEnchufeError`, a disposed client) are exercised by tests/bundlers.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SECOND: f64 = 1000.0;

fn client_at(url: &str, options: &str) -> Client {
    Client::new(url, Some(js(options))).expect("starts")
}

/// The first `waiting` state's `code` and `reason`.
async fn first_failure(client: &Client) -> (f64, String) {
    let events = Recorder::attach(client);
    events.until(5.0 * SECOND, "a waiting state", |e| e.states().contains(&"waiting".into())).await;
    let waiting =
        events.of("state").into_iter().find(|s| text(s, "state") == "waiting").expect("waited");
    client.close();
    (num(&waiting, "code"), text(&waiting, "reason"))
}

#[wasm_bindgen_test]
async fn a_refused_connection_says_why() {
    // Nothing listens on port 2 (and Chromium does not block it as unsafe).
    let client = client_at("ws://127.0.0.1:2/ws", r#"{"reconnect":{"baseMs":50,"capMs":50}}"#);
    let (code, reason) = first_failure(&client).await;
    assert_eq!(code, 1006.0, "{reason}");
    assert!(reason.starts_with("could not connect to ws://127.0.0.1:2/ws"), "{reason}");
}

#[wasm_bindgen_test]
async fn a_path_that_is_no_websocket_endpoint_says_why() {
    let url = server_url().replace("/ws", "/no-such-endpoint");
    let client = client_at(&url, r#"{"reconnect":{"baseMs":50,"capMs":50}}"#);
    let (code, reason) = first_failure(&client).await;
    assert_eq!(code, 1006.0, "{reason}");
    assert!(reason.contains("not a WebSocket endpoint"), "{reason}");
}

#[wasm_bindgen_test]
async fn reconnect_ends_the_wait_at_once() {
    // A backoff of up to a minute: without reconnect() the test would time out.
    let client = client(r#"{"reconnect":{"baseMs":60000,"capMs":60000}}"#);
    let events = Recorder::attach(&client);
    events.online(1).await;
    let session = client.session().expect("online");
    control(&format!("kick/{session}"), "").await;
    events.until(5.0 * SECOND, "waiting", |e| e.states().contains(&"waiting".into())).await;
    let waiting =
        events.of("state").into_iter().find(|s| text(s, "state") == "waiting").expect("waited");
    let reason = text(&waiting, "reason");
    assert!(num(&waiting, "code") == 4014.0 || !reason.is_empty(), "{}", json(&waiting));
    client.reconnect();
    events.online(2).await;

    // The browser's `online` event (the network is back) does the same.
    let session = client.session().expect("online again");
    control(&format!("kick/{session}"), "").await;
    let waits = |e: &Recorder| e.states().iter().filter(|s| *s == "waiting").count();
    events.until(5.0 * SECOND, "waiting again", |e| waits(e) >= 2).await;
    let dispatch = js_sys::Function::new_no_args("globalThis.dispatchEvent(new Event('online'))");
    dispatch.call0(&wasm_bindgen::JsValue::NULL).expect("dispatched");
    events.online(3).await;
    client.close();
}
