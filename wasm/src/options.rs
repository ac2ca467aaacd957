//! Reading the JavaScript options objects (`ClientOptions`, `JoinOptions`, `HistoryOptions`).
//!
//! Absent and `undefined`/`null` fields take the defaults; a field of the wrong type is an
//! error naming it, thrown as a `TypeError` by the constructor (a promise method rejects).

use crate::error::concat;
use crate::prelude::*;
use enchufe_core::client::ClientConfig;
use wasm_bindgen::{JsCast, JsValue};

/// What the constructor's options say.
pub(crate) struct ClientOptions {
    pub(crate) config: ClientConfig,
    /// The `WebSocket` constructor to use instead of the global one.
    pub(crate) web_socket: Option<js_sys::Function>,
    /// `getToken`: a function giving (a promise of) a fresh token.
    pub(crate) get_token: Option<js_sys::Function>,
}

/// A field that is not of the type its option needs.
pub(crate) struct BadOption(pub(crate) String);

/// Reads `ClientOptions` into a config with `client_id`.
pub(crate) fn client_options(
    options: &JsValue,
    client_id: String,
) -> Result<ClientOptions, BadOption> {
    let mut config = ClientConfig::new(client_id);
    // The driver splits every message into its frames (wire.rs), so it asks for batches.
    config.batch = true;
    config.name = string(options, "name")?;
    config.token = string(options, "token")?;
    let reconnect = field(options, "reconnect");
    if !reconnect.is_undefined() && !reconnect.is_null() {
        if !reconnect.is_object() {
            return Err(BadOption("`reconnect` must be an object { baseMs, capMs }".into()));
        }
        if let Some(base) = whole(&reconnect, "baseMs", "reconnect.baseMs")? {
            config.backoff_base_ms = base;
        }
        if let Some(cap) = whole(&reconnect, "capMs", "reconnect.capMs")? {
            config.backoff_cap_ms = cap;
        }
    }
    if let Some(capacity) = whole(options, "outboxCapacity", "outboxCapacity")? {
        config.outbox_capacity = usize::try_from(capacity).unwrap_or(usize::MAX);
    }
    if let Some(heartbeat) = whole(options, "heartbeatMs", "heartbeatMs")? {
        config.heartbeat_ms = heartbeat.max(1);
    }
    if let Some(timeout) = whole(options, "connectTimeoutMs", "connectTimeoutMs")? {
        config.connect_timeout_ms = timeout.max(1);
    }
    // The client speaks the binary encoding only (wire.rs); "binary" stays accepted.
    match string(options, "encoding")?.as_deref() {
        None | Some("binary") => {}
        Some(_) => return Err(BadOption(ENCODING.into())),
    }
    let web_socket =
        function(options, "WebSocket", "a WebSocket constructor (such as the ws package's)")?;
    let get_token =
        function(options, "getToken", "a function returning a token (or a promise of one)")?;
    Ok(ClientOptions { config, web_socket, get_token })
}

/// Why an `encoding` other than `"binary"` is refused.
const ENCODING: &str = "`encoding` can only be \"binary\": the browser client speaks the binary \
                        encoding (JSON bodies stay JSON)";

/// `options[key]`, `undefined` when `options` is not an object.
pub(crate) fn field(options: &JsValue, key: &str) -> JsValue {
    if options.is_object() {
        js_sys::Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// An optional function field; `what` says what it must be.
fn function(
    options: &JsValue,
    key: &str,
    what: &str,
) -> Result<Option<js_sys::Function>, BadOption> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.dyn_into().map(Some).map_err(|_| BadOption(concat(&["`", key, "` must be ", what])))
}

/// An optional string field.
fn string(options: &JsValue, key: &str) -> Result<Option<String>, BadOption> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| BadOption(concat(&["`", key, "` must be a string"])))
}

/// An optional field that must be a whole number ≥ 0 (a seq, a count or milliseconds).
pub(crate) fn whole(options: &JsValue, key: &str, shown: &str) -> Result<Option<u64>, BadOption> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        // Whole when it survives the round trip through u64 (`f64::fract` is std's, not
        // core's); NaN fails every comparison.
        Some(n) if (0.0..=9_007_199_254_740_991.0).contains(&n) && (n as u64) as f64 == n => {
            Ok(Some(n as u64))
        }
        _ => Err(BadOption(concat(&["`", shown, "` must be a whole number ≥ 0"]))),
    }
}
