//! The simulated world: clients, the server and the links between them, in virtual time.
//!
//! A discrete-event loop: deliveries on the links are queued by arrival time (then by the
//! order they were sent, so a link with a fixed latency is FIFO like a stream), and each
//! client's deadline from [`Output::Wait`] is honoured by calling `handle_timeout` then. Time
//! jumps straight from one event to the next, so an hour of backoff costs nothing.

use std::collections::BTreeMap;

use enchufe_core::client::{Client, ClientConfig, ClientError, ConnState, Event, Output};
use enchufe_core::{Body, ClientFrame, RoomName, ServerFrame};

use super::rng::Rng;
use super::server::{ConnId, Down, Server};

/// How one client's link behaves. Latencies are one-way; `jitter_ms` adds a random extra delay
/// to each frame, which reorders them, and drops and duplicates affect single frames (as on a
/// datagram transport).
#[derive(Clone, Debug)]
pub(crate) struct Link {
    /// Client → server latency, in ms.
    pub(crate) up_ms: u64,
    /// Server → client latency, in ms.
    pub(crate) down_ms: u64,
    /// Up to this many extra ms per frame (0: FIFO).
    pub(crate) jitter_ms: u64,
    /// Probability that a client → server frame is lost.
    pub(crate) drop_up: f64,
    /// Probability that a server → client frame is lost.
    pub(crate) drop_down: f64,
    /// Probability that a server → client frame arrives twice (datagrams can be duplicated).
    pub(crate) dup_down: f64,
}

impl Default for Link {
    fn default() -> Self {
        Link { up_ms: 10, down_ms: 10, jitter_ms: 0, drop_up: 0.0, drop_down: 0.0, dup_down: 0.0 }
    }
}

/// One simulated client: the state machine, its link, and everything it reported.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) client: Client,
    pub(crate) link: Link,
    /// The client's current transport (opening or open).
    conn: Option<ConnId>,
    deadline: Option<u64>,
    /// Connection attempts before this time are refused (a partition).
    partitioned_until: u64,
    /// Drop the next server → client frame of this kind (e.g. `"ack"`).
    drop_next: Option<&'static str>,
    /// Every event, with the time it was emitted.
    pub(crate) events: Vec<(u64, Event)>,
    /// Every frame transmitted, with the time.
    pub(crate) sent: Vec<(u64, ClientFrame)>,
    /// When the client asked to close its transport ([`Output::Disconnect`]).
    pub(crate) disconnects: Vec<u64>,
    /// When the client last received a frame.
    pub(crate) last_received: u64,
}

/// What travels, or happens, at a point in virtual time.
#[derive(Debug)]
enum Delivery {
    /// The transport `conn` of `node` finished opening.
    Opened {
        node: usize,
        conn: ConnId,
    },
    /// The attempt to open `conn` was refused.
    Refused {
        node: usize,
        conn: ConnId,
    },
    ToServer {
        conn: ConnId,
        frame: ClientFrame,
    },
    ToClient {
        node: usize,
        conn: ConnId,
        frame: ServerFrame,
    },
    /// The client closed `conn`; the server sees it now.
    Closed {
        conn: ConnId,
    },
    /// The server closed `conn`; the client sees it now.
    ClosedByServer {
        node: usize,
        conn: ConnId,
    },
}

/// Clients, a server, links and a clock.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) now: u64,
    pub(crate) server: Server,
    pub(crate) nodes: Vec<Node>,
    /// When false, every connection attempt is refused (the server is down).
    pub(crate) server_up: bool,
    /// When true, connection attempts get no answer at all (only the connect timeout ends them).
    pub(crate) blackhole: bool,
    rng: Rng,
    queue: BTreeMap<(u64, u64), Delivery>,
    sent_count: u64,
    conns: u64,
    /// Server-side open connections → node.
    open: BTreeMap<ConnId, usize>,
    /// Connections the server silently ignores (no answer, no close).
    silenced: Vec<ConnId>,
}

