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

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use enchufe_core::{
    Ack, ErrorCode, History as HistoryFrame, Join, Member, Message, Presence, RoomName, ServerFrame,
};
use tokio::sync::{mpsc, oneshot};

use super::{
    Hub, Now, Outgoing, Page, Published, RoomInfo,
    history::DedupeKey,
    room::{Joiner, Overflowed, Room, RoomRules, Sees},
};
use crate::{
    metrics::Metrics,
    sync::{lock, read, write},
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

/// What became of a message the engine delivered ([`Hub::engine_message`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Fanned out and stored.
    Delivered,
    /// This node had it already (a resynchronisation overlaps live delivery).
    Stale,
    /// Messages after this seq are missing before it: fetch them first.
    Gap(u64),
    /// This node does not hold the room (no member here).
    NotHeld,
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

impl Hub {
    /// The shared engine, if this hub has one.
    pub fn engine(&self) -> Option<&EngineLink> {
        self.0.engine.as_ref()
    }

    /// Hands `command` to the engine; refused when the engine's queue is full.
    pub(super) fn command(&self, command: Command) -> Result<(), Unavailable> {
        let queued = self.0.engine.as_ref().is_some_and(|e| e.commands.try_send(command).is_ok());
        if queued { Ok(()) } else { Err(Unavailable(QUEUE_FULL.into())) }
    }

    /// Tells a member's departure to the engine (its node's presence entry goes). Best effort:
    /// if the queue is full the entry expires with its presence TTL, since no node refreshes it.
    pub(super) fn engine_leave(&self, room: &RoomName, session: &Arc<str>) {
        if self.0.engine.is_some() {
            let (room, session) = (room.clone(), session.clone());
            let _ = self.command(Command::Leave { room, session, id: None });
        }
    }

    /// The engine's answer to a join: creates this node's mirror of the room from the answer if
    /// it holds none, then joins the session as the memory engine does, listing the members of
    /// every node. Returns false when the session is gone or did not join (the engine then
    /// removes the presence entry it added).
    pub fn engine_joined(&self, command: JoinCommand, answer: JoinAnswer, now: Now) -> bool {
        let Some(shared) = self.settled(&command.session) else {
            return false;
        };
        if shared.tokens.load(Ordering::Relaxed) != command.token {
            let message = "the connection's token was replaced while this join was under way: \
                           join again";
            let refused = Outgoing::error(ErrorCode::Forbidden, message, command.join.id);
            self.reply_to(&shared.id, &refused);
            return false;
        }
        let room = self.mirror(&command.join.room, command.rules, &answer, now);
        let mut overflowed = Overflowed::new();
        let joiner = Joiner {
            member: &command.member,
            queue: &shared.queue,
            sees: command.sees,
            listed: Some(&answer.members),
        };
        let joined = room.join(joiner, &command.join, &self.0.config, now, &mut overflowed);
        self.evict_slow(overflowed);
        match joined {
            Ok(true) => {
                let mut rooms = lock(&shared.rooms);
                if !rooms.iter().any(|r| Arc::ptr_eq(r, &room)) {
                    rooms.push(room);
                }
                true
            }
            Ok(false) => true,
            Err(_) => false,
        }
    }

    /// This node's mirror of `name`: the one it holds, or a new one from the engine's answer.
    /// A mirror of another numbering (the store forgot the room and numbered it again) is
    /// replaced: its members are told to reconnect ([`Hub::engine_lost_room`]).
    fn mirror(
        &self,
        name: &RoomName,
        rules: RoomRules,
        answer: &JoinAnswer,
        now: Now,
    ) -> Arc<Room> {
        if let Some(room) = read(&self.0.rooms).get(name) {
            if room.epoch() == answer.epoch.as_str() {
                return room.clone();
            }
        }
        self.engine_lost_room(name);
        let room =
            Arc::new(Room::new(name.clone(), answer.epoch.clone(), self.0.history.clone(), rules));
        room.load(answer.seq, &answer.history, now);
        {
            let mut map = write(&self.0.rooms);
            map.insert(name.clone(), room.clone());
            let rooms = i64::try_from(map.len()).unwrap_or(i64::MAX);
            self.0.metrics.rooms.store(rooms, Ordering::Relaxed);
        }
        // Outside the rooms map's lock: the budget may evict from any room.
        for message in answer.history.iter().filter(|m| room.holds(m.seq)) {
            self.0.history.stored(&room, message.seq);
        }
        Metrics::set(&self.0.metrics.history_bytes, self.0.history.bytes());
        room
    }

    /// A message the engine delivered to this node: fanned out to the room's members here if
    /// it is the next in seq order.
    pub fn engine_message(&self, message: Message, now: Now) -> Applied {
        let Some(room) = read(&self.0.rooms).get(&message.room).cloned() else {
            return Applied::NotHeld;
        };
        let mut overflowed = Overflowed::new();
        let seq = message.seq;
        let applied = room.apply(message, now, &mut overflowed);
        if applied == Applied::Delivered && room.holds(seq) {
            self.0.history.stored(&room, seq);
            Metrics::set(&self.0.metrics.history_bytes, self.0.history.bytes());
        }
        self.evict_slow(overflowed);
        applied
    }

    /// A presence event of another node: told to this node's members of the room.
    pub fn engine_presence(&self, presence: Presence) {
        let Some(room) = read(&self.0.rooms).get(&presence.room).cloned() else { return };
        let mut overflowed = Overflowed::new();
        room.tell(&Outgoing::new(ServerFrame::Presence(presence)), &self.0.config, &mut overflowed);
        self.evict_slow(overflowed);
    }

    /// The rooms this node holds, with the latest seq and epoch of each (to resynchronise after
    /// the engine's connection came back).
    pub fn held_rooms(&self) -> Vec<(RoomName, String, u64)> {
        read(&self.0.rooms)
            .values()
            .map(|r| (r.name().clone(), r.epoch().to_owned(), r.seq()))
            .collect()
    }

    /// The members this node has in each room it holds (their presence entries are refreshed).
    pub fn local_members(&self) -> Vec<(RoomName, Vec<Member>)> {
        let rooms: Vec<Arc<Room>> = read(&self.0.rooms).values().cloned().collect();
        rooms.iter().map(|r| (r.name().clone(), r.members())).collect()
    }

    /// Forgets the rooms this node holds that have no member here and that `keep` does not
    /// name (a join is under way), and returns their names: the engine stops listening to them.
    pub fn release_rooms(&self, keep: impl Fn(&RoomName) -> bool) -> Vec<RoomName> {
        let mut map = write(&self.0.rooms);
        let released: Vec<RoomName> = map
            .iter()
            .filter(|(name, room)| !keep(name) && room.release())
            .map(|(name, _)| name.clone())
            .collect();
        for name in &released {
            map.remove(name);
        }
        self.0.metrics.rooms.store(i64::try_from(map.len()).unwrap_or(i64::MAX), Ordering::Relaxed);
        released
    }

    /// This node's mirror of `name` cannot be made whole (the store lost messages it had not
    /// delivered, or numbered the room again): the room is forgotten here and its members are
    /// disconnected with 4015, so their clients reconnect and recover with `since` (told
    /// `recovered: false` where messages are gone).
    pub fn engine_lost_room(&self, name: &RoomName) {
        let Some(room) = write(&self.0.rooms).remove(name) else { return };
        for member in room.members() {
            let Some(shared) = lock(&self.0.sessions).get(member.session.as_str()).cloned() else {
                continue;
            };
            shared.queue.close(ErrorCode::ShuttingDown, LOST_ROOM);
            self.leave_all(&shared);
        }
        room.forget();
    }

    /// The engine's answer to a session's publish: `ack` (with an id), or the refusal.
    pub fn engine_published(
        &self,
        room: &RoomName,
        reply: Reply<Published>,
        result: Result<Published, Unavailable>,
    ) {
        if let Ok(published) = &result {
            let metrics = &self.0.metrics;
            let counter = if published.duplicate { &metrics.duplicates } else { &metrics.messages };
            Metrics::add(counter, 1);
        }
        match reply {
            Reply::Http(sender) => {
                let _ = sender.send(result);
            }
            Reply::Session { session, id } => {
                self.settled(&session);
                let frame = match result {
                    Ok(published) if published.reused => {
                        Outgoing::error(ErrorCode::InvalidField, super::session::REUSED_ID, id)
                    }
                    Ok(published) => {
                        let Some(id) = id else { return };
                        Outgoing::new(ServerFrame::Ack(Ack {
                            id,
                            room: room.clone(),
                            seq: published.seq,
                        }))
                    }
                    Err(why) => Outgoing::error(ErrorCode::Unavailable, why.0, id),
                };
                self.reply_to(&session, &frame);
            }
        }
    }

    /// The engine's answer to a history read.
    pub fn engine_history(
        &self,
        room: RoomName,
        reply: Reply<Page>,
        result: Result<Page, Unavailable>,
    ) {
        match reply {
            Reply::Http(sender) => {
                let _ = sender.send(result);
            }
            Reply::Session { session, id } => {
                self.settled(&session);
                let frame = match result {
                    Ok(page) => Outgoing::new(ServerFrame::History(HistoryFrame {
                        room,
                        messages: page.messages,
                        id,
                    })),
                    Err(why) => Outgoing::error(ErrorCode::Unavailable, why.0, id),
                };
                self.reply_to(&session, &frame);
            }
        }
    }

    /// The read of `room`'s stored messages after `since` (in `epoch`) that a shared engine
    /// does, answered to `reply`: `limit` capped by the config, the room's age limit applied.
    pub(crate) fn history_command(
        &self,
        room: &RoomName,
        since: Option<u64>,
        epoch: Option<String>,
        limit: Option<usize>,
        now: Now,
        reply: Reply<Page>,
    ) -> HistoryCommand {
        let config = &self.0.config;
        let age_ms = self.rules(room).history_age_secs.saturating_mul(1000);
        HistoryCommand {
            room: room.clone(),
            since,
            epoch,
            limit: limit.unwrap_or(config.max_history).min(config.max_history),
            max_bytes: config.page_bytes(),
            oldest_ms: now.unix_ms.saturating_sub(age_ms),
            reply,
        }
    }

    /// A REST publish through the shared engine: its answer comes on the returned receiver.
    pub fn engine_publish(
        &self,
        message: Message,
        key: Option<DedupeKey>,
    ) -> Result<Answer<Published>, Unavailable> {
        let (sender, receiver) = oneshot::channel();
        let rules = self.rules(&message.room);
        let reply = Reply::Http(sender);
        self.command(Command::Publish(PublishCommand { message, key, rules, reply }))?;
        Ok(receiver)
    }

    /// A REST page of history through the shared engine: its answer comes on the receiver.
    pub fn engine_page(
        &self,
        room: &RoomName,
        since: Option<u64>,
        epoch: Option<&str>,
        limit: Option<usize>,
        now: Now,
    ) -> Result<Answer<Page>, Unavailable> {
        let (sender, receiver) = oneshot::channel();
        let epoch = epoch.map(str::to_owned);
        let command = self.history_command(room, since, epoch, limit, now, Reply::Http(sender));
        self.command(Command::History(command))?;
        Ok(receiver)
    }

    /// A REST page of the room list through the shared engine.
    pub fn engine_rooms(
        &self,
        after: Option<RoomName>,
        limit: usize,
    ) -> Result<Answer<RoomsPage>, Unavailable> {
        let (reply, receiver) = oneshot::channel();
        self.command(Command::Rooms { after, limit, reply })?;
        Ok(receiver)
    }

    /// A client's `leave`, done by the engine (after any join under way): the session leaves
    /// the room here and is answered `left`, or 4007 if it was not in it.
    pub fn engine_left(&self, room: &RoomName, session: &str, id: Option<u64>) {
        let Some(shared) = self.settled(session) else { return };
        let held = {
            let mut rooms = lock(&shared.rooms);
            let index = rooms.iter().position(|r| r.name() == room);
            index.map(|i| rooms.swap_remove(i))
        };
        let frame = match held {
            Some(held) => {
                let mut overflowed = Overflowed::new();
                held.leave(&shared.id, self.0.config.presence_limit, &mut overflowed);
                self.evict_slow(overflowed);
                Outgoing::new(ServerFrame::Left(enchufe_core::Left { room: room.clone(), id }))
            }
            None => Outgoing::error(ErrorCode::NotJoined, format!("not joined to room {room}"), id),
        };
        self.reply_to(session, &frame);
    }

    /// The engine could not do a join: the session is told 4023.
    pub fn engine_join_failed(&self, command: &JoinCommand, why: &Unavailable) {
        self.settled(&command.session);
        let frame = Outgoing::error(ErrorCode::Unavailable, why.0.clone(), command.join.id);
        self.reply_to(&command.session, &frame);
    }

    /// A session's command was answered: its in-flight charge goes. Returns the session, if it
    /// is still connected.
    fn settled(&self, session: &str) -> Option<Arc<super::hub::SessionEntry>> {
        let shared = lock(&self.0.sessions).get(session).cloned()?;
        shared.queue.release(IN_FLIGHT_COST);
        Some(shared)
    }

    /// Queues `frame` for `session`, if it is still connected.
    fn reply_to(&self, session: &str, frame: &Arc<Outgoing>) {
        let Some(shared) = lock(&self.0.sessions).get(session).cloned() else { return };
        if let super::Push::Overflow { dropped } = shared.queue.push(frame) {
            self.evict_slow(vec![(shared.id.clone(), dropped)]);
        }
    }
}

/// What a session's command waiting for the engine counts against its queue's high-water mark
/// ([`SendQueue::reserve`](super::SendQueue)): with the default 1 MiB mark, a connection has
/// up to 256 commands in flight before its input is paused until answers come.
pub(super) const IN_FLIGHT_COST: usize = 4096;

/// Why a command is refused at once (4023, HTTP 503).
pub(super) const QUEUE_FULL: &str =
    "the server has more work for its shared store than it queues; retry";

/// Why a room's members are disconnected when its mirror cannot be made whole.
const LOST_ROOM: &str =
    "this room's messages could not all be delivered from the shared store; reconnect to recover";
