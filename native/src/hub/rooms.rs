//! The hub's rooms: the map from names to rooms, creating them under the room limit, and what
//! is done to rooms from outside a session (REST publish and reads, the room list).

use std::sync::{Arc, atomic::Ordering};

use enchufe_core::{Body, Message, RoomName};

use super::{
    Hub, Now, Page, Published,
    history::DedupeKey,
    room::{Gone, Overflowed, Room, RoomRules},
};
use crate::{
    metrics::Metrics,
    sync::{read, write},
};

impl Hub {
    /// The rules a room called `name` gets: its namespace's (auth policy), else the server's.
    pub(super) fn rules(&self, name: &RoomName) -> RoomRules {
        let config = &self.0.config;
        let ns = self.0.auth.policy().namespace(name);
        let history = ns.is_none_or(|ns| ns.history);
        RoomRules {
            history_len: if history {
                ns.and_then(|ns| ns.history_len).unwrap_or(config.history_len)
            } else {
                0
            },
            history_age_secs: ns
                .and_then(|ns| ns.history_age_secs)
                .unwrap_or(config.history_age_secs),
            presence: ns.is_none_or(|ns| ns.presence),
        }
    }

    /// Publishes into `room` on behalf of `from` (REST), at `now`: stores the message, fans it
    /// out, and returns its seq. With a `dedupe` key seen before, returns the original seq and
    /// delivers nothing.
    pub fn publish(
        &self,
        room: &RoomName,
        from: &str,
        body: Body,
        dedupe: Option<DedupeKey>,
        now: Now,
    ) -> Result<Published, RoomsFull> {
        let mut published = self.publish_run(room, from, vec![(body, dedupe)], now)?;
        Ok(published.remove(0))
    }

    /// Publishes a run of one sender's messages to `room`, in order, as [`Hub::publish`] does
    /// each, with one lock of each subscriber's queue for the whole run
    /// ([`Room::publish_run`]). One [`Published`] per message, in the run's order.
    pub fn publish_run(
        &self,
        room: &RoomName,
        from: &str,
        mut run: Vec<(Body, Option<DedupeKey>)>,
        now: Now,
    ) -> Result<Vec<Published>, RoomsFull> {
        let mut overflowed = Overflowed::new();
        let (room, published) = loop {
            let room = self.room(room)?;
            if let Some(published) = room.publish_run(from, &mut run, now, &mut overflowed) {
                break (room, published);
            }
        };
        for p in &published {
            let counter =
                if p.duplicate { &self.0.metrics.duplicates } else { &self.0.metrics.messages };
            Metrics::add(counter, 1);
            if !p.duplicate {
                // Outside the room's lock: the budget may evict from any room.
                self.0.history.stored(&room, p.seq);
            }
        }
        Metrics::set(&self.0.metrics.history_bytes, self.0.history.bytes());
        self.evict_slow(overflowed);
        Ok(published)
    }

    /// Whether the hub holds a room called `name` (publishing to or joining one that it does
    /// not creates it).
    pub fn has_room(&self, name: &RoomName) -> bool {
        read(&self.0.rooms).contains_key(name)
    }

    /// Up to `limit` (capped by the config) stored messages of `room` with seq > `since`; empty
    /// for a room that does not exist.
    pub fn history(
        &self,
        room: &RoomName,
        since: Option<u64>,
        limit: Option<usize>,
        now: Now,
    ) -> Vec<Message> {
        let limit = limit.unwrap_or(self.0.config.max_history).min(self.0.config.max_history);
        let room = read(&self.0.rooms).get(room).cloned();
        room.map(|r| r.messages(since, limit, &self.0.config, now)).unwrap_or_default()
    }

    /// Like [`Hub::history`] for a reader that saw `since` in `epoch` (REST): with the room's
    /// epoch, and from the room's start (`reset`) when `since` counts in another numbering — as a
    /// `join` with a stale epoch. A room that does not exist has no epoch and no messages; any
    /// `since` above 0 or `epoch` was then of another numbering.
    pub fn page(
        &self,
        room: &RoomName,
        since: Option<u64>,
        epoch: Option<&str>,
        limit: Option<usize>,
        now: Now,
    ) -> Page {
        let limit = limit.unwrap_or(self.0.config.max_history).min(self.0.config.max_history);
        match read(&self.0.rooms).get(room).cloned() {
            Some(room) => room.page(since, epoch, limit, &self.0.config, now),
            None => Page {
                epoch: None,
                reset: epoch.is_some() || since.is_some_and(|s| s > 0),
                messages: Vec::new(),
            },
        }
    }

