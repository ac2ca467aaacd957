//! The rooms the application wants to be in, and what it has seen of each: the last seq and the
//! epoch it counts in, for re-joining with `since`, dropping duplicates and spotting gaps.
//!
//! ## The rules, per room
//! - **Baseline.** `last_seq` is the seq up to which the client is caught up: the last message
//!   delivered, or the `since` given to [`join`](super::Client::join), or — for a join without
//!   `since` — the room's seq in the first `joined` (what came before the client is not a gap).
//! - **Duplicates.** A message with `seq <= last_seq` is dropped silently: replays after a
//!   re-join overlap what was already delivered.
//! - **Jumps.** A message with `seq > last_seq + 1` is delivered after a `Gap { from: last_seq+1,
//!   to: seq−1 }` (a lost datagram, or messages evicted from history before a re-join).
//! - **Not recovered.** `joined { recovered: false }` means history starts after `last_seq + 1`,
//!   but not where. The gap is reported by the first message that follows (by the jump rule:
//!   `from: last_seq+1, to: first replayed seq − 1`). If nothing is replayed, no message may come
//!   for a long time, so the client also sends a `ping` right after such a `joined`: the server
//!   handles frames in order and writes the whole replay before answering that ping, so a `pong`
//!   that finds the gap still open means nothing was replayed, and it reports
//!   `Gap { from: last_seq+1, to: joined.seq }`. (On a transport that reorders, a replayed message
//!   arriving after that pong is then dropped as a duplicate: it is inside the reported gap.)
//! - **Reset.** Every `joined` carries the room's epoch, the id of its numbering; the client
//!   remembers it and re-joins with `since` and that `epoch`. A `joined` with another epoch
//!   means the server numbers the room anew (it restarted, or forgot the idle room): `last_seq`
//!   drops to 0 — otherwise the new messages up to the old `last_seq` would be dropped as
//!   duplicates — and the application is told ([`Event::Reset`](super::Event::Reset)). The
//!   server replays the new numbering from its start (`recovered: false`); what it no longer
//!   holds of it is reported as for "not recovered". Before the first `joined` the client has no
//!   epoch for a `since` the application gave; then a `joined.seq` below it (with nothing newer
//!   seen on this connection, which would make it a reordered frame) is the only sign of a new
//!   numbering, and is treated the same way.

use super::sorted_map::SortedMap;
use crate::prelude::*;

use crate::{ClientFrame, Join, Joined, Message, RoomName};

/// A wanted room's state.
#[derive(Clone, Debug)]
struct Room {
    /// The id the latest [`join`](super::Client::join) returned; every re-join is sent with it.
    join_id: u64,
    /// The ids of joins not answered yet, oldest first: each gets its own `joined` (the
    /// server answers every `join`, in order), and a re-join's answer also answers the ones
    /// whose frames a lost connection took.
    pending: Vec<u64>,
    last_seq: Option<u64>,
    /// The epoch `last_seq` counts in, from the last `joined`; `None` before the first.
    epoch: Option<String>,
    /// A message was accepted on the current connection (so a lower `joined.seq` is a reordered
    /// frame, not a server that lost the room).
    fresh: bool,
    pending_gap: Option<PendingGap>,
}

/// A gap announced by `joined { recovered: false }`, waiting for its first message or its
/// barrier `pong`.
#[derive(Clone, Copy, Debug)]
struct PendingGap {
    from: u64,
    to: u64,
    barrier: u64,
}

/// A range of seqs of a room that will not be delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Gap {
    pub(crate) room: RoomName,
    pub(crate) from: u64,
    pub(crate) to: u64,
}

/// What a `joined` means for the client.
#[derive(Debug)]
pub(crate) struct JoinedOutcome {
    /// The join ids this `joined` answers (one event each).
    pub(crate) ids: Vec<u64>,
    /// The room is numbered anew: `last_seq` went back to 0 (see "Reset").
    pub(crate) reset: bool,
    /// A `ping` with this id must be sent (see "Not recovered").
    pub(crate) barrier: Option<u64>,
}

/// What to do with a `message`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Not wanted, or already delivered: drop it silently.
    Drop,
    /// Deliver it, after reporting the gap before it if there is one.
    Deliver(Option<Gap>),
}

