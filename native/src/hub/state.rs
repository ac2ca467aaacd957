//! [`Hub`]: the rooms, the session registry, and what is done to them from outside a session
//! (REST publish and reads, admin kick, shutdown, sweeping idle rooms).

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use std::time::Duration;

use enchufe_core::{Body, ErrorCode, Message, RoomName};

use super::{
    End, HubConfig, Now, Outbox, Page, Published, Session, Transport,
    history::DedupeKey,
    history_budget::HistoryBudget,
    room::{Gone, Overflowed, Room},
};
use crate::{
    metrics::Metrics,
    sync::{lock, read, write},
};

/// The in-process message hub: rooms, their members and history. Cheap to clone (one `Arc`).
///
/// Transports call [`Hub::open`] for each connection and drive the returned [`Session`]; the
/// other methods serve HTTP (REST, admin) and the server's lifecycle.
#[derive(Clone, Debug)]
pub struct Hub(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    config: HubConfig,
    metrics: Arc<Metrics>,
    rooms: RwLock<HashMap<RoomName, Arc<Room>>>,
    /// Every room's history counts against it.
    history: Arc<HistoryBudget>,
    /// Every connection's outbound queue bounds (from the config), shared.
    send_limits: Arc<super::SendLimits>,
    sessions: Mutex<HashMap<Arc<str>, Arc<SessionShared>>>,
    next_session: AtomicU64,
    /// Rooms created so far, for their epochs.
    next_room: AtomicU64,
    /// The per-process key of session ids and room epochs: random, so neither repeats across
    /// restarts nor can be guessed from another.
    ids: RandomState,
    shutting_down: AtomicBool,
}

/// The part of a session other tasks reach: its queue and the rooms it is in.
#[derive(Debug)]
pub(crate) struct SessionShared {
    pub(crate) id: Arc<str>,
    pub(crate) outbox: Outbox,
    pub(crate) rooms: Mutex<Vec<Arc<Room>>>,
    /// When the client was last heard from, in [`Now::ms`] ([`NEVER_SILENT`] for a
    /// session whose client never speaks: SSE). [`Hub::close_silent`] reads it.
    pub(crate) heard: AtomicU64,
    /// When the frame the client is sending must be complete, in [`Now::ms`]
    /// (`0`: none is under way): the first frame from the connection's start, then any frame
    /// from its first byte. [`Hub::close_silent`] reads it.
    pub(crate) deadline: AtomicU64,
}

/// `SessionShared::heard` of a session that is never closed for silence.
const NEVER_SILENT: u64 = u64::MAX;

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

impl Hub {
    /// An empty hub.
    pub fn new(config: HubConfig, metrics: Arc<Metrics>) -> Self {
        Hub(Arc::new(Inner {
            history: Arc::new(HistoryBudget::new(config.history_bytes)),
            send_limits: Arc::new(config.send_limits()),
            config,
            metrics,
            rooms: RwLock::default(),
            sessions: Mutex::default(),
            next_session: AtomicU64::new(1),
            next_room: AtomicU64::new(1),
            ids: RandomState::new(),
            shutting_down: AtomicBool::new(false),
        }))
    }

    /// The limits this hub enforces.
    pub fn config(&self) -> &HubConfig {
        &self.0.config
    }

