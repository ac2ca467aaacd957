//! What the hub hands a shared engine: commands, on a bounded queue.

use std::sync::Arc;

use enchufe_core::{Message, RoomName};
use tokio::sync::oneshot;

use super::{
    Answer, Command, EngineLink, HistoryCommand, PublishCommand, QUEUE_FULL, Reply, RoomsPage,
    Unavailable,
};
use crate::hub::{Hub, Now, Page, Published, history::DedupeKey};

impl Hub {
    /// The shared engine, if this hub has one.
    pub fn engine(&self) -> Option<&EngineLink> {
        self.0.engine.as_ref()
    }

    /// Hands `command` to the engine; refused when the engine's queue is full.
    pub(in crate::hub) fn command(&self, command: Command) -> Result<(), Unavailable> {
        let queued = self.0.engine.as_ref().is_some_and(|e| e.commands.try_send(command).is_ok());
        if queued { Ok(()) } else { Err(Unavailable(QUEUE_FULL.into())) }
    }

    /// Tells a member's departure to the engine (its node's presence entry goes). Best effort:
    /// if the queue is full the entry expires with its presence TTL, since no node refreshes it.
    pub(in crate::hub) fn engine_leave(&self, room: &RoomName, session: &Arc<str>) {
        if self.0.engine.is_some() {
            let (room, session) = (room.clone(), session.clone());
            let _ = self.command(Command::Leave { room, session, id: None });
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
}