/// The wanted rooms, by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rooms {
    rooms: SortedMap<RoomName, Room>,
}

impl Rooms {
    /// The application wants `room` (again): remember the join id, and take `since` as the
    /// baseline unless the client has seen more.
    pub(crate) fn want(&mut self, room: RoomName, join_id: u64, since: Option<u64>) {
        let entry = self.rooms.get_or_insert_with(room, || Room {
            join_id,
            pending: Vec::new(),
            last_seq: None,
            epoch: None,
            fresh: false,
            pending_gap: None,
        });
        entry.join_id = join_id;
        entry.pending.push(join_id);
        entry.last_seq = entry.last_seq.max(since);
    }

    /// The application no longer wants `room`; returns the ids of its joins never answered.
    pub(crate) fn unwant(&mut self, room: &RoomName) -> Vec<u64> {
        self.rooms.remove(room).map(|r| r.pending).unwrap_or_default()
    }

    /// Forgets the room whose join `id` the server refused; returns the ids of that room's
    /// other joins never answered (they fail with it), or `None` if no room had that join.
    pub(crate) fn refuse(&mut self, id: u64) -> Option<Vec<u64>> {
        let room = self
            .rooms
            .iter()
            .find(|(_, r)| r.join_id == id || r.pending.contains(&id))
            .map(|(room, _)| room.clone())?;
        let r = self.rooms.remove(&room)?;
        Some(r.pending.into_iter().filter(|&other| other != id).collect())
    }

    /// The wanted room whose latest join has id `id`.
    pub(crate) fn joining(&self, id: u64) -> Option<&RoomName> {
        self.rooms.iter().find(|(_, r)| r.join_id == id).map(|(room, _)| room)
    }

    /// The wanted rooms, by name.
    pub(crate) fn names(&self) -> impl Iterator<Item = &RoomName> {
        self.rooms.keys()
    }

    pub(crate) fn is_wanted(&self, room: &RoomName) -> bool {
        self.rooms.contains_key(room)
    }

    pub(crate) fn last_seq(&self, room: &RoomName) -> Option<u64> {
        self.rooms.get(room).and_then(|r| r.last_seq)
    }

    pub(crate) fn epoch(&self, room: &RoomName) -> Option<&str> {
        self.rooms.get(room).and_then(|r| r.epoch.as_deref())
    }

    /// The `join` frame for `room`, with `since` = what the client has seen, in `epoch`.
    pub(crate) fn join_frame(&self, room: &RoomName) -> Option<ClientFrame> {
        let r = self.rooms.get(room)?;
        Some(ClientFrame::Join(Join {
            room: room.clone(),
            since: r.last_seq,
            id: Some(r.join_id),
            epoch: r.epoch.clone().filter(|_| r.last_seq.is_some()),
        }))
    }

    /// The `join` frames of every wanted room, for a new connection.
    pub(crate) fn join_frames(&self) -> Vec<ClientFrame> {
        self.rooms.keys().filter_map(|room| self.join_frame(room)).collect()
    }

    /// The connection is gone: what was per-connection is forgotten (a pending gap is announced
    /// again by the re-join's `joined`).
    pub(crate) fn connection_lost(&mut self) {
        for r in self.rooms.values_mut() {
            r.fresh = false;
            r.pending_gap = None;
        }
    }

    /// Empties the set, returning the ids of joins never answered.
    pub(crate) fn clear(&mut self) -> Vec<u64> {
        let unanswered =
            self.rooms.values_mut().flat_map(|r| core::mem::take(&mut r.pending)).collect();
        self.rooms.clear();
        unanswered
    }

