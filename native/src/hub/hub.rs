//! [`Hub`]: what it holds, its sessions (opening, the registry, kick, shutdown) and the leaving
//! of rooms that ends a session. Its rooms are in `rooms.rs`, its timers in `timer.rs`.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
    },
};

use enchufe_core::{ErrorCode, RoomName};

use super::{
    EngineLink, HubConfig, Now, SendQueue, Session, Transport,
    history_budget::HistoryBudget,
    room::{Overflowed, Room},
};
use crate::{auth::Auth, mac::Key, metrics::Metrics, sync::lock};

/// The in-process message hub: rooms, their members and history. Cheap to clone (one `Arc`).
///
/// Transports call [`Hub::open`] for each connection and drive the returned [`Session`]; the
/// other methods serve HTTP (REST, admin) and the server's lifecycle.
#[derive(Clone, Debug)]
pub struct Hub(pub(super) Arc<HubState>);

#[derive(Debug)]
pub(super) struct HubState {
    pub(super) config: HubConfig,
    pub(super) metrics: Arc<Metrics>,
    pub(super) rooms: RwLock<HashMap<RoomName, Arc<Room>>>,
    /// Every room's history counts against it.
    pub(super) history: Arc<HistoryBudget>,
    /// Every connection's outbound queue bounds (from the config), shared.
    pub(super) send_limits: Arc<super::SendLimits>,
    pub(super) sessions: Mutex<HashMap<Arc<str>, Arc<SessionEntry>>>,
    pub(super) next_session: AtomicU64,
    /// Rooms created so far, for their epochs.
    pub(super) next_room: AtomicU64,
    /// The key of session ids and room epochs, given to [`Hub::new`] (random in a server, so
    /// neither repeats across restarts nor can be guessed from another; fixed in a simulation).
    pub(super) ids: Key,
    pub(super) shutting_down: AtomicBool,
    /// Token verification and the access policy.
    pub(super) auth: Arc<Auth>,
    /// The shared engine that numbers and keeps messages for every node, if any (`engine.rs`);
    /// without one this hub is the memory engine.
    pub(super) engine: Option<EngineLink>,
}

/// The part of a session other tasks reach: its queue and the rooms it is in.
#[derive(Debug)]
pub(crate) struct SessionEntry {
    pub(crate) id: Arc<str>,
    pub(crate) queue: SendQueue,
    pub(crate) rooms: Mutex<Vec<Arc<Room>>>,
    /// When the client was last heard from, in [`Now::ms`] ([`NEVER_SILENT`] for a
    /// session whose client never speaks: SSE). [`Hub::handle_timeout`] reads it.
    pub(crate) heard: AtomicU64,
    /// When the frame the client is sending must be complete, in [`Now::ms`]
    /// (`0`: none is under way): the first frame from the connection's start, then any frame
    /// from its first byte. [`Hub::handle_timeout`] reads it.
    pub(crate) deadline: AtomicU64,
    /// When the connection's token expires, in [`Now::ms`] (`0`: no token, or no `exp`).
    pub(crate) expires: AtomicU64,
    /// Whether the client was told (4022) that its token expired.
    pub(crate) expiry_told: AtomicBool,
    /// How many times the session's token was replaced (`refresh`): a shared engine's join
    /// that was under way meanwhile was allowed by the old one, and is refused.
    pub(crate) tokens: AtomicU32,
}

/// `SessionEntry::heard` of a session that is never closed for silence.
pub(super) const NEVER_SILENT: u64 = u64::MAX;

impl Hub {
    /// An empty hub. `key` makes its session ids and room epochs: randomness is an input, like
    /// time — a server passes [`Key::random`], a simulation a fixed key to replay a run exactly.
    pub fn new(config: HubConfig, metrics: Arc<Metrics>, key: Key) -> Self {
        Hub::with_auth(config, metrics, key, Arc::new(Auth::open()))
    }

    /// An empty hub whose sessions are checked by `auth` (tokens and the access policy).
    pub fn with_auth(config: HubConfig, metrics: Arc<Metrics>, key: Key, auth: Arc<Auth>) -> Self {
        Hub::with_engine(config, metrics, key, auth, None)
    }

