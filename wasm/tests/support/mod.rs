//! What the browser tests share: the package's JavaScript `Client` (wasm/js/enchufe.js, bound
//! below) on the package's own module (the one `cargo xtask pack` built, embedded), the live
//! server's address, the harness's control endpoint, an event recorder, and bounded waits.
//!
//! `cargo xtask test` (xtask/src/browser.rs) starts `enchufe serve` on a free port and a small
//! control endpoint, and passes both at compile time: `ENCHUFE_TEST_URL` (the server's
//! WebSocket URL) and `ENCHUFE_TEST_CONTROL` (the control endpoint's base URL). The control
//! endpoint does what a page cannot do across origins: REST publishes and the admin
//! disconnect with the admin token (the server sends no CORS headers), and restarting the
//! server on the same port.

#![allow(dead_code, unreachable_pub)] // each test binary uses a part

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, JSON, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The options of a client, of `join` and of `history`: plain objects.
pub type ClientOptionsArg = JsValue;
pub type JoinOptionsArg = JsValue;
pub type HistoryOptionsArg = JsValue;

// The package's API: the JavaScript class around the module's machine, as an application
// calls it.
#[wasm_bindgen(module = "/js/enchufe.js")]
extern "C" {
    /// The package's `Client`.
    pub type Client;
    #[wasm_bindgen(constructor, catch)]
    fn construct(url: &str, options: Option<ClientOptionsArg>) -> Result<Client, JsValue>;
    #[wasm_bindgen(method)]
    pub fn join(this: &Client, room: &str, options: Option<JoinOptionsArg>) -> Promise;
    #[wasm_bindgen(method)]
    pub fn leave(this: &Client, room: &str) -> Promise;
    #[wasm_bindgen(method)]
    pub fn publish(this: &Client, room: &str, body: JsValue) -> Promise;
    #[wasm_bindgen(method)]
    pub fn history(this: &Client, room: &str, options: Option<HistoryOptionsArg>) -> Promise;
    #[wasm_bindgen(method)]
    pub fn refresh(this: &Client, token: &str);
    #[wasm_bindgen(method)]
    pub fn close(this: &Client);
    #[wasm_bindgen(method)]
    pub fn connect(this: &Client);
    #[wasm_bindgen(method)]
    pub fn reconnect(this: &Client);
    #[wasm_bindgen(method)]
    pub fn free(this: &Client);
    #[wasm_bindgen(method, getter)]
    pub fn state(this: &Client) -> JsValue;
    #[wasm_bindgen(method, getter)]
    pub fn session(this: &Client) -> Option<String>;
    #[wasm_bindgen(method, catch)]
    pub fn on(this: &Client, kind: &str, listener: Function) -> Result<Function, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn once(this: &Client, kind: &str, listener: Function) -> Result<Function, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn off(this: &Client, kind: &str, listener: Function) -> Result<(), JsValue>;
    #[wasm_bindgen(js_name = isEnchufeError)]
    pub fn is_enchufe_error(value: &JsValue) -> bool;
    #[wasm_bindgen(js_name = initSync)]
    fn init_sync(options: &JsValue) -> JsValue;
}

/// The package's module, as `cargo xtask pack` built it (optimized, its imports bound to the
/// package's loader): the tests run the shipped module and the shipped JavaScript.
const MODULE: &[u8] = include_bytes!(env!(
    "ENCHUFE_TEST_MODULE",
    "the browser tests run the packed module: run them with `cargo xtask browser`"
));

impl Client {
    /// `new Client(url, options)`, after instantiating the package's module (once).
    pub fn new(url: &str, options: Option<ClientOptionsArg>) -> Result<Client, JsValue> {
        let init = js_sys::Object::new();
        let module = js_sys::Uint8Array::from(MODULE);
        Reflect::set(&init, &"module".into(), &module).expect("plain object");
        init_sync(&init);
        Client::construct(url, options)
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = globalThis, js_name = setTimeout)]
    fn set_timeout(handler: &Function, delay_ms: f64) -> JsValue;
    // Not `performance.now` as the library imports it: the same import twice is a duplicate
    // symbol at link time.
    #[wasm_bindgen(js_namespace = ["globalThis", "performance"], js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(url: &str, init: &JsValue) -> Promise;
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    fn random_uuid() -> String;
}

