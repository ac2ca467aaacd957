//! Core values → the plain JavaScript objects of the API (shapes declared in `typescript.rs`),
//! and JavaScript bodies → core [`Body`]s.
//!
//! Bodies cross as JSON text (`JSON.stringify` / `JSON.parse`), which is what the core keeps
//! anyway: no serde bridge is needed. Numbers (seqs, timestamps) become JavaScript numbers,
//! exact up to 2^53.

use crate::prelude::*;
use enchufe_core::client::ConnState;
use enchufe_core::{Body, JsonText, Member, Message, Presence, PresenceAction, RoomName};
use js_sys::{Array, ArrayBuffer, JSON, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{concat, set};

/// Why a JavaScript value cannot be a message body.
pub(crate) struct NotABody(pub(crate) String);

/// A body from JavaScript: a `Uint8Array` or `ArrayBuffer` is a bytes body, anything else is
/// serialized with `JSON.stringify` (so `toJSON` methods apply, as in `fetch` bodies).
pub(crate) fn body_from_js(value: &JsValue) -> Result<Body, NotABody> {
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Ok(Body::Bytes(bytes.to_vec()));
    }
    if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        return Ok(Body::Bytes(Uint8Array::new(buffer).to_vec()));
    }
    let text = JSON::stringify(value).map_err(|e| {
        NotABody(concat(&["the body cannot be serialized as JSON: ", &describe(&e)]))
    })?;
    let text = text
        .as_string()
        .ok_or_else(|| NotABody("the body must be a JSON value or a Uint8Array".into()))?;
    JsonText::new(text)
        .map(Body::Json)
        .map_err(|_| NotABody("the body is not JSON, or nests deeper than 64".into()))
}

/// A body for JavaScript: the parsed JSON value, or a `Uint8Array`.
pub(crate) fn body_to_js(body: &Body) -> JsValue {
    match body {
        // The core validated the text as JSON; should the browser still refuse it, the text
        // itself is the most useful thing to hand over.
        Body::Json(raw) => JSON::parse(raw.get()).unwrap_or_else(|_| JsValue::from_str(raw.get())),
        Body::Bytes(bytes) => Uint8Array::from(bytes.as_slice()).into(),
    }
}

/// A JavaScript number for a seq, a count or a timestamp.
pub(crate) fn number(value: u64) -> JsValue {
    JsValue::from_f64(value as f64)
}

/// Messages become `Message` objects through this: their field names, and their room and
/// sender when they are the last message's, are JavaScript strings made once and reused. Each
/// new string costs the glue a `TextDecoder.decode`, which the browser benchmark found taking a
/// third of a receiving tab's time (docs/PERFORMANCE.md, "The browser benchmark").
#[derive(Default)]
pub(crate) struct Messages {
    keys: Vec<JsValue>,
    room: Option<(RoomName, JsValue)>,
    from: Option<(String, JsValue)>,
}

impl Messages {
    /// A `Message` object.
    pub(crate) fn message(&mut self, message: &Message) -> JsValue {
        if self.keys.is_empty() {
            self.keys = ["room", "seq", "from", "ts", "body"].map(JsValue::from_str).into();
        }
        let room = match &self.room {
            Some((kept, value)) if *kept == message.room => value.clone(),
            _ => {
                let value = room(&message.room);
                self.room = Some((message.room.clone(), value.clone()));
                value
            }
        };
        let from = match &self.from {
            Some((kept, value)) if *kept == message.from => value.clone(),
            _ => {
                let value = JsValue::from_str(&message.from);
                self.from = Some((message.from.clone(), value.clone()));
                value
            }
        };
        let values =
            [room, number(message.seq), from, number(message.ts), body_to_js(&message.body)];
        let out: JsValue = Object::new().into();
        for (key, value) in self.keys.iter().zip(values) {
            let _ = js_sys::Reflect::set(&out, key, &value);
        }
        out
    }
}

/// An array of `Message` objects.
pub(crate) fn messages(messages: &[Message]) -> JsValue {
    let mut objects = Messages::default();
    messages.iter().map(|m| objects.message(m)).collect::<Array>().into()
}

/// A `Member` object.
pub(crate) fn member(member: &Member) -> JsValue {
    let out = object(&[("session", JsValue::from_str(&member.session))]);
    if let Some(name) = &member.name {
        set(&out, "name", &JsValue::from_str(name));
    }
    out
}

/// A `JoinInfo` object. `epoch` is the room's numbering the `joined` announced (the state
/// machine keeps it, the core's `Joined` event does not carry it).
pub(crate) fn join_info(
    room_name: &RoomName,
    seq: u64,
    members: &[Member],
    recovered: bool,
    epoch: Option<&str>,
) -> JsValue {
    let out = object(&[
        ("room", room(room_name)),
        ("seq", number(seq)),
        ("members", members.iter().map(member).collect::<Array>().into()),
        ("recovered", JsValue::from_bool(recovered)),
    ]);
    if let Some(epoch) = epoch {
        set(&out, "epoch", &JsValue::from_str(epoch));
    }
    out
}

/// A `Presence` object.
pub(crate) fn presence(presence: &Presence) -> JsValue {
    let action = match presence.action {
        PresenceAction::Join => "join",
        PresenceAction::Leave => "leave",
    };
    object(&[
        ("room", room(&presence.room)),
        ("action", JsValue::from_str(action)),
        ("member", member(&presence.member)),
    ])
}

/// A `Gap` object.
pub(crate) fn gap(room_name: &RoomName, from: u64, to: u64) -> JsValue {
    object(&[("room", room(room_name)), ("from", number(from)), ("to", number(to))])
}

/// A `RoomReset` object.
pub(crate) fn reset(room_name: &RoomName, epoch: &str) -> JsValue {
    object(&[("room", room(room_name)), ("epoch", JsValue::from_str(epoch))])
}

/// A `ConnectionState` object; `now` turns a retry deadline into a countdown, and `skew` (the
/// driver's clock minus `performance.now()`) the deadline into `performance.now()` time.
pub(crate) fn state(state: &ConnState, now: u64, skew: u64) -> JsValue {
    let out = object(&[("state", JsValue::from_str(state.name()))]);
    match state {
        ConnState::Connecting { attempt } => set(&out, "attempt", &JsValue::from(*attempt)),
        ConnState::Online { session } => set(&out, "session", &JsValue::from_str(session)),
        ConnState::Waiting { until, attempt } => {
            set(&out, "attempt", &JsValue::from(*attempt));
            set(&out, "retryAt", &number(until.saturating_sub(skew)));
            set(&out, "retryInMs", &number(until.saturating_sub(now)));
        }
        _ => {}
    }
    out
}

fn room(room: &RoomName) -> JsValue {
    JsValue::from_str(room.as_str())
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let out: JsValue = Object::new().into();
    for (key, value) in fields {
        set(&out, key, value);
    }
    out
}

/// A thrown value as text, for an error message.
pub(crate) fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "a thrown value that is neither an Error nor a string".into())
}