impl World {
    pub(crate) fn new(seed: u64, server: Server) -> Self {
        World {
            now: 0,
            server,
            nodes: Vec::new(),
            server_up: true,
            blackhole: false,
            rng: Rng::new(seed),
            queue: BTreeMap::new(),
            sent_count: 0,
            conns: 0,
            open: BTreeMap::new(),
            silenced: Vec::new(),
        }
    }

    /// Adds a client (not connected yet); returns its index.
    pub(crate) fn add(&mut self, config: ClientConfig, seed: u64, link: Link) -> usize {
        self.nodes.push(Node {
            client: Client::new(config, seed),
            link,
            conn: None,
            deadline: None,
            partitioned_until: 0,
            drop_next: None,
            events: Vec::new(),
            sent: Vec::new(),
            disconnects: Vec::new(),
            last_received: 0,
        });
        self.nodes.len() - 1
    }

    // ---- the application's commands -------------------------------------------------------

    pub(crate) fn connect(&mut self, node: usize) {
        self.nodes[node].client.connect(self.now);
        self.pump(node);
    }

    pub(crate) fn join(&mut self, node: usize, room: &str, since: Option<u64>) -> u64 {
        let id = self.nodes[node].client.join(self.now, room_name(room), since);
        self.pump(node);
        id
    }

    pub(crate) fn publish(
        &mut self,
        node: usize,
        room: &str,
        text: &str,
    ) -> Result<u64, ClientError> {
        let body = Body::json(&text).expect("a string is JSON");
        let result = self.nodes[node].client.publish(self.now, room_name(room), body);
        self.pump(node);
        result
    }

    // ---- the network's misfortunes --------------------------------------------------------

    /// Breaks `node`'s connection now (both ends see it close) and refuses its connection
    /// attempts for `ms`.
    pub(crate) fn partition(&mut self, node: usize, ms: u64) {
        let now = self.now;
        let n = &mut self.nodes[node];
        n.partitioned_until = now + ms;
        if let Some(conn) = n.conn.take() {
            let down = self.server.close(conn);
            self.open.remove(&conn);
            self.send_all(down);
            self.nodes[node].client.handle_disconnected(now);
            self.pump(node);
        }
    }

    /// From now on the server neither answers nor closes `node`'s current connection (a hung
    /// peer, or a middlebox that dropped the flow). New connections work.
    pub(crate) fn silence(&mut self, node: usize) {
        if let Some(conn) = self.nodes[node].conn {
            self.silenced.push(conn);
        }
    }

    /// The server restarts and forgets everything (an in-memory hub): every connection breaks,
    /// and the new server has the same settings and no rooms.
    pub(crate) fn restart_server(&mut self) {
        self.server = self.server.restarted();
        self.open.clear();
        for node in 0..self.nodes.len() {
            if self.nodes[node].conn.take().is_some() {
                self.nodes[node].client.handle_disconnected(self.now);
                self.pump(node);
            }
        }
    }

    /// Drops the next server → client frame of `kind` (e.g. `"ack"`) to `node`.
    pub(crate) fn drop_next(&mut self, node: usize, kind: &'static str) {
        self.nodes[node].drop_next = Some(kind);
    }

    // ---- time -----------------------------------------------------------------------------

    pub(crate) fn run_for(&mut self, ms: u64) {
        self.run_until(self.now + ms);
    }

