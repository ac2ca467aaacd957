//! The server side of the simulation: the real hub ([`enchufe::hub::Hub`]), driven in virtual
//! time. Every frame a client sends is handed to its session with the world's `now`; whatever
//! the hub then queued for any session is taken at once, as the sessions' writers would, and
//! travels back over the links; the hub's timer runs on the world's clock.
//!
//! Alongside, it keeps the test's ground truth: every message the hub stored in a room, with the
//! publish (client key, id) behind it, read back from the hub's own history right after the
//! publish — so the log holds messages that history has since evicted.

use std::{collections::BTreeMap, sync::Arc};

use enchufe::{
    hub::{Hub, HubConfig, Now, Session, Transport},
    mac::Key,
    metrics::Metrics,
};
use enchufe_core::{ClientFrame, Message, RoomName, ServerFrame};
use futures_util::FutureExt as _;

/// A transport connection, as the simulation numbers them.
pub(crate) type ConnId = u64;

/// One message the hub stored, with who published it (for invariant checks).
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    pub(crate) message: Message,
    /// The publisher's client key and publish id, when it gave an id.
    pub(crate) origin: Option<(String, u64)>,
}

/// What the hub sends down a connection.
#[derive(Debug)]
pub(crate) enum Down {
    Frame(ServerFrame),
    /// The hub ended the connection (after the frames before it).
    Close,
}

/// A connection's session and what the log needs to know about it.
#[derive(Debug)]
struct Conn {
    session: Session,
    /// `hello.client`, else the session id: the hub's de-duplication key.
    client_key: Option<String>,
}

/// The real hub and its open sessions.
#[derive(Debug)]
pub(crate) struct Server {
    config: HubConfig,
    hub: Hub,
    conns: BTreeMap<ConnId, Conn>,
    log: BTreeMap<RoomName, Vec<Stored>>,
    /// When the hub's timer next runs (ms).
    next_timer: u64,
    /// Which run of the server this is: it keys the hub, so that a run's ids and epochs are the
    /// same every time and a restart numbers its rooms anew.
    run: u8,
}

impl Server {
    /// A hub keeping `history` messages per room, telling clients to ping every `heartbeat_ms`.
    pub(crate) fn new(history: usize, heartbeat_ms: u64) -> Self {
        let mut config = HubConfig::default();
        config.history_len = history;
        config.heartbeat_ms = heartbeat_ms;
        Server::with(config, 1)
    }

    fn with(config: HubConfig, run: u8) -> Self {
        let key = Key::from_bytes([run; 16]);
        Server {
            hub: Hub::new(config.clone(), Arc::new(Metrics::default()), key),
            config,
            conns: BTreeMap::new(),
            log: BTreeMap::new(),
            next_timer: 0,
            run,
        }
    }

    /// The same server after a restart: the same settings, a new hub (no rooms, new epochs).
    pub(crate) fn restarted(&self) -> Self {
        Server::with(self.config.clone(), self.run.wrapping_add(1))
    }

    /// A transport connection opened at `now`.
    pub(crate) fn open(&mut self, now: u64, conn: ConnId) {
        let session = self.hub.open(Transport::Ws, at(now));
        self.conns.insert(conn, Conn { session, client_key: None });
    }

    /// A transport connection closed: dropping its session leaves every room. Returns what the
    /// others were sent meanwhile (presence).
    pub(crate) fn close(&mut self, conn: ConnId) -> Vec<(ConnId, Down)> {
        self.conns.remove(&conn);
        self.take_all()
    }

    /// Every message the hub stored in `room`, in seq order.
    pub(crate) fn log(&self, room: &RoomName) -> &[Stored] {
        self.log.get(room).map_or(&[], Vec::as_slice)
    }

    /// When the hub's timer wants to run next.
    pub(crate) fn next_timer(&self) -> u64 {
        self.next_timer
    }

    /// Runs the hub's timer at `now`; returns what it sent (the `error` of a closed session).
    pub(crate) fn handle_timeout(&mut self, now: u64) -> Vec<(ConnId, Down)> {
        self.hub.handle_timeout(at(now));
        let period = u64::try_from(self.hub.timeout_period().as_millis()).unwrap_or(u64::MAX);
        self.next_timer = now + period.max(1);
        self.take_all()
    }

    /// Hands one frame from `conn` to its session at `now`; returns the frames to send, to whom.
    pub(crate) fn receive(
        &mut self,
        now: u64,
        conn: ConnId,
        frame: ClientFrame,
    ) -> Vec<(ConnId, Down)> {
        let Some(c) = self.conns.get_mut(&conn) else { return Vec::new() };
        if c.client_key.is_none() {
            let client = match &frame {
                ClientFrame::Hello(hello) => hello.client.clone(),
                _ => None,
            };
            c.client_key = Some(client.unwrap_or_else(|| c.session.id().to_owned()));
        }
        let published = match &frame {
            ClientFrame::Publish(p) => {
                let key = c.client_key.clone().unwrap_or_default();
                Some((p.room.clone(), p.id.map(|id| (key, id))))
            }
            _ => None,
        };
        c.session.handle(at(now), frame);
        if let Some((room, origin)) = published {
            self.record(now, &room, origin);
        }
        self.take_all()
    }

    /// Logs what a publish stored: the messages of `room` after the last one logged.
    fn record(&mut self, now: u64, room: &RoomName, origin: Option<(String, u64)>) {
        let log = self.log.entry(room.clone()).or_default();
        let since = log.last().map(|s| s.message.seq);
        // `since` of the first message is None: the hub then answers from the oldest stored.
        for message in self.hub.history(room, since, None, at(now)) {
            if since.is_none_or(|s| message.seq > s) {
                log.push(Stored { message, origin: origin.clone() });
            }
        }
    }

    /// Takes everything queued for every session, as their writers would; a session whose queue
    /// ended is closed (its connection is gone from the hub's side).
    fn take_all(&mut self) -> Vec<(ConnId, Down)> {
        let mut out = Vec::new();
        let mut ended = Vec::new();
        for (&conn, c) in &self.conns {
            let queue = c.session.queue();
            loop {
                let mut batch = Vec::new();
                // The queue is taken synchronously: with nothing queued the wait is pending,
                // and that is the end of what this session has now.
                let Some(end) = queue.next_batch(&mut batch).now_or_never() else { break };
                out.extend(batch.iter().map(|o| (conn, Down::Frame(o.frame().clone()))));
                if end.is_some() {
                    out.push((conn, Down::Close));
                    ended.push(conn);
                    break;
                }
            }
        }
        let closed = !ended.is_empty();
        for conn in ended {
            self.conns.remove(&conn);
        }
        if closed {
            // Leaving rooms may have told the others.
            out.extend(self.take_all());
        }
        out
    }
}

/// The world's clock as the hub's input: virtual ms, on both of the hub's timelines.
fn at(ms: u64) -> Now {
    Now { ms, unix_ms: ms }
}