    /// Up to `limit` rooms named after `after` (from the first without it), sorted by name, and
    /// whether more follow: a page of the room list, found without sorting every room.
    pub fn rooms_page(&self, after: Option<&RoomName>, limit: usize) -> (Vec<RoomInfo>, bool) {
        let mut page: std::collections::BinaryHeap<RoomName> = std::collections::BinaryHeap::new();
        let mut more = false;
        for name in read(&self.0.rooms).keys() {
            if after.is_some_and(|after| name <= after) {
                continue;
            }
            if page.len() < limit {
                page.push(name.clone());
            } else if page.peek().is_some_and(|largest| name < largest) {
                page.pop();
                page.push(name.clone());
                more = true;
            } else {
                more = true;
            }
        }
        let names = page.into_sorted_vec();
        let rooms: Vec<Arc<Room>> = {
            let map = read(&self.0.rooms);
            names.iter().filter_map(|name| map.get(name).cloned()).collect()
        };
        (rooms.iter().map(|r| r.info()).collect(), more)
    }

    /// Every room with its seq, epoch and member count, sorted by name.
    pub fn rooms(&self) -> Vec<RoomInfo> {
        let rooms: Vec<Arc<Room>> = read(&self.0.rooms).values().cloned().collect();
        let mut infos: Vec<RoomInfo> = rooms.iter().map(|r| r.info()).collect();
        infos.sort_by(|a, b| a.room.cmp(&b.room));
        infos
    }

    /// The room called `name`, created on first use unless the hub holds `room_limit` rooms.
    pub(crate) fn room(&self, name: &RoomName) -> Result<Arc<Room>, RoomsFull> {
        if let Some(room) = read(&self.0.rooms).get(name) {
            return Ok(room.clone());
        }
        let mut map = write(&self.0.rooms);
        let limit = self.0.config.room_limit;
        if map.len() >= limit && !map.contains_key(name) {
            Metrics::add(&self.0.metrics.rooms_refused, 1);
            return Err(RoomsFull(limit));
        }
        let room = map.entry(name.clone()).or_insert_with(|| {
            Arc::new(Room::new(
                name.clone(),
                self.next_epoch(),
                self.0.history.clone(),
                self.rules(name),
            ))
        });
        let room = room.clone();
        self.0.metrics.rooms.store(i64::try_from(map.len()).unwrap_or(i64::MAX), Ordering::Relaxed);
        Ok(room)
    }

    /// Joins `room`, retrying if the hub forgot the room concurrently.
    pub(crate) fn join_room(
        &self,
        name: &RoomName,
        join: impl Fn(&Arc<Room>, &mut Overflowed) -> Result<bool, Gone>,
    ) -> Result<(Arc<Room>, bool), Gone> {
        let mut overflowed = Overflowed::new();
        let result = loop {
            let Ok(room) = self.room(name) else { break Err(Gone::Full) };
            match join(&room, &mut overflowed) {
                Ok(is_new) => break Ok((room, is_new)),
                Err(Gone::Removed) => continue,
                Err(gone) => break Err(gone),
            }
        };
        self.evict_slow(overflowed);
        result
    }
}

/// One room in [`Hub::rooms`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RoomInfo {
    /// The room's name.
    pub room: RoomName,
    /// Its current (last assigned) seq.
    pub seq: u64,
    /// The numbering `seq` counts in (`joined.epoch`).
    pub epoch: String,
    /// How many sessions are joined to it.
    pub members: usize,
}

/// The hub holds as many rooms as it may (`room_limit`): no new one can be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomsFull(pub usize);

impl RoomsFull {
    /// The refusal's message (4020 `room_limit`).
    pub fn message(self) -> String {
        format!("the server holds as many rooms as it allows ({}); this one does not exist", self.0)
    }
}