    /// An empty hub whose messages are numbered and kept by a shared engine (`engine`), or by
    /// itself (`None`: the memory engine).
    pub fn with_engine(
        config: HubConfig,
        metrics: Arc<Metrics>,
        key: Key,
        auth: Arc<Auth>,
        engine: Option<EngineLink>,
    ) -> Self {
        Hub(Arc::new(HubState {
            history: Arc::new(HistoryBudget::new(config.history_bytes)),
            send_limits: Arc::new(config.send_limits()),
            config,
            metrics,
            rooms: RwLock::default(),
            sessions: Mutex::default(),
            next_session: AtomicU64::new(1),
            next_room: AtomicU64::new(1),
            ids: key,
            shutting_down: AtomicBool::new(false),
            auth,
            engine,
        }))
    }

    /// Token verification and the access policy (the HTTP doors check with it too).
    pub fn auth(&self) -> &Arc<Auth> {
        &self.0.auth
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
        // The counter makes the id unique; the MAC'd suffix makes it hard to guess.
        let tag = self.0.ids.mac(&[b"session".as_slice(), &n.to_be_bytes()].concat());
        let salt = u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]]);
        let id: Arc<str> = format!("s-{n:x}{salt:08x}").into();
        let config = &self.0.config;
        let queue = SendQueue::new(self.0.send_limits.clone());
        let heard = match transport {
            Transport::Sse => NEVER_SILENT,
            _ => now.ms,
        };
        let shared = Arc::new(SessionEntry {
            id: id.clone(),
            queue,
            rooms: Mutex::default(),
            heard: AtomicU64::new(heard),
            deadline: AtomicU64::new(now.after(config.frame_timeout_ms.max(1))),
            expires: AtomicU64::new(0),
            expiry_told: AtomicBool::new(false),
            tokens: AtomicU32::new(0),
        });
        lock(&self.0.sessions).insert(id, shared.clone());
        self.0.metrics.connection_opened(transport);
        if self.0.shutting_down.load(Ordering::SeqCst) {
            shared.queue.refuse(ErrorCode::ShuttingDown, SHUTTING_DOWN);
        }
        Session::new(self.clone(), shared, transport, now)
    }

    /// Disconnects a session with `error` 4014 `kicked`. Returns false if there is no such session.
    pub fn kick(&self, session: &str) -> bool {
        let Some(shared) = lock(&self.0.sessions).get(session).cloned() else { return false };
        if shared.queue.close(ErrorCode::Kicked, "disconnected by an administrator") {
            Metrics::add(&self.0.metrics.kicks, 1);
        }
        self.leave_all(&shared);
        true
    }

    /// Tells every session the server is going away (`error` 4015 `shutting_down` after what is
    /// already queued); sessions opened from now on get it at once.
    pub fn shut_down(&self) {
        self.0.shutting_down.store(true, Ordering::SeqCst);
        let sessions: Vec<Arc<SessionEntry>> = lock(&self.0.sessions).values().cloned().collect();
        for shared in sessions {
            shared.queue.close(ErrorCode::ShuttingDown, SHUTTING_DOWN);
        }
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        lock(&self.0.sessions).len()
    }

    /// Removes a session from every room it is in, telling the other members.
    pub(crate) fn leave_all(&self, shared: &SessionEntry) {
        let rooms = std::mem::take(&mut *lock(&shared.rooms));
        let mut overflowed = Overflowed::new();
        for room in rooms {
            if room.leave(&shared.id, self.0.config.presence_limit, &mut overflowed) {
                self.engine_leave(room.name(), &shared.id);
            }
        }
        self.evict_slow(overflowed);
    }

    /// Forgets a session (its connection ended).
    pub(crate) fn unregister(&self, shared: &SessionEntry, transport: Transport) {
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
                if room.leave(&shared.id, self.0.config.presence_limit, &mut overflowed) {
                    self.engine_leave(room.name(), &shared.id);
                }
            }
        }
    }

    /// A new numbering of a room (`joined.epoch`): 8 bytes of a keyed hash of the creation
    /// counter, so that no two numbering are alike, across restarts too.
    pub(super) fn next_epoch(&self) -> String {
        let n = self.0.next_room.fetch_add(1, Ordering::Relaxed);
        let tag = self.0.ids.mac(&[b"epoch".as_slice(), &n.to_be_bytes()].concat());
        tag[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether [`Hub::shut_down`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.0.shutting_down.load(Ordering::SeqCst)
    }
}

pub(super) const SHUTTING_DOWN: &str = "the server is shutting down; reconnect later";
