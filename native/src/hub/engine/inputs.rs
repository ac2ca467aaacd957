//! What a shared engine's driver tells the hub: answers to its commands, and every message and
//! presence event of the rooms this node holds.

use std::sync::{Arc, atomic::Ordering};

use enchufe_core::{
    Ack, ErrorCode, History as HistoryFrame, Member, Message, Presence, RoomName, ServerFrame,
};

use super::{Applied, IN_FLIGHT_COST, JoinAnswer, JoinCommand, LOST_ROOM, Reply, Unavailable};
use crate::{
    hub::{
        Hub, Now, Outgoing, Page, Published,
        hub::SessionEntry,
        room::{Joiner, Overflowed, Room, RoomRules},
    },
    metrics::Metrics,
    sync::{lock, read, write},
};

impl Hub {
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
            return Applied::NotHeld(message);
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
        self.answer(reply, result, |published, id| match (published.reused, id) {
            (true, id) => {
                Some(Outgoing::error(ErrorCode::InvalidField, crate::hub::session::REUSED_ID, id))
            }
            (false, Some(id)) => {
                let room = room.clone();
                Some(Outgoing::new(ServerFrame::Ack(Ack { id, room, seq: published.seq })))
            }
            // A publish without an id is not acknowledged.
            (false, None) => None,
        });
    }

    /// The engine's answer to a history read.
    pub fn engine_history(
        &self,
        room: RoomName,
        reply: Reply<Page>,
        result: Result<Page, Unavailable>,
    ) {
        self.answer(reply, result, |page, id| {
            let messages = page.messages;
            Some(Outgoing::new(ServerFrame::History(HistoryFrame { room, messages, id })))
        });
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

    /// Hands a command's result to whoever waits: an HTTP request as it is; a session the frame
    /// `frame` makes of it (none: nothing to say), or 4023 for a refusal.
    fn answer<T>(
        &self,
        reply: Reply<T>,
        result: Result<T, Unavailable>,
        frame: impl FnOnce(T, Option<u64>) -> Option<Arc<Outgoing>>,
    ) {
        match reply {
            Reply::Http(sender) => {
                let _ = sender.send(result);
            }
            Reply::Session { session, id } => {
                self.settled(&session);
                let frame = match result {
                    Ok(value) => frame(value, id),
                    Err(why) => Some(Outgoing::error(ErrorCode::Unavailable, why.0, id)),
                };
                if let Some(frame) = frame {
                    self.reply_to(&session, &frame);
                }
            }
        }
    }

    /// A session's command was answered: its in-flight charge goes. Returns the session, if it
    /// is still connected.
    fn settled(&self, session: &str) -> Option<Arc<SessionEntry>> {
        let shared = lock(&self.0.sessions).get(session).cloned()?;
        shared.queue.release(IN_FLIGHT_COST);
        Some(shared)
    }

    /// Queues `frame` for `session`, if it is still connected.
    fn reply_to(&self, session: &str, frame: &Arc<Outgoing>) {
        let Some(shared) = lock(&self.0.sessions).get(session).cloned() else { return };
        if let crate::hub::Push::Overflow { dropped } = shared.queue.push(frame) {
            self.evict_slow(vec![(shared.id.clone(), dropped)]);
        }
    }
}