    /// Applies a `joined`; `None` for a room not wanted (left meanwhile). `next_id` gives the
    /// barrier ping its id when one is needed.
    pub(crate) fn on_joined(
        &mut self,
        joined: &Joined,
        next_id: impl FnOnce() -> u64,
    ) -> Option<JoinedOutcome> {
        let r = self.rooms.get_mut(&joined.room)?;
        // The joins this answers: its own id and every earlier one still pending; an answer to
        // no pending join (a re-join after a reconnect) is reported under the latest id.
        let answered = match joined.id {
            Some(id) if r.pending.contains(&id) => {
                let (done, rest) = r.pending.iter().partition(|&&pending| pending <= id);
                r.pending = rest;
                done
            }
            _ if r.pending.is_empty() => vec![r.join_id],
            _ => core::mem::take(&mut r.pending),
        };
        let known = r.epoch.replace(joined.epoch.clone());
        let renumbered = match (known, r.last_seq) {
            (Some(known), _) => known != joined.epoch,
            (None, Some(last)) => joined.seq < last && !r.fresh,
            (None, None) => false,
        };
        let mut outcome = JoinedOutcome { ids: answered, reset: renumbered, barrier: None };
        if renumbered {
            // Whatever the server replays is new to this client; the rest of 1..=seq is a gap,
            // found like any other unrecovered one.
            r.last_seq = Some(0);
            r.pending_gap = None;
        }
        match r.last_seq {
            None => r.last_seq = Some(joined.seq),
            Some(last) if (!joined.recovered || renumbered) && joined.seq > last => {
                let barrier = next_id();
                r.pending_gap = Some(PendingGap { from: last + 1, to: joined.seq, barrier });
                outcome.barrier = Some(barrier);
            }
            Some(_) => {}
        }
        Some(outcome)
    }

    /// Applies the dedupe and gap rules to a `message`.
    pub(crate) fn on_message(&mut self, message: &Message) -> Delivery {
        let Some(r) = self.rooms.get_mut(&message.room) else {
            return Delivery::Drop;
        };
        let gap = match r.last_seq {
            Some(last) if message.seq <= last => return Delivery::Drop,
            Some(last) if message.seq > last + 1 => {
                Some(Gap { room: message.room.clone(), from: last + 1, to: message.seq - 1 })
            }
            _ => None,
        };
        r.last_seq = Some(message.seq);
        r.fresh = true;
        r.pending_gap = None;
        Delivery::Deliver(gap)
    }

    /// A `pong` with `id` arrived: the gaps whose replay it proves empty.
    pub(crate) fn on_pong(&mut self, id: u64) -> Vec<Gap> {
        let mut gaps = Vec::new();
        for (room, r) in self.rooms.iter_mut() {
            if let Some(gap) = r.pending_gap.filter(|g| g.barrier == id) {
                r.pending_gap = None;
                r.last_seq = r.last_seq.max(Some(gap.to));
                gaps.push(Gap { room: room.clone(), from: gap.from, to: gap.to });
            }
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Body;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn room() -> RoomName {
        RoomName::new("r").unwrap()
    }

    fn message(seq: u64) -> Message {
        Message { room: room(), seq, from: "s".into(), ts: 0, body: Body::Bytes(vec![]) }
    }

    fn joined(seq: u64, recovered: bool) -> Joined {
        joined_in("e1", seq, recovered)
    }

    fn joined_in(epoch: &str, seq: u64, recovered: bool) -> Joined {
        Joined { room: room(), seq, members: vec![], recovered, id: None, epoch: epoch.into() }
    }

    fn join_sent(rooms: &Rooms) -> Join {
        let Some(ClientFrame::Join(join)) = rooms.join_frame(&room()) else { panic!() };
        join
    }

    fn gap(from: u64, to: u64) -> Option<Gap> {
        Some(Gap { room: room(), from, to })
    }

    #[test]
    fn join_without_since_starts_at_the_rooms_seq_and_drops_duplicates() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, None);
        let outcome = rooms.on_joined(&joined(10, true), || unreachable!()).unwrap();
        assert_eq!((outcome.ids, outcome.reset, outcome.barrier), (vec![1], false, None));
        assert_eq!(rooms.last_seq(&room()), Some(10));
        assert_eq!(rooms.on_message(&message(10)), Delivery::Drop);
        assert_eq!(rooms.on_message(&message(11)), Delivery::Deliver(None));
        assert_eq!(rooms.on_message(&message(11)), Delivery::Drop);
        assert_eq!(rooms.on_message(&message(5)), Delivery::Drop);
        assert_eq!(rooms.on_message(&message(12)), Delivery::Deliver(None));
        assert_eq!(rooms.last_seq(&room()), Some(12));
    }