    /// Processes every delivery and deadline up to `t`, then sets the clock to `t`.
    pub(crate) fn run_until(&mut self, t: u64) {
        let mut same_time_steps = 0u32;
        loop {
            let next_delivery = self.queue.keys().next().map(|&(at, _)| at);
            let next_deadline = self.nodes.iter().filter_map(|n| n.deadline).min();
            let next_timer = Some(self.server.next_timer());
            let Some(next) = [next_delivery, next_deadline, next_timer].into_iter().flatten().min()
            else {
                break;
            };
            if next > t {
                break;
            }
            let next = next.max(self.now);
            same_time_steps = if next == self.now { same_time_steps + 1 } else { 0 };
            assert!(
                same_time_steps < 100_000,
                "no progress at t={next}: a deadline that never moves"
            );
            self.now = next;
            if next_delivery.is_some_and(|at| at <= self.now) {
                if let Some((_, delivery)) = self.queue.pop_first() {
                    self.deliver(delivery);
                }
            } else if next_timer.is_some_and(|at| at <= self.now) {
                let down = self.server.handle_timeout(self.now);
                self.send_all(down);
            } else {
                for node in 0..self.nodes.len() {
                    if self.nodes[node].deadline.is_some_and(|d| d <= self.now) {
                        self.nodes[node].client.handle_timeout(self.now);
                        self.pump(node);
                    }
                }
            }
        }
        self.now = self.now.max(t);
    }

    fn schedule(&mut self, at: u64, delivery: Delivery) {
        self.sent_count += 1;
        self.queue.insert((at, self.sent_count), delivery);
    }

    fn deliver(&mut self, delivery: Delivery) {
        let now = self.now;
        match delivery {
            Delivery::Opened { node, conn } => {
                if self.nodes[node].conn == Some(conn) {
                    self.server.open(now, conn);
                    self.open.insert(conn, node);
                    self.nodes[node].client.handle_connected(now);
                    self.pump(node);
                }
            }
            Delivery::Refused { node, conn } => {
                if self.nodes[node].conn == Some(conn) {
                    self.nodes[node].conn = None;
                    self.nodes[node].client.handle_disconnected(now);
                    self.pump(node);
                }
            }
            Delivery::ToServer { conn, frame } => {
                if !self.open.contains_key(&conn) || self.silenced.contains(&conn) {
                    return;
                }
                let down = self.server.receive(now, conn, frame);
                self.send_all(down);
            }
            Delivery::ToClient { node, conn, frame } => {
                if self.nodes[node].conn == Some(conn) {
                    self.nodes[node].last_received = now;
                    self.nodes[node].client.handle_frame(now, frame);
                    self.pump(node);
                }
            }
            Delivery::Closed { conn } => {
                self.open.remove(&conn);
                let down = self.server.close(conn);
                self.send_all(down);
            }
            Delivery::ClosedByServer { node, conn } => {
                if self.nodes[node].conn == Some(conn) {
                    self.nodes[node].conn = None;
                    self.nodes[node].client.handle_disconnected(now);
                    self.pump(node);
                }
            }
        }
    }

    fn send_all(&mut self, down: Vec<(ConnId, Down)>) {
        for (conn, down) in down {
            match down {
                Down::Frame(frame) => self.send_down(conn, frame),
                Down::Close => self.close_down(conn),
            }
        }
    }

    /// The server ended `conn`: the client sees the close after the frames before it (a
    /// silenced connection sees nothing, as a hung peer would).
    fn close_down(&mut self, conn: ConnId) {
        let Some(node) = self.open.remove(&conn) else { return };
        if self.silenced.contains(&conn) {
            return;
        }
        let at = self.now + self.nodes[node].link.down_ms + self.nodes[node].link.jitter_ms;
        self.schedule(at, Delivery::ClosedByServer { node, conn });
    }

    fn send_down(&mut self, conn: ConnId, frame: ServerFrame) {
        let Some(&node) = self.open.get(&conn) else { return };
        if self.silenced.contains(&conn) {
            return;
        }
        let n = &mut self.nodes[node];
        if n.drop_next == Some(frame.kind()) {
            n.drop_next = None;
            return;
        }
        let (latency, jitter, drop) = (n.link.down_ms, n.link.jitter_ms, n.link.drop_down);
        if drop > 0.0 && self.rng.chance(drop) {
            return;
        }
        if n.link.dup_down > 0.0 && self.rng.chance(n.link.dup_down) {
            let at = self.now + latency + if jitter > 0 { self.rng.range(0, jitter) } else { 0 };
            self.schedule(at, Delivery::ToClient { node, conn, frame: frame.clone() });
        }
        let at = self.now + latency + if jitter > 0 { self.rng.range(0, jitter) } else { 0 };
        self.schedule(at, Delivery::ToClient { node, conn, frame });
    }

