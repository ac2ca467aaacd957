//! A room's bounded history and the publish ids it remembers.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use enchufe_core::{Encoding, Message, ServerFrame};

use super::{Outgoing, history_budget::HistoryBudget};

/// Who published, for de-duplication: (client key, publish id).
pub(crate) type DedupeKey = (Arc<str>, u64);

/// The last messages of a room, bounded by count and age, and the publish ids that produced
/// them: an id is remembered exactly as long as its message is in history (docs/DECISIONS.md).
#[derive(Debug, Default)]
pub(crate) struct History {
    entries: VecDeque<Stored>,
    ids: HashMap<DedupeKey, u64>,
}

#[derive(Debug)]
struct Stored {
    seq: u64,
    message: Arc<Outgoing>,
    /// When it was stored, in [`Now::ms`](super::Now::ms).
    at: u64,
    key: Option<DedupeKey>,
    /// What it counts against the history budget ([`budgeted`]).
    bytes: usize,
}

/// Bytes a stored message's encodings are reckoned at, beyond its body, room and sender: its
/// seq, timestamp, field names and framing.
const FRAME_OVERHEAD: usize = 64;

/// What a stored message counts against the history budget: its body, room and sender, plus
/// [`FRAME_OVERHEAD`] — about the length of its encodings, reckoned without making one. Each
/// encoding is made when a connection first writes the message, and a room whose subscribers
/// all read binary never needs the JSON one (weighing by a JSON encoding made for the purpose
/// cost a quarter of the server's CPU per delivery to 10 WebSocket subscribers).
fn budgeted(message: &Outgoing) -> usize {
    match message.frame() {
        ServerFrame::Message(m) => {
            m.body.len() + m.room.as_str().len() + m.from.len() + FRAME_OVERHEAD
        }
        _ => message.encoded(Encoding::Json).len(),
    }
}

impl History {
    /// The seq an earlier publish with this key got, if its message is still stored.
    pub(crate) fn seq_of(&self, key: &DedupeKey) -> Option<u64> {
        self.ids.get(key).copied()
    }

    /// Stores a message, then evicts what is over `max_len`. Both count against `budget`.
    pub(crate) fn push(
        &mut self,
        seq: u64,
        message: Arc<Outgoing>,
        at: u64,
        key: Option<DedupeKey>,
        max_len: usize,
        budget: &HistoryBudget,
    ) {
        if let Some(key) = &key {
            self.ids.insert(key.clone(), seq);
        }
        let bytes = budgeted(&message);
        budget.added(bytes);
        self.entries.push_back(Stored { seq, message, at, key, bytes });
        while self.entries.len() > max_len {
            self.pop_front(budget);
        }
    }

    /// Evicts messages stored before `cutoff` (ms).
    pub(crate) fn expire(&mut self, cutoff: Option<u64>, budget: &HistoryBudget) {
        let Some(cutoff) = cutoff else { return };
        while self.entries.front().is_some_and(|e| e.at < cutoff) {
            self.pop_front(budget);
        }
    }

    /// Evicts the messages with seq ≤ `seq` (the history budget's oldest-first eviction).
    pub(crate) fn evict_through(&mut self, seq: u64, budget: &HistoryBudget) {
        while self.entries.front().is_some_and(|e| e.seq <= seq) {
            self.pop_front(budget);
        }
    }

    /// Whether the message `seq` is stored.
    pub(crate) fn holds(&self, seq: u64) -> bool {
        self.first_seq().is_some_and(|first| first <= seq)
            && self.entries.back().is_some_and(|last| seq <= last.seq)
    }

    /// The body of the stored message `seq`.
    pub(crate) fn body(&self, seq: u64) -> Option<&enchufe_core::Body> {
        let (found, out) = self.since(seq.checked_sub(1)?).next()?;
        match out.frame() {
            ServerFrame::Message(message) if found == seq => Some(&message.body),
            _ => None,
        }
    }

    /// The seq of the oldest stored message.
    pub(crate) fn first_seq(&self) -> Option<u64> {
        self.entries.front().map(|e| e.seq)
    }

    /// Whether nothing is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Stored messages with seq > `since` and their seqs, the oldest first.
    pub(crate) fn since(&self, since: u64) -> impl Iterator<Item = (u64, &Arc<Outgoing>)> {
        // Seqs are consecutive in the deque, so the start is an index, not a search.
        let skip = match self.first_seq() {
            Some(first) if since >= first => {
                usize::try_from(since - first + 1).unwrap_or(usize::MAX)
            }
            _ => 0,
        };
        self.entries.iter().skip(skip).map(|e| (e.seq, &e.message))
    }

    /// The messages with seq > `since` as `message` frames, at most `limit`, and no more than
    /// `max_bytes` of bodies (but always at least one): a page the client continues with `since`.
    pub(crate) fn messages(&self, since: u64, limit: usize, max_bytes: usize) -> Vec<Message> {
        let mut bytes = 0usize;
        let mut page = Vec::new();
        for (_, out) in self.since(since).take(limit) {
            let ServerFrame::Message(message) = out.frame() else { continue };
            bytes = bytes.saturating_add(message.body.len());
            if bytes > max_bytes && !page.is_empty() {
                break;
            }
            page.push(message.clone());
        }
        page
    }

    /// Evicts every message (a shared engine's mirror that this node forgets).
    pub(crate) fn clear(&mut self, budget: &HistoryBudget) {
        while !self.entries.is_empty() {
            self.pop_front(budget);
        }
    }

    fn pop_front(&mut self, budget: &HistoryBudget) {
        if let Some(old) = self.entries.pop_front() {
            budget.removed(old.bytes);
            if let Some(key) = old.key {
                if self.ids.get(&key) == Some(&old.seq) {
                    self.ids.remove(&key);
                }
            }
        }
    }
}