    #[test]
    fn a_seq_jump_is_a_gap_before_the_message() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, Some(3));
        assert_eq!(rooms.on_message(&message(4)), Delivery::Deliver(None));
        assert_eq!(rooms.on_message(&message(7)), Delivery::Deliver(gap(5, 6)));
        assert_eq!(rooms.on_message(&message(6)), Delivery::Drop, "late, inside the gap");
    }

    #[test]
    fn rejoin_since_is_the_last_seq_seen() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 7, Some(2));
        rooms.on_message(&message(3));
        let Some(ClientFrame::Join(join)) = rooms.join_frame(&room()) else { panic!() };
        assert_eq!((join.since, join.id), (Some(3), Some(7)));
        // Joining again with an older since keeps what was seen.
        rooms.want(room(), 8, Some(1));
        assert_eq!(rooms.last_seq(&room()), Some(3));
    }

    #[test]
    fn not_recovered_gap_ends_before_the_first_replayed_message() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, Some(5));
        let outcome = rooms.on_joined(&joined(30, false), || 99).unwrap();
        assert_eq!((outcome.reset, outcome.barrier), (false, Some(99)));
        assert_eq!(rooms.on_message(&message(21)), Delivery::Deliver(gap(6, 20)));
        assert_eq!(rooms.on_message(&message(22)), Delivery::Deliver(None));
        assert!(rooms.on_pong(99).is_empty(), "already reported");
    }

    #[test]
    fn not_recovered_with_nothing_replayed_is_reported_by_the_barrier_pong() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, Some(5));
        rooms.on_joined(&joined(30, false), || 42).unwrap();
        assert!(rooms.on_pong(41).is_empty());
        assert_eq!(rooms.on_pong(42), vec![gap(6, 30).unwrap()]);
        assert_eq!(rooms.last_seq(&room()), Some(30));
        assert_eq!(rooms.on_message(&message(29)), Delivery::Drop);
        assert_eq!(rooms.on_message(&message(31)), Delivery::Deliver(None));
    }

    #[test]
    fn a_lost_connection_forgets_the_pending_gap() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, Some(5));
        rooms.on_joined(&joined(30, false), || 42).unwrap();
        rooms.connection_lost();
        assert!(rooms.on_pong(42).is_empty());
        assert_eq!(rooms.last_seq(&room()), Some(5), "the re-join asks from 5 again");
    }

    #[test]
    fn rejoins_send_the_epoch_their_since_counts_in() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, Some(4));
        assert_eq!((join_sent(&rooms).since, join_sent(&rooms).epoch), (Some(4), None));
        rooms.on_joined(&joined_in("e1", 6, true), || unreachable!()).unwrap();
        rooms.on_message(&message(5));
        let join = join_sent(&rooms);
        assert_eq!((join.since, join.epoch.as_deref()), (Some(5), Some("e1")));
        assert_eq!(rooms.epoch(&room()), Some("e1"));
    }

    #[test]
    fn a_new_epoch_rebases_the_room_so_the_whole_replay_is_delivered() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, None);
        rooms.on_joined(&joined_in("old", 3, true), || unreachable!()).unwrap();
        for seq in 4..=5 {
            assert_eq!(rooms.on_message(&message(seq)), Delivery::Deliver(None));
        }
        // The server restarted and has numbered more messages than the client saw: seqs 1..=5
        // of the new numbering are new messages, not duplicates.
        rooms.connection_lost();
        let outcome = rooms.on_joined(&joined_in("new", 8, false), || 9).unwrap();
        assert_eq!((outcome.reset, outcome.barrier), (true, Some(9)));
        assert_eq!(rooms.last_seq(&room()), Some(0));
        for seq in 1..=8 {
            assert_eq!(rooms.on_message(&message(seq)), Delivery::Deliver(None), "seq {seq}");
        }
        assert!(rooms.on_pong(9).is_empty(), "the replay closed the pending gap");
        let join = join_sent(&rooms);
        assert_eq!((join.since, join.epoch.as_deref()), (Some(8), Some("new")));
        // The same epoch again, even with a lower seq (a reordered frame), changes nothing.
        let outcome = rooms.on_joined(&joined_in("new", 2, true), || unreachable!()).unwrap();
        assert_eq!((outcome.reset, outcome.barrier), (false, None));
        assert_eq!(rooms.last_seq(&room()), Some(8));
    }

    #[test]
    fn a_new_epoch_whose_history_starts_late_reports_the_rest_as_a_gap() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, None);
        rooms.on_joined(&joined_in("old", 50, true), || unreachable!()).unwrap();
        rooms.connection_lost();
        let outcome = rooms.on_joined(&joined_in("new", 30, false), || 9).unwrap();
        assert!(outcome.reset);
        assert_eq!(rooms.on_message(&message(21)), Delivery::Deliver(gap(1, 20)));
        // Nothing replayed at all: the barrier pong reports the new numbering's whole range.
        rooms.connection_lost();
        let outcome = rooms.on_joined(&joined_in("newer", 2, false), || 10).unwrap();
        assert!(outcome.reset);
        assert_eq!(rooms.on_pong(10), vec![gap(1, 2).unwrap()]);
        assert_eq!(rooms.last_seq(&room()), Some(2));
        // A new numbering with nothing in it yet: nothing to wait for.
        rooms.connection_lost();
        let outcome = rooms.on_joined(&joined_in("newest", 0, false), || unreachable!()).unwrap();
        assert_eq!((outcome.reset, outcome.barrier), (true, None));
        assert_eq!(rooms.on_message(&message(1)), Delivery::Deliver(None));
    }

    #[test]
    fn without_an_epoch_a_since_the_room_never_reached_rebases_it() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, Some(500));
        let outcome = rooms.on_joined(&joined_in("e1", 3, false), || 9).unwrap();
        assert_eq!((outcome.reset, outcome.barrier), (true, Some(9)));
        assert_eq!(rooms.on_message(&message(2)), Delivery::Deliver(gap(1, 1)));
        assert_eq!(rooms.on_message(&message(3)), Delivery::Deliver(None));
        // A message that overtook the first `joined` makes a lower seq a reordered frame.
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, Some(5));
        assert_eq!(rooms.on_message(&message(6)), Delivery::Deliver(None));
        let outcome = rooms.on_joined(&joined_in("e1", 5, true), || unreachable!()).unwrap();
        assert!(!outcome.reset);
        assert_eq!(rooms.last_seq(&room()), Some(6));
    }

    #[test]
    fn rooms_not_wanted_are_dropped_and_unanswered_joins_reported() {
        let mut rooms = Rooms::default();
        assert_eq!(rooms.on_message(&message(1)), Delivery::Drop);
        assert!(rooms.on_joined(&joined(1, true), || 0).is_none());
        rooms.want(room(), 1, None);
        assert_eq!(rooms.unwant(&room()), vec![1]);
        assert_eq!(rooms.on_message(&message(1)), Delivery::Drop);
        rooms.want(room(), 2, None);
        rooms.on_joined(&joined(0, true), || 0);
        assert_eq!(rooms.clear(), Vec::<u64>::new());
        rooms.want(room(), 3, None);
        assert_eq!(rooms.refuse(3), Some(vec![]));
        assert!(!rooms.is_wanted(&room()));
        assert_eq!(rooms.refuse(3), None);
    }

    #[test]
    fn two_joins_of_one_room_in_flight_are_each_answered() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, None);
        rooms.want(room(), 2, None);
        let answer = |id| Joined { id: Some(id), ..joined(5, true) };
        assert_eq!(rooms.on_joined(&answer(1), || 0).unwrap().ids, vec![1]);
        assert_eq!(rooms.on_joined(&answer(2), || 0).unwrap().ids, vec![2]);
        // Answered joins are not failed later; a re-join's answer is reported under the latest.
        assert_eq!(rooms.on_joined(&answer(2), || 0).unwrap().ids, vec![2]);
        assert_eq!(rooms.clear(), Vec::<u64>::new());
        // A join lost with its connection is answered by the re-join's `joined`.
        rooms.want(room(), 3, None);
        rooms.want(room(), 4, None);
        assert_eq!(rooms.on_joined(&answer(4), || 0).unwrap().ids, vec![3, 4]);
    }

    #[test]
    fn extreme_seqs_do_not_overflow() {
        let mut rooms = Rooms::default();
        rooms.want(room(), 1, Some(u64::MAX));
        assert_eq!(rooms.on_message(&message(u64::MAX)), Delivery::Drop);
        rooms.want(room(), 2, None);
        let mut fresh = Rooms::default();
        fresh.want(room(), 1, Some(u64::MAX - 1));
        assert_eq!(fresh.on_message(&message(u64::MAX)), Delivery::Deliver(None));
    }
}
