//! Requests waiting for their answer: `history` (re-sent after a reconnect) and `leave`.

use super::sorted_map::SortedMap;
use crate::prelude::*;
use crate::{ClientFrame, HistoryRequest, RoomName};

/// Pending requests by id. Joins are not here: a join is a wanted room ([`super::rooms`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Requests {
    /// `history` requests not answered yet. They are re-sent on every new connection: reading
    /// history is idempotent, and a request the application made should not vanish because the
    /// network blinked.
    history: SortedMap<u64, HistoryRequest>,
    /// `leave` requests sent on the current connection and not answered yet. A lost connection
    /// answers them (the session that was in the room is gone).
    leaves: SortedMap<u64, RoomName>,
}

impl Requests {
    pub(crate) fn add_history(&mut self, request: HistoryRequest) -> ClientFrame {
        let frame = ClientFrame::History(request.clone());
        if let Some(id) = request.id {
            self.history.insert(id, request);
        }
        frame
    }

    pub(crate) fn history_frames(&self) -> impl Iterator<Item = ClientFrame> + '_ {
        self.history.values().cloned().map(ClientFrame::History)
    }

    pub(crate) fn take_history(&mut self, id: u64) -> Option<HistoryRequest> {
        self.history.remove(&id)
    }

    pub(crate) fn add_leave(&mut self, id: u64, room: RoomName) {
        self.leaves.insert(id, room);
    }

    pub(crate) fn take_leave(&mut self, id: u64) -> Option<RoomName> {
        self.leaves.remove(&id)
    }

    /// Every pending leave, emptied.
    pub(crate) fn drain_leaves(&mut self) -> Vec<(u64, RoomName)> {
        self.leaves.drain()
    }

    /// Every pending history request, emptied.
    pub(crate) fn drain_history(&mut self) -> Vec<(u64, HistoryRequest)> {
        self.history.drain()
    }
}
