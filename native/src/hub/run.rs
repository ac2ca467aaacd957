//! A run of one connection's publishes to one room, gathered while its transport reads a burst
//! of input and fanned out together ([`Session::batch_publishes`](super::Session::batch_publishes)).
//!
//! Fanned out one by one, each message costs each subscriber's queue a lock and an unlock: the
//! push was a third of the server's time to 100 WebSocket subscribers, most of it that lock
//! (docs/PERFORMANCE.md). A run costs each queue one lock for all its messages. It is the same messages, in the same
//! order, with the same seqs: only the moment of the fan-out moves, to the end of what the
//! transport had already read — never past a wait for more input.

use enchufe_core::{Body, RoomName};

use super::{Now, history::DedupeKey};

/// The most publishes a run gathers before it is fanned out.
pub(super) const MAX_RUN: usize = 64;

/// Publishes to [`Run::room`], received and admitted, not yet fanned out.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) room: RoomName,
    /// Each publish's body and de-duplication key, in the order received.
    pub(super) messages: Vec<(Body, Option<DedupeKey>)>,
    /// Each publish's id, for its `ack` (or its error).
    pub(super) ids: Vec<Option<u64>>,
    /// When the last of them was received: the messages' `ts`.
    pub(super) now: Now,
}

impl Run {
    pub(super) fn new(room: RoomName, now: Now) -> Self {
        Run { room, messages: Vec::new(), ids: Vec::new(), now }
    }

    /// Adds a publish; returns whether the run is full.
    pub(super) fn add(
        &mut self,
        body: Body,
        key: Option<DedupeKey>,
        id: Option<u64>,
        now: Now,
    ) -> bool {
        self.messages.push((body, key));
        self.ids.push(id);
        self.now = now;
        self.messages.len() >= MAX_RUN
    }
}