    /// The metrics this hub counts into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.0.metrics
    }

    /// Opens a session for a new connection on `transport`, at `now`. Dropping the [`Session`]
    /// ends it (it leaves its rooms; its queue is flushed by the writer and then ends).
    pub fn open(&self, transport: Transport, now: Now) -> Session {
        let n = self.0.next_session.fetch_add(1, Ordering::Relaxed);
        // The counter makes the id unique; the hashed suffix makes it hard to guess.
        let salt = self.0.ids.hash_one(n) & 0xffff_ffff;
        let id: Arc<str> = format!("s-{n:x}{salt:08x}").into();
        let config = &self.0.config;
        let outbox = Outbox::new(self.0.send_limits.clone());
        let heard = match transport {
            Transport::Sse => NEVER_SILENT,
            _ => now.ms,
        };
        let shared = Arc::new(SessionShared {
            id: id.clone(),
            outbox,
            rooms: Mutex::default(),
            heard: AtomicU64::new(heard),
            deadline: AtomicU64::new(now.after(config.frame_timeout_ms.max(1))),
        });
        lock(&self.0.sessions).insert(id, shared.clone());
        self.0.metrics.connection_opened(transport);
        if self.0.shutting_down.load(Ordering::SeqCst) {
            shared.outbox.close(End::Error(ErrorCode::ShuttingDown), SHUTTING_DOWN, true);
        }
        Session::new(self.clone(), shared, transport, now)
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
        let mut overflowed = Overflowed::new();
        let mut body = body;
        let published = loop {
            let room = self.room(room)?;
            match room.publish(from, body, dedupe.clone(), &self.0.config, now, &mut overflowed) {
                Ok(published) => {
                    if !published.duplicate {
                        // Outside the room's lock: the budget may evict from any room.
                        self.0.history.stored(&room, published.seq);
                        Metrics::set(&self.0.metrics.history_bytes, self.0.history.bytes());
                    }
                    break published;
                }
                Err(back) => body = back,
            }
        };
        let counter =
            if published.duplicate { &self.0.metrics.duplicates } else { &self.0.metrics.messages };
        Metrics::add(counter, 1);
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

    /// Disconnects a session with `error` 4014 `kicked`. Returns false if there is no such session.
    pub fn kick(&self, session: &str) -> bool {
        let Some(shared) = lock(&self.0.sessions).get(session).cloned() else { return false };
        if shared.outbox.close(
            End::Error(ErrorCode::Kicked),
            "disconnected by an administrator",
            false,
        ) {
            Metrics::add(&self.0.metrics.kicks, 1);
        }
        self.leave_all(&shared);
        true
    }

    /// How often the driver must call [`Hub::handle_timeout`]: a quarter of the shortest of the
    /// idle, frame and stall timeouts (10 ms to 5 s), so that each rule acts at most that much
    /// after its deadline. One timer for the hub instead of one in every connection.
    pub fn timeout_period(&self) -> Duration {
        let config = &self.0.config;
        let stall = Duration::from_millis(config.slow_after_ms.max(1));
        (config.idle_timeout().min(config.frame_timeout()).min(stall) / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(5))
    }

    /// The hub's timer, at `now` (every [`Hub::timeout_period`]): applies every rule that
    /// depends on time passing rather than on input.
    /// - A session whose client has sent nothing for the idle timeout, or left a frame
    ///   unfinished (or sent none since it connected) past the frame timeout, is closed with
    ///   `error` 4013 `idle_timeout` — as the transports report input ([`Session::heard`],
    ///   [`Session::unfinished`]).
    /// - A queue that stays over its high-water mark with its writer taking nothing for the
    ///   stall deadline is cut with 4011 `slow_consumer` ([`Outbox`]).
    ///
    /// Returns how many sessions it closed.
    pub fn handle_timeout(&self, now: Now) -> usize {
        let idle = self.0.config.idle_timeout();
        let limit = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        let now = now.ms;
        let mut stalled = Overflowed::new();
        let late: Vec<(Arc<SessionShared>, bool)> = lock(&self.0.sessions)
            .values()
            .filter_map(|s| {
                if let Some(dropped) = s.outbox.cut_if_stalled(now) {
                    stalled.push((s.id.clone(), dropped));
                    return None;
                }
                // A connection whose input is not read (its queue is over the high-water mark)
                // is judged by the slow-consumer rule, not by silence.
                if s.outbox.is_closed() || s.outbox.is_paused() {
                    return None;
                }
                let deadline = s.deadline.load(Ordering::Relaxed);
                if deadline != 0 && now >= deadline {
                    return Some((s.clone(), true));
                }
                let heard = s.heard.load(Ordering::Relaxed);
                (heard != NEVER_SILENT && now.saturating_sub(heard) >= limit)
                    .then(|| (s.clone(), false))
            })
            .collect();
        let silent = format!("nothing received for {idle:?}");
        let unfinished = format!(
            "a frame was left unfinished, or none came after connecting, for {:?}",
            self.0.config.frame_timeout()
        );
        for (shared, frame) in &late {
            let message = if *frame { &unfinished } else { &silent };
            if shared.outbox.close(End::Error(ErrorCode::IdleTimeout), message, false) {
                Metrics::add(&self.0.metrics.errors, 1);
                if *frame {
                    Metrics::add(&self.0.metrics.unfinished_frames, 1);
                }
            }
            self.leave_all(shared);
        }
        let closed = late.len() + stalled.len();
        self.evict_slow(stalled);
        closed
    }

    /// Tells every session the server is going away (`error` 4015 `shutting_down` after what is
    /// already queued); sessions opened from now on get it at once.
    pub fn shut_down(&self) {
        self.0.shutting_down.store(true, Ordering::SeqCst);
        let sessions: Vec<Arc<SessionShared>> = lock(&self.0.sessions).values().cloned().collect();
        for shared in sessions {
            shared.outbox.close(End::Error(ErrorCode::ShuttingDown), SHUTTING_DOWN, false);
        }
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        lock(&self.0.sessions).len()
    }

    /// How often the driver should call [`Hub::sweep`]: a quarter of the history's age limit
    /// (1 s to 60 s).
    pub fn sweep_period(&self) -> Duration {
        (self.0.config.history_age() / 4).clamp(Duration::from_secs(1), Duration::from_secs(60))
    }

    /// Expires old history and forgets rooms with no members and no history, at `now`. The
    /// driver calls this every [`Hub::sweep_period`].
    pub fn sweep(&self, now: Now) {
        let rooms: Vec<Arc<Room>> = read(&self.0.rooms).values().cloned().collect();
        let idle: Vec<&Arc<Room>> = rooms.iter().filter(|r| r.sweep(&self.0.config, now)).collect();
        Metrics::set(&self.0.metrics.history_bytes, self.0.history.bytes());
        if idle.is_empty() {
            return;
        }
        let mut map = write(&self.0.rooms);
        for room in idle {
            if map.get(room.name()).is_some_and(|r| Arc::ptr_eq(r, room)) {
                map.remove(room.name());
            }
        }
        self.0.metrics.rooms.store(i64::try_from(map.len()).unwrap_or(i64::MAX), Ordering::Relaxed);
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
            // A new numbering of the room: 8 bytes of a keyed hash of the creation counter.
            let n = self.0.next_room.fetch_add(1, Ordering::Relaxed);
            let epoch = format!("{:016x}", self.0.ids.hash_one(("epoch", n)));
            Arc::new(Room::new(name.clone(), epoch, self.0.history.clone()))
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

    /// Removes a session from every room it is in, telling the other members.
    pub(crate) fn leave_all(&self, shared: &SessionShared) {
        let rooms = std::mem::take(&mut *lock(&shared.rooms));
        let mut overflowed = Overflowed::new();
        for room in rooms {
            room.leave(&shared.id, self.0.config.presence_limit, &mut overflowed);
        }
        self.evict_slow(overflowed);
    }

    /// Forgets a session (its connection ended).
    pub(crate) fn unregister(&self, shared: &SessionShared, transport: Transport) {
        lock(&self.0.sessions).remove(&shared.id);
        self.0.metrics.connection_closed(transport);
    }

    /// Disconnects sessions whose queue overflowed. Their leaving may overflow others in turn
    /// (presence), hence the work list instead of recursion.
    pub(crate) fn evict_slow(&self, mut overflowed: Overflowed) {
        while let Some((id, dropped)) = overflowed.pop() {
            // Counted whether or not the session is still registered: every cut is a cut.
            Metrics::add(&self.0.metrics.dropped, dropped);
            Metrics::add(&self.0.metrics.slow_consumers, 1);
            tracing::info!(session = %id, "slow consumer disconnected");
            let Some(shared) = lock(&self.0.sessions).get(&id).cloned() else { continue };
            let rooms = std::mem::take(&mut *lock(&shared.rooms));
            for room in rooms {
                room.leave(&shared.id, self.0.config.presence_limit, &mut overflowed);
            }
        }
    }

    /// Whether [`Hub::shut_down`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.0.shutting_down.load(Ordering::SeqCst)
    }
}

const SHUTTING_DOWN: &str = "the server is shutting down; reconnect later";

/// The hub holds as many rooms as it may (`room_limit`): no new one can be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomsFull(pub usize);

impl RoomsFull {
    /// The refusal's message (4020 `room_limit`).
    pub fn message(self) -> String {
        format!("the server holds as many rooms as it allows ({}); this one does not exist", self.0)
    }
}