    /// Carries out `node`'s outputs until it waits.
    fn pump(&mut self, node: usize) {
        loop {
            let now = self.now;
            let output = self.nodes[node].client.poll_output();
            match output {
                Output::Wait(deadline) => {
                    self.nodes[node].deadline = deadline;
                    return;
                }
                Output::Event(event) => self.nodes[node].events.push((now, event)),
                Output::Connect => {
                    assert!(self.nodes[node].conn.is_none(), "Connect while a transport is in use");
                    self.conns += 1;
                    let conn = self.conns;
                    let n = &mut self.nodes[node];
                    n.conn = Some(conn);
                    let round_trip = n.link.up_ms + n.link.down_ms;
                    let refused = !self.server_up || now < n.partitioned_until;
                    if self.blackhole {
                        // No answer: the client's connect timeout must end the attempt.
                    } else if refused {
                        self.schedule(now + round_trip, Delivery::Refused { node, conn });
                    } else {
                        self.schedule(now + round_trip, Delivery::Opened { node, conn });
                    }
                }
                Output::Transmit(frame) => {
                    let n = &mut self.nodes[node];
                    n.sent.push((now, frame.clone()));
                    let conn = n.conn.expect("Transmit without a transport");
                    let (latency, jitter, drop) = (n.link.up_ms, n.link.jitter_ms, n.link.drop_up);
                    if drop > 0.0 && self.rng.chance(drop) {
                        continue;
                    }
                    let at = now + latency + if jitter > 0 { self.rng.range(0, jitter) } else { 0 };
                    self.schedule(at, Delivery::ToServer { conn, frame });
                }
                Output::Disconnect => {
                    let n = &mut self.nodes[node];
                    n.disconnects.push(now);
                    if let Some(conn) = n.conn.take() {
                        let at = now + n.link.up_ms;
                        self.schedule(at, Delivery::Closed { conn });
                    }
                }
            }
        }
    }
}

/// What one client saw, in the terms a user would notice.
impl Node {
    /// The seqs of the messages delivered in `room`, in delivery order.
    pub(crate) fn seqs(&self, room: &str) -> Vec<u64> {
        self.messages(room).into_iter().map(|(seq, _)| seq).collect()
    }

    /// The (seq, text) of the messages delivered in `room`, in delivery order.
    pub(crate) fn messages(&self, room: &str) -> Vec<(u64, String)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Message(m) if m.room.as_str() == room => {
                    let text = serde_json::from_str(m.body.as_json_text().unwrap_or("null"))
                        .unwrap_or_default();
                    Some((m.seq, text))
                }
                _ => None,
            })
            .collect()
    }

    /// The gaps reported in `room`, as (from, to).
    pub(crate) fn gaps(&self, room: &str) -> Vec<(u64, u64)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Gap { room: r, from, to } if r.as_str() == room => Some((*from, *to)),
                _ => None,
            })
            .collect()
    }

    /// The acks received, as (publish id, seq).
    pub(crate) fn acks(&self) -> Vec<(u64, u64)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Ack { id, seq, .. } => Some((*id, *seq)),
                _ => None,
            })
            .collect()
    }

    /// Every state change, with its time.
    pub(crate) fn states(&self) -> Vec<(u64, ConnState)> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::State(s) => Some((*t, s.clone())),
                _ => None,
            })
            .collect()
    }

    /// The ids of the publish frames transmitted, in order (retries included).
    pub(crate) fn publish_ids_sent(&self) -> Vec<u64> {
        self.sent
            .iter()
            .filter_map(|(_, f)| match f {
                ClientFrame::Publish(p) => p.id,
                _ => None,
            })
            .collect()
    }
}

pub(crate) fn room_name(name: &str) -> RoomName {
    RoomName::new(name).expect("test room names are valid")
}
