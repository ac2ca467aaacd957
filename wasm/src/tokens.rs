//! Keeping the token fresh with the application's `getToken()`, as centrifuge-js does: the
//! client asks for a new token before the one in use expires, when the server says it expired
//! (`error` 4022), and before reconnecting with one that expired while offline. The new token
//! goes to the server in a `refresh` frame (or the next `hello`); the connection stays up.

use alloc::rc::Weak;
use core::cell::Cell;

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::driver::Driver;

/// How long before its expiry a token is replaced: at most this, and never less than a fifth of
/// what is left (a short-lived token is replaced when four fifths of it are used).
const REFRESH_AHEAD_MS: u64 = 30_000;

/// What to do once a token arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Then {
    /// Hand it to the machine (a `refresh` if online).
    Refresh,
    /// Hand it to the machine, then open the connection that was waiting for it.
    Connect,
}

/// The application's token source and the one request in flight.
pub(crate) struct Tokens {
    get_token: Option<Function>,
    fetching: Cell<bool>,
}

impl Tokens {
    pub(crate) fn new(get_token: Option<Function>) -> Self {
        Tokens { get_token, fetching: Cell::new(false) }
    }

    /// Whether the application gave a `getToken`.
    pub(crate) fn is_on(&self) -> bool {
        self.get_token.is_some()
    }

    /// When (ms from now) to ask for a new token, for one expiring at `expires` (Unix seconds).
    pub(crate) fn refresh_in(expires: u64) -> u64 {
        let left = expires.saturating_mul(1000).saturating_sub(wall_ms());
        left.saturating_sub(REFRESH_AHEAD_MS).max(left / 5 * 4).max(1)
    }

    /// Whether a token expiring at `expires` (Unix seconds) has expired by the wall clock.
    pub(crate) fn expired(expires: Option<u64>) -> bool {
        expires.is_some_and(|e| e.saturating_mul(1000) <= wall_ms())
    }

    /// Calls `getToken()` and, when its promise resolves to a string, `then` it on `driver`. A
    /// second call while one is in flight does nothing; a rejection or a non-string is reported
    /// as an `error` event (`unauthorized`), and the connection goes on as it can.
    pub(crate) fn fetch(&self, driver: Weak<Driver>, then: Then) -> bool {
        let Some(get_token) = &self.get_token else { return false };
        if self.fetching.replace(true) {
            return true;
        }
        // `Promise.resolve` hands a promise back as it is, and wraps anything else.
        let promise = match get_token.call0(&JsValue::UNDEFINED) {
            Ok(value) => Promise::resolve(&value),
            Err(error) => Promise::reject(&error),
        };
        let resolved = {
            let driver = driver.clone();
            Closure::once_into_js(move |token: JsValue| {
                if let Some(driver) = driver.upgrade() {
                    driver.token_arrived(token.as_string(), then);
                }
            })
        };
        let rejected = Closure::once_into_js(move |_: JsValue| {
            if let Some(driver) = driver.upgrade() {
                driver.token_arrived(None, then);
            }
        });
        // `then` with the self-dropping closures (`once_into_js`): each is freed after its one
        // call, so no closure outlives the request.
        promise.unchecked_ref::<Thenable>().then_with(&resolved, &rejected);
        true
    }

    /// The request in flight has ended.
    pub(crate) fn done(&self) {
        self.fetching.set(false);
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;

    /// A promise, for a `then` that takes functions (js-sys's `then2` takes `Closure`s, which
    /// would outlive the call).
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_with(this: &Thenable, resolved: &JsValue, rejected: &JsValue);
}

/// The wall clock, for comparing with a token's `exp` (the machine's clock is monotonic and
/// starts near zero).
fn wall_ms() -> u64 {
    date_now().max(0.0) as u64
}
