//! Tokens that expire while the client is connected: with `getToken`, the client fetches a new
//! one before the old one expires and sends it in a `refresh`, so the connection (and every
//! message) outlives any single token. Against the live server that verifies tokens
//! (`ENCHUFE_TEST_AUTH_URL`), in headless Chromium (`cargo xtask browser`); the tokens come from
//! the control endpoint, which mints them with `enchufe token`.
#![cfg(target_arch = "wasm32")]

mod support;

use js_sys::{Function, Reflect};
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Seconds each token is valid for: a few refreshes happen within the test.
const TTL: u32 = 3;

#[wasm_bindgen_test]
async fn get_token_keeps_the_connection_across_expiries_without_losing_a_message() {
    let first = control(&format!("token?sub=ana&ttl={TTL}"), "").await;
    // The application's token source: counts its calls, fetches a fresh token each time.
    let get_token = Function::new_no_args(&format!(
        "globalThis.tokensFetched = (globalThis.tokensFetched || 0) + 1; \
         return fetch('{}/token?sub=ana&ttl={TTL}', {{ method: 'POST' }}).then(r => r.text());",
        control_url()
    ));
    let options = js(&format!(r#"{{"token":{first:?},"name":"ana"}}"#));
    Reflect::set(&options, &"getToken".into(), &get_token).expect("an options object");
    let client = Client::new(auth_server_url(), Some(options)).expect("starts");
    let events = Recorder::attach(&client);
    events.online(1).await;
    let session = client.session().expect("online");
    let room = fresh_room("tokens");
    resolved(5_000.0, "join", client.join(&room, None)).await;

    // Publish through three token lifetimes, one message every 400 ms.
    let sent = (TTL * 3 * 1000 / 400) as usize;
    for i in 0..sent {
        resolved(5_000.0, "publish", client.publish(&room, JsValue::from(i as u32))).await;
        resolved(1_000.0, "a pause", delay(400.0)).await;
    }
    events.until(5_000.0, "every message", |e| e.messages(&room).len() >= sent).await;

    let fetched = Reflect::get(&js_sys::global(), &"tokensFetched".into())
        .ok()
        .and_then(|n| n.as_f64())
        .unwrap_or(0.0);
    assert!(fetched >= 2.0, "getToken was called {fetched} times over {} token lifetimes", 3);
    assert_eq!(client.session().as_deref(), Some(session.as_str()), "the same connection");
    assert_eq!(events.states().iter().filter(|s| *s == "online").count(), 1, "never reconnected");
    let expired: Vec<String> = events
        .of("error")
        .iter()
        .map(|e| text(e, "name"))
        .filter(|n| n == "token_expired")
        .collect();
    assert!(expired.is_empty(), "the server saw a token expire: {expired:?}");
    let seqs: Vec<f64> = events.messages(&room).iter().map(|m| num(m, "seq")).collect();
    assert_eq!(seqs, (1..=sent).map(|s| s as f64).collect::<Vec<_>>(), "every message, in order");
    client.close();
}
