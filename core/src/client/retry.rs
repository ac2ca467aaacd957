//! What the server could not do for now (error 4023 `unavailable`: a server of several nodes
//! whose shared store is out of reach) and is sent again after a pause: publishes (same ids, so
//! the server acknowledges each once) and joins. Nothing is dropped for a transient refusal.

use crate::RoomName;
use crate::prelude::*;

/// How long the client waits before sending refused work again, in ms.
pub const UNAVAILABLE_RETRY_MS: u64 = 1_000;

/// The work to send again, and when.
#[derive(Clone, Debug, Default)]
pub(crate) struct Retry {
    /// When to send it (ms); `None`: nothing waits.
    pub(crate) at: Option<u64>,
    publishes: Vec<u64>,
    joins: Vec<RoomName>,
}

impl Retry {
    /// The publish `id` was refused for now.
    pub(crate) fn publish(&mut self, id: u64, now: u64) {
        if !self.publishes.contains(&id) {
            self.publishes.push(id);
        }
        self.schedule(now);
    }

    /// The join of `room` was refused for now.
    pub(crate) fn join(&mut self, room: RoomName, now: u64) {
        if !self.joins.contains(&room) {
            self.joins.push(room);
        }
        self.schedule(now);
    }

    /// Whether it is time to send it.
    pub(crate) fn due(&self, now: u64) -> bool {
        self.at.is_some_and(|at| now >= at)
    }

    /// Takes what is to be sent again (publish ids, rooms).
    pub(crate) fn take(&mut self) -> (Vec<u64>, Vec<RoomName>) {
        self.at = None;
        (core::mem::take(&mut self.publishes), core::mem::take(&mut self.joins))
    }

    fn schedule(&mut self, now: u64) {
        self.at.get_or_insert(now + UNAVAILABLE_RETRY_MS);
    }
}
