//! The errors JavaScript sees: an `Error` whose `name` and `code` come from the core's
//! [`ErrorCode`] table, like a `DOMException`'s.

use enchufe_core::{ErrorCode, RoomName};
use wasm_bindgen::prelude::*;

/// An `EnchufeError` (see the TypeScript declaration in `typescript.rs`): `code` is the wire
/// number, `name` its table name (`"unknown"` for a code newer than this package).
pub(crate) fn enchufe_error(code: u16, message: &str, room: Option<&RoomName>) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(ErrorCode::from_code(code).map_or("unknown", ErrorCode::name));
    set(&error, "code", &JsValue::from(code));
    if let Some(room) = room {
        set(&error, "room", &JsValue::from_str(room.as_str()));
    }
    error.into()
}

/// An error the client raises itself, for a known code.
pub(crate) fn local_error(code: ErrorCode, message: &str) -> JsValue {
    enchufe_error(code.code(), message, None)
}

/// A `TypeError`, for arguments of the wrong type (what the platform throws for those).
pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// `parts` one after the other, without std's generic join (a KB of the module).
pub(crate) use enchufe_core::text::concat;

/// Sets `key` on a fresh object we own; that cannot fail (it is not frozen, not a proxy).
pub(crate) fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}
