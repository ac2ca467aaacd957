//! What a [`Client`](super::Client) tells the application, besides the answers to its calls.

use enchufe_core::{Member, Message, Presence, RoomName, client::ConnState};

/// Something that happened, from [`Client::next_event`](super::Client::next_event).
///
/// Answers to calls (acks, joins, history, refusals) resolve the calls' futures instead; what is
/// left is what the application did not ask for at that moment: room traffic and the
/// connection's life.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A message of a joined room: per room in strictly increasing seq order, each at most once.
    Message(Message),
    /// Messages `from..=to` of `room` will not be delivered: history no longer held them when the
    /// client re-joined, or (UDP) a datagram was lost or too large.
    /// [`Client::history`](super::Client::history) can fetch those still stored.
    Gap {
        /// The room.
        room: RoomName,
        /// The first missing seq.
        from: u64,
        /// The last missing seq.
        to: u64,
    },
    /// The server numbers `room` anew (it restarted, or forgot the idle room) under a new
    /// `epoch`: seqs start again from 1, and the client delivers the new numbering from its
    /// start. Messages published between the last one delivered and the server losing the room
    /// are gone without a seq to name them: tell the user, or reload from elsewhere.
    Reset {
        /// The room.
        room: RoomName,
        /// The room's new epoch.
        epoch: String,
    },
    /// Someone joined or left a joined room.
    Presence(Presence),
    /// The server confirmed a join: the first one (which also resolves
    /// [`Client::join`](super::Client::join)) and every automatic re-join after a reconnect.
    Joined(JoinInfo),
    /// The connection state changed (online, waiting to reconnect with its deadline, …).
    State(ConnState),
    /// A server error not tied to a call: `slow_consumer`, `kicked` or `shutting_down` before a
    /// reconnect, 4012 `too_large_for_datagram` on UDP (its text names the room and seq), …
    Error {
        /// The [`ErrorCode`](enchufe_core::ErrorCode) number.
        code: u16,
        /// The server's explanation.
        message: String,
    },
    /// The server took the token given to [`Client::refresh`](super::Client::refresh).
    Refreshed {
        /// When the new token expires (Unix seconds), if it does.
        expires: Option<u64>,
    },
}

/// A confirmed join: what [`Client::join`](super::Client::join) returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinInfo {
    /// The room.
    pub room: RoomName,
    /// The room's current seq; missed messages up to it are replayed as events right after.
    pub seq: u64,
    /// Who is in the room now, this client included.
    pub members: Vec<Member>,
    /// False when history no longer reached back to `since`: a [`Event::Gap`] follows.
    pub recovered: bool,
}
