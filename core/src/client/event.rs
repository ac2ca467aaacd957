//! What the [`Client`](super::Client) hands back: driver instructions and application events.

use crate::prelude::*;
use crate::{ClientFrame, Member, Message, Presence, RoomName};

use super::ConnState;

/// One output of [`Client::poll_output`](super::Client::poll_output). Drain them in a loop
/// until [`Output::Wait`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Open a transport to the server, then call
    /// [`handle_connected`](super::Client::handle_connected) once it is open, or
    /// [`handle_disconnected`](super::Client::handle_disconnected) if it fails.
    Connect,
    /// Send this frame on the open transport, in order.
    Transmit(ClientFrame),
    /// Close the transport (or abandon the attempt to open it): the heartbeat found it dead,
    /// the attempt timed out, or [`close`](super::Client::close) was called. The machine has
    /// already moved on: do not call [`handle_disconnected`](super::Client::handle_disconnected)
    /// for this transport, and drop whatever it still delivers.
    Disconnect,
    /// Something for the application.
    Event(Event),
    /// Nothing more to do now. Call [`handle_timeout`](super::Client::handle_timeout) at this
    /// deadline (milliseconds on the driver's clock) unless an input comes first; `None`: no
    /// deadline, wait for input only.
    Wait(Option<u64>),
}

/// Something that happened, for the application.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The connection state changed (every change, including each
    /// [`Waiting`](ConnState::Waiting) with its deadline so a UI can show a countdown).
    State(ConnState),
    /// The server confirmed a join: after the first [`join`](super::Client::join), and again
    /// after every reconnect (the client re-joins every wanted room by itself).
    Joined {
        /// The id [`join`](super::Client::join) returned for this room; re-joins reuse it.
        id: u64,
        /// The room.
        room: RoomName,
        /// The room's current seq; messages up to it that the client missed are replayed next.
        seq: u64,
        /// Who is in the room now.
        members: Vec<Member>,
        /// False when history no longer reached back to what the client had seen: a
        /// [`Gap`](Event::Gap) with the lost range follows, or a [`Reset`](Event::Reset) when
        /// the room was numbered anew.
        recovered: bool,
    },
    /// The client left a room (answer to [`leave`](super::Client::leave); immediate when
    /// offline, or when the connection dropped before the server answered).
    Left {
        /// The id [`leave`](super::Client::leave) returned.
        id: u64,
        /// The room.
        room: RoomName,
    },
    /// A message of a joined room, in seq order, each seq at most once (per epoch: after a
    /// [`Reset`](Event::Reset) seqs start again from 1).
    Message(Message),
    /// The messages `from..=to` of `room` will not be delivered: history no longer held them
    /// when the client re-joined, or the seq jumped (a datagram was lost). Fetch them with
    /// [`history`](super::Client::history) if they are still stored.
    Gap {
        /// The room.
        room: RoomName,
        /// The first missing seq.
        from: u64,
        /// The last missing seq.
        to: u64,
    },
    /// The server numbers `room` anew: it restarted, or forgot the room while it was idle and
    /// empty, and seqs start again from 1 under a new epoch (the re-join's `joined` carried an
    /// epoch other than the one the client's last seq counts in). The client has started the
    /// room over from seq 0: the replay that follows is the new numbering, delivered in full
    /// (with a [`Gap`](Event::Gap) for the part of it history no longer holds). What was
    /// published after the last message delivered and before the server lost the room is gone,
    /// and no seq can name it: tell the user, or reload the room's state from elsewhere. Seqs of
    /// the room kept by the application are not comparable with the new ones.
    ///
    /// Comes right after the [`Joined`](Event::Joined) that revealed it, before any message of
    /// the new numbering.
    Reset {
        /// The room.
        room: RoomName,
        /// The room's new epoch.
        epoch: String,
    },
    /// Someone joined or left a joined room.
    Presence(Presence),
    /// The server stored a publish under `seq` (exactly once, even if it was retried).
    Ack {
        /// The id [`publish`](super::Client::publish) returned.
        id: u64,
        /// The room.
        room: RoomName,
        /// The message's seq in the room.
        seq: u64,
    },
    /// A publish will not be delivered: the server refused it, the outbox was full, or the
    /// client was closed before the ack (then it may or may not have been delivered).
    PublishFailed {
        /// The id [`publish`](super::Client::publish) returned (or reported in the error).
        id: u64,
        /// The room.
        room: RoomName,
        /// The [`ErrorCode`](crate::ErrorCode) number, e.g. 4016 `outbox_full`.
        code: u16,
        /// A human-readable explanation.
        message: String,
    },
    /// The answer to [`history`](super::Client::history).
    History {
        /// The id [`history`](super::Client::history) returned.
        id: u64,
        /// The room.
        room: RoomName,
        /// The stored messages, the oldest first.
        messages: Vec<Message>,
    },
    /// A join, leave or history request was refused (or abandoned by
    /// [`close`](super::Client::close), code 4018 `closed`).
    RequestFailed {
        /// The id the request's method returned.
        id: u64,
        /// The [`ErrorCode`](crate::ErrorCode) number.
        code: u16,
        /// A human-readable explanation.
        message: String,
    },
    /// The server took the token given to [`refresh`](super::Client::refresh).
    Refreshed {
        /// When the new token expires (Unix seconds), if it does.
        expires: Option<u64>,
    },
    /// A server error not tied to a pending request, e.g. `slow_consumer`, `kicked` or
    /// `shutting_down` before the server closes the connection (the client then reconnects),
    /// or `unauthorized` (the client then closes).
    Error {
        /// The [`ErrorCode`](crate::ErrorCode) number (possibly one newer than this crate).
        code: u16,
        /// A human-readable explanation.
        message: String,
    },
}

/// Why a command was refused on the spot.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The outbox already holds `capacity` publishes waiting for their ack; this one was not
    /// queued (an [`Event::PublishFailed`] with code 4016 `outbox_full` reports it as well).
    #[error("outbox full: {capacity} publishes are waiting for their ack")]
    OutboxFull {
        /// The id given to the refused publish (the one in the `PublishFailed` event).
        id: u64,
        /// The outbox capacity.
        capacity: usize,
    },
}
