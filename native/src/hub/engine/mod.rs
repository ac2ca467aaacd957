//! The engine seam: with a shared engine (Redis, `crate::engine`), what orders and keeps messages
//! for every node is outside this process. The hub then hands its [`Command`]s to the engine's
//! driver instead of numbering and storing messages itself, and is told back what happened — the
//! same shape as core's client: inputs in, outputs out, no I/O here.
//!
//! What changes with a shared engine, and what does not:
//! - A `publish` is a [`Command::Publish`]: the engine gives it its seq and stores it, then every
//!   node (this one too) is told the message ([`Hub::engine_message`]) and fans it out to its own
//!   members, in seq order, with the same queues as the memory engine.
//! - A `join` is a [`Command::Join`]: the engine adds the member to the room's shared presence,
//!   and answers with the room's epoch, seq, members of every node, and, for a room this node
//!   does not hold yet, its stored messages ([`Hub::engine_joined`]). The room this node holds
//!   is then a mirror: messages in seq order, replays from it as with the memory engine.
//! - `history` reads the shared store ([`Command::History`]).
//! - The connection's own rules (rights, rates, queues, timers) are unchanged.
//!
//! Every command is answered, with the result or with 4023 `unavailable` when the engine
//! cannot be reached, so a client never waits for an answer that does not come.
//!
//! Files: this one the commands and answers; `outputs.rs` what the hub hands the engine;
//! `inputs.rs` what the engine's driver tells the hub.

mod inputs;
mod outputs;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use enchufe_core::{Join, Member, Message, RoomName};
use tokio::sync::{mpsc, oneshot};

use super::{
    Page, Published, RoomInfo,
    history::DedupeKey,
    room::{RoomRules, Sees},
};

/// What the hub asks of a shared engine.
#[derive(Debug)]
pub enum Command {
    /// Add a member to a room's shared presence and answer with the room's state.
    Join(JoinCommand),
    /// Remove a member from a room's shared presence (it left, or its connection ended).
    Leave {
        /// The room.
        room: RoomName,
        /// The member's session.
        session: Arc<str>,
        /// A client's `leave` (with its id): the session leaves the room here too when the
        /// engine has done it — after any join of it that was under way — and is answered.
        /// `None`: the session already left here (it closed, or its rights narrowed).
        id: Option<Option<u64>>,
    },
    /// Number, store and fan out a message to every node.
    Publish(PublishCommand),
    /// Read stored messages.
    History(HistoryCommand),
    /// A page of the room list (every node's rooms), sorted by name.
    Rooms {
        /// Rooms named after this one.
        after: Option<RoomName>,
        /// At most this many.
        limit: usize,
        /// The page, and whether more follow.
        reply: oneshot::Sender<Result<RoomsPage, Unavailable>>,
    },
}

/// [`Command::Join`].
#[derive(Debug)]
pub struct JoinCommand {
    /// The joining session.
    pub session: Arc<str>,
    /// The member others see.
    pub member: Member,
    /// The client's `join`.
    pub join: Join,
    /// What the member may see besides messages.
    pub sees: Sees,
    /// The room's rules (its history bounds).
    pub rules: RoomRules,
    /// How many times the session's token had been replaced when it asked (a join under way
    /// across a `refresh` was allowed by the old token, and is refused).
    pub token: u32,
}

/// [`Command::Publish`].
#[derive(Debug)]
pub struct PublishCommand {
    /// The message to number (its `seq` is 0 until the engine gives it one).
    pub message: Message,
    /// Its de-duplication key (client, publish id), if it has one.
    pub key: Option<DedupeKey>,
    /// The room's rules (its history bounds).
    pub rules: RoomRules,
    /// Who is told the result.
    pub reply: Reply<Published>,
}

/// [`Command::History`].
#[derive(Debug)]
pub struct HistoryCommand {
    /// The room.
    pub room: RoomName,
    /// Messages after this seq (from the oldest stored without it).
    pub since: Option<u64>,
    /// The epoch `since` counts in (REST pages).
    pub epoch: Option<String>,
    /// At most this many.
    pub limit: usize,
    /// At most this many bytes of bodies (but always one message).
    pub max_bytes: usize,
    /// The oldest a message may be, in Unix ms (the room's age limit).
    pub oldest_ms: u64,
    /// Who is told the result.
    pub reply: Reply<Page>,
}

/// Where a command's answer goes: a session's queue (a frame with the client's `id`), or a
/// waiting HTTP request.
#[derive(Debug)]
pub enum Reply<T> {
    /// A session's frame with this `id`.
    Session {
        /// The session.
        session: Arc<str>,
        /// The id the client gave its frame.
        id: Option<u64>,
    },
    /// An HTTP request.
    Http(oneshot::Sender<Result<T, Unavailable>>),
}

/// A page of the room list, and whether more follow.
pub type RoomsPage = (Vec<RoomInfo>, bool);

/// Where an HTTP request waits for the engine's answer.
pub type Answer<T> = oneshot::Receiver<Result<T, Unavailable>>;

/// The engine could not do it (4023 `unavailable`), with why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// The hub's end of a shared engine: where commands go, and whether the engine is reachable.
#[derive(Debug)]
pub struct EngineLink {
    commands: mpsc::Sender<Command>,
    /// This node's name in presence events (its own are not delivered twice).
    node: Arc<str>,
    ready: AtomicBool,
}

impl EngineLink {
    /// A link that queues at most `capacity` commands; the driver reads `receiver`.
    pub fn new(node: Arc<str>, capacity: usize) -> (EngineLink, mpsc::Receiver<Command>) {
        let (commands, receiver) = mpsc::channel(capacity.max(1));
        (EngineLink { commands, node, ready: AtomicBool::new(false) }, receiver)
    }

    /// This node's name.
    pub fn node(&self) -> &Arc<str> {
        &self.node
    }

    /// Whether the engine is reachable (`/healthz`).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// The driver says whether the engine is reachable.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }
}

/// What became of a message the engine delivered ([`Hub::engine_message`]). A message not
/// taken is handed back, so that the driver can keep it or offer it again without a copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Fanned out and stored.
    Delivered,
    /// This node had it already (a resynchronisation overlaps live delivery).
    Stale,
    /// Messages after seq `after` are missing before it: fetch them first.
    Gap {
        /// The latest seq this node has.
        after: u64,
        /// The message, not taken.
        message: Message,
    },
    /// This node does not hold the room (no member here).
    NotHeld(Message),
}

/// The answer to a [`Command::Join`].
#[derive(Debug)]
pub struct JoinAnswer {
    /// The room's numbering.
    pub epoch: String,
    /// Its latest seq.
    pub seq: u64,
    /// Members on every node.
    pub members: Vec<Member>,
    /// Its stored messages, the oldest first.
    pub history: Vec<Message>,
}

/// What a session's command waiting for the engine counts against its queue's high-water mark
/// ([`SendQueue::reserve`](super::SendQueue)): with the default 1 MiB mark, a connection has
/// up to 256 commands in flight before its input is paused until answers come. The pause only:
/// a connection waiting for answers is not a slow consumer (docs/DECISIONS.md).
pub(super) const IN_FLIGHT_COST: u32 = 4096;

/// Why a command is refused at once (4023, HTTP 503).
pub(super) const QUEUE_FULL: &str =
    "the server has more work for its shared store than it queues; retry";

/// Why a room's members are disconnected when its mirror cannot be made whole.
pub(super) const LOST_ROOM: &str =
    "this room's messages could not all be delivered from the shared store; reconnect to recover";