/// The live server's WebSocket URL.
pub fn server_url() -> &'static str {
    match option_env!("ENCHUFE_TEST_URL") {
        Some(url) => url,
        None => panic!(
            "ENCHUFE_TEST_URL is not set: the browser tests run against a live server that \
             `cargo xtask test` (or `cargo xtask browser`) starts"
        ),
    }
}

/// The WebSocket URL of the live server that verifies tokens (signed by the control endpoint's
/// `token` action).
pub fn auth_server_url() -> &'static str {
    match option_env!("ENCHUFE_TEST_AUTH_URL") {
        Some(url) => url,
        None => panic!(
            "ENCHUFE_TEST_AUTH_URL is not set: run the browser tests with `cargo xtask test`"
        ),
    }
}

pub fn control_url() -> &'static str {
    match option_env!("ENCHUFE_TEST_CONTROL") {
        Some(url) => url,
        None => {
            panic!("ENCHUFE_TEST_CONTROL is not set: run the browser tests with `cargo xtask test`")
        }
    }
}

/// A room name no other test uses.
pub fn fresh_room(prefix: &str) -> String {
    format!("{prefix}-{}", &random_uuid()[..8])
}

/// A JavaScript value from JSON text (options objects, expected bodies).
pub fn js(json: &str) -> JsValue {
    JSON::parse(json).expect("test JSON is valid")
}

/// `value[key]`.
pub fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `value[key]` as a number (NaN when it is not one).
pub fn num(value: &JsValue, key: &str) -> f64 {
    get(value, key).as_f64().unwrap_or(f64::NAN)
}

/// `value[key]` as a string ("" when it is not one).
pub fn text(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_default()
}

/// `JSON.stringify(value)`, to compare and print values.
pub fn json(value: &JsValue) -> String {
    JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| format!("{value:?}"))
}

/// A new client of the live server with options given as JSON.
pub fn client(options: &str) -> Client {
    Client::new(server_url(), Some(js(options))).expect("the client starts")
}

/// Resolves after `ms` milliseconds.
pub fn delay(ms: f64) -> Promise {
    Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    })
}

/// Awaits `promise`, failing the test if it takes longer than `ms`.
pub async fn within(ms: f64, what: &str, promise: impl Into<JsValue>) -> Result<JsValue, JsValue> {
    let promise = Promise::from(promise.into());
    let timeout = Promise::new(&mut |_, reject| {
        let fire: JsValue = reject.bind1(&JsValue::NULL, &JsValue::from_str("timeout")).into();
        set_timeout(fire.unchecked_ref(), ms);
    });
    let raced = Promise::race(&js_sys::Array::of2(&promise, &timeout));
    let result = JsFuture::from(raced).await;
    if result.as_ref().err().and_then(JsValue::as_string).as_deref() == Some("timeout") {
        panic!("timed out after {ms} ms waiting for {what}");
    }
    result
}

/// Awaits a promise that must resolve within `ms`.
pub async fn resolved(ms: f64, what: &str, promise: impl Into<JsValue>) -> JsValue {
    match within(ms, what, promise).await {
        Ok(value) => value,
        Err(error) => panic!("{what} was rejected: {} ({error:?})", json(&error)),
    }
}

/// Awaits a promise that must reject within `ms`; returns the error.
pub async fn rejected(ms: f64, what: &str, promise: impl Into<JsValue>) -> JsValue {
    match within(ms, what, promise).await {
        Ok(value) => panic!("{what} resolved with {} but should have been rejected", json(&value)),
        Err(error) => error,
    }
}

