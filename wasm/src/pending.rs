//! The promises the API returned and the state machine has not answered yet, by request id.
//!
//! The state machine reports every answer as an event carrying the id its command returned
//! ([`Event::Ack`](enchufe_core::client::Event::Ack), `PublishFailed`, `Joined`, `Left`,
//! `History`, `RequestFailed`): each settles the promise stored under that id. Joins are kept
//! by room, because joining a room again while its join is pending gives the room a new id and
//! the answer then carries only that one: every promise of the room settles with it.

use std::collections::BTreeMap;

use enchufe_core::RoomName;
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

/// Promises waiting for the state machine.
#[derive(Default)]
pub(crate) struct Pending {
    /// Per room: the id of its current join, and every promise waiting for it.
    joins: BTreeMap<RoomName, (u64, Vec<Settle>)>,
    publishes: BTreeMap<u64, Settle>,
    leaves: BTreeMap<u64, Settle>,
    histories: BTreeMap<u64, Settle>,
}

impl Pending {
    pub(crate) fn add_join(&mut self, room: RoomName, id: u64, settle: Settle) {
        let entry = self.joins.entry(room).or_insert_with(|| (id, Vec::new()));
        entry.0 = id;
        entry.1.push(settle);
    }

    /// The promises of the join `id` of `room`, if it is the room's current join.
    pub(crate) fn take_join(&mut self, room: &RoomName, id: u64) -> Vec<Settle> {
        match self.joins.get(room) {
            Some((current, _)) if *current == id => {
                self.joins.remove(room).map(|(_, s)| s).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }

    pub(crate) fn add_publish(&mut self, id: u64, settle: Settle) {
        self.publishes.insert(id, settle);
    }

    pub(crate) fn take_publish(&mut self, id: u64) -> Option<Settle> {
        self.publishes.remove(&id)
    }

    pub(crate) fn add_leave(&mut self, id: u64, settle: Settle) {
        self.leaves.insert(id, settle);
    }

    pub(crate) fn take_leave(&mut self, id: u64) -> Option<Settle> {
        self.leaves.remove(&id)
    }

    pub(crate) fn add_history(&mut self, id: u64, settle: Settle) {
        self.histories.insert(id, settle);
    }

    pub(crate) fn take_history(&mut self, id: u64) -> Option<Settle> {
        self.histories.remove(&id)
    }

    /// The promises of request `id` (a join, leave or history), for a `RequestFailed`.
    pub(crate) fn take_request(&mut self, id: u64) -> Vec<Settle> {
        if let Some(room) = self.joins.iter().find(|(_, (j, _))| *j == id).map(|(r, _)| r.clone()) {
            return self.take_join(&room, id);
        }
        self.take_leave(id).or_else(|| self.take_history(id)).into_iter().collect()
    }
}
