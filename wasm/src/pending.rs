//! The promises the API returned and the state machine has not answered yet, by request id.
//!
//! The state machine reports every answer as an event carrying the id its command returned
//! ([`Event::Ack`](enchufe_core::client::Event::Ack), `PublishFailed`, `Joined`, `Left`,
//! `History`, `RequestFailed`): each settles the promise stored under that id. Ids come from one
//! counter, so one table serves every kind of request; and every id gets exactly one answer
//! (two joins of one room in flight each get their `Joined`: core's `Rooms` keeps them), so the
//! table needs no knowledge of rooms.

use crate::prelude::*;
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;

/// The two functions that settle one promise.
pub(crate) struct Settle {
    resolve: Function,
    reject: Function,
}

impl Settle {
    /// A new promise and what settles it.
    pub(crate) fn new() -> (Promise, Settle) {
        let mut functions = None;
        let promise = Promise::new(&mut |resolve, reject| functions = Some((resolve, reject)));
        // `new Promise(executor)` runs the executor before it returns.
        let (resolve, reject) = functions.expect("the Promise executor runs synchronously");
        (promise, Settle { resolve, reject })
    }

    pub(crate) fn resolve(&self, value: &JsValue) {
        // Settling a promise never throws, and settling it twice is a no-op.
        let _ = self.resolve.call1(&JsValue::UNDEFINED, value);
    }

    pub(crate) fn reject(&self, error: &JsValue) {
        let _ = self.reject.call1(&JsValue::UNDEFINED, error);
    }
}

/// Promises waiting for the state machine, by the id of their command. A few wait at a time,
/// so a list searched from the end (the newest) does; a `BTreeMap` costs kilobytes of code in
/// the package (docs/DECISIONS.md, "The browser package's size").
#[derive(Default)]
pub(crate) struct Pending(Vec<(u64, Settle)>);

impl Pending {
    /// Stores the promise of command `id` (ids are never reused).
    pub(crate) fn add(&mut self, id: u64, settle: Settle) {
        self.0.push((id, settle));
    }

    /// The promise of command `id`, if it still waits (each is answered once).
    pub(crate) fn take(&mut self, id: u64) -> Option<Settle> {
        let i = self.0.iter().rposition(|(pending, _)| *pending == id)?;
        Some(self.0.swap_remove(i).1)
    }
}