/// Every event a client emits, in order, with a way to await one.
pub struct Recorder {
    events: Rc<RefCell<Vec<(String, JsValue)>>>,
    wake: Rc<RefCell<Option<Function>>>,
    _listeners: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Recorder {
    /// Records every event of `client` from now on.
    pub fn attach(client: &Client) -> Recorder {
        let events = Rc::new(RefCell::new(Vec::new()));
        let wake: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
        let mut listeners = Vec::new();
        for kind in ["message", "presence", "gap", "reset", "state", "joined", "error"] {
            let (events, wake) = (events.clone(), wake.clone());
            let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                events.borrow_mut().push((kind.to_owned(), event));
                if let Some(wake) = wake.borrow_mut().take() {
                    let _ = wake.call0(&JsValue::NULL);
                }
            });
            client
                .on(kind, listener.as_ref().unchecked_ref::<Function>().clone())
                .expect("known event");
            listeners.push(listener);
        }
        Recorder { events, wake, _listeners: listeners }
    }

    /// The payloads of the `kind` events so far.
    pub fn of(&self, kind: &str) -> Vec<JsValue> {
        self.events.borrow().iter().filter(|(k, _)| k == kind).map(|(_, e)| e.clone()).collect()
    }

    /// Every event so far, in the order the listeners saw them, as (kind, payload).
    pub fn all(&self) -> Vec<(String, JsValue)> {
        self.events.borrow().clone()
    }

    /// The states of the `state` events so far (`"online"`, `"waiting"`, …).
    pub fn states(&self) -> Vec<String> {
        self.of("state").iter().map(|s| text(s, "state")).collect()
    }

    /// Waits until `done` holds for the events so far, at most `ms`.
    pub async fn until(&self, ms: f64, what: &str, done: impl Fn(&Recorder) -> bool) {
        let deadline = performance_now() + ms;
        loop {
            if done(self) {
                return;
            }
            let left = deadline - performance_now();
            if left <= 0.0 {
                let seen: Vec<String> =
                    self.events.borrow().iter().map(|(k, e)| format!("{k} {}", json(e))).collect();
                panic!("timed out after {ms} ms waiting for {what}; events: {seen:#?}");
            }
            // Woken by the next event, or by the deadline.
            let wake = self.wake.clone();
            let next = Promise::new(&mut |resolve, _| {
                set_timeout(&resolve, left);
                wake.replace(Some(resolve));
            });
            let _ = JsFuture::from(next).await;
        }
    }

    /// Waits until the client is online (again: the `n`-th `online` state, from 1).
    pub async fn online(&self, n: usize) {
        let what = format!("online state #{n}");
        self.until(10_000.0, &what, |r| r.states().iter().filter(|s| *s == "online").count() >= n)
            .await;
    }

    /// The `message` events of `room`.
    pub fn messages(&self, room: &str) -> Vec<JsValue> {
        self.of("message").into_iter().filter(|m| text(m, "room") == room).collect()
    }
}

/// Asks the harness's control endpoint to do `action` (`publish/ROOM?from=NAME`,
/// `kick/SESSION`, `restart`) with `body`; returns the response text.
pub async fn control(action: &str, body: &str) -> String {
    let init = js_sys::Object::new();
    Reflect::set(&init, &"method".into(), &"POST".into()).expect("plain object");
    Reflect::set(&init, &"body".into(), &body.into()).expect("plain object");
    let url = format!("{}/{action}", control_url());
    let response = resolved(30_000.0, &url, fetch_with_init(&url, &init)).await;
    let ok = get(&response, "ok").as_bool().unwrap_or(false);
    let text_promise: Promise = Reflect::get(&response, &"text".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call0(&response).ok())
        .map(Promise::from)
        .expect("Response.text()");
    let body = resolved(10_000.0, "the control response", text_promise).await;
    let body = body.as_string().unwrap_or_default();
    assert!(ok, "control {action} failed: {body}");
    body
}
