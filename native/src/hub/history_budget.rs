//! One byte budget for every room's history, evicted oldest first across rooms.
//!
//! Each room bounds its history by count and age; this bounds them all together, in the bytes
//! of their messages' JSON encoding (docs/DECISIONS.md, "Budgets"). Every stored message is
//! noted here in publish order; when the total passes the budget, the oldest noted messages are
//! evicted from their rooms until it is back under. A room's own evictions (count, age) report
//! here too, so the total is exact; the notes they leave behind are skipped when reached, and
//! compacted away when they outnumber the stored messages.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicUsize, Ordering::Relaxed},
    },
};

use super::room::Room;

/// The budget and what the rooms hold against it.
#[derive(Debug)]
pub(crate) struct HistoryBudget {
    limit: usize,
    /// Bytes of every room's stored messages.
    bytes: AtomicUsize,
    /// Every room's stored messages.
    messages: AtomicUsize,
    /// (room, seq) of stored messages, oldest first; some already evicted by their room.
    order: Mutex<VecDeque<(Weak<Room>, u64)>>,
}

/// Notes beyond twice the stored messages (and this many) are compacted away.
const SLACK: usize = 1024;

impl HistoryBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        HistoryBudget {
            limit,
            bytes: AtomicUsize::new(0),
            messages: AtomicUsize::new(0),
            order: Mutex::default(),
        }
    }

    /// Bytes held by every room's history now.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Relaxed)
    }

    /// A room stored a message of `bytes` (under its lock).
    pub(crate) fn added(&self, bytes: usize) {
        self.bytes.fetch_add(bytes, Relaxed);
        self.messages.fetch_add(1, Relaxed);
    }

    /// A room evicted a message of `bytes` (under its lock), for whatever reason.
    pub(crate) fn removed(&self, bytes: usize) {
        self.bytes.fetch_sub(bytes, Relaxed);
        self.messages.fetch_sub(1, Relaxed);
    }

    /// Notes the message `seq` that `room` just stored, then evicts the oldest messages of any
    /// room while the total is over the budget. Called without any room's lock held (this takes
    /// rooms' locks under its own; a room never takes this one under its lock).
    pub(crate) fn stored(&self, room: &Arc<Room>, seq: u64) {
        let mut order = crate::sync::lock(&self.order);
        order.push_back((Arc::downgrade(room), seq));
        while self.bytes() > self.limit {
            let Some((room, seq)) = order.pop_front() else { break };
            if let Some(room) = room.upgrade() {
                room.evict_through(seq);
            }
        }
        if order.len() > 2 * self.messages.load(Relaxed) + SLACK {
            order.retain(|(room, seq)| room.upgrade().is_some_and(|room| room.holds(*seq)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::{Now, room::RoomRules};
    use enchufe_core::{Body, RoomName};

    fn room(name: &str, budget: &Arc<HistoryBudget>) -> Arc<Room> {
        let rules = RoomRules { history_len: 1000, history_age_secs: 3600, presence: true };
        Arc::new(Room::new(RoomName::new(name).unwrap(), name.into(), budget.clone(), rules))
    }

    #[test]
    fn the_oldest_messages_of_any_room_go_first_and_the_total_stays_under() {
        let body = || Body::json(&"x".repeat(1000)).unwrap();
        let one = {
            let probe = Arc::new(HistoryBudget::new(usize::MAX));
            let r = room("p", &probe);
            r.publish("op", body(), None, Now::default(), &mut Vec::new()).unwrap();
            probe.bytes()
        };
        let budget = Arc::new(HistoryBudget::new(one * 5));
        let (a, b) = (room("a", &budget), room("b", &budget));
        for _ in 0..3 {
            let seq = a.publish("op", body(), None, Now::default(), &mut Vec::new()).unwrap().seq;
            budget.stored(&a, seq);
        }
        for _ in 0..4 {
            let seq = b.publish("op", body(), None, Now::default(), &mut Vec::new()).unwrap().seq;
            budget.stored(&b, seq);
            assert!(budget.bytes() <= one * 5);
        }
        // Seven messages published, five fit: a's first two went, b kept all four.
        assert!(!a.holds(2) && a.holds(3) && (1..=4).all(|seq| b.holds(seq)));
        assert_eq!(budget.bytes(), one * 5);
    }
}
