//! A minimal in-memory server that speaks the protocol at the frame level: rooms with one seq
//! and an epoch each, bounded history with `since` replay and `recovered` (a `join` in another
//! epoch is replayed from the start), publish de-duplication by
//! (client key, id) within the history window, acks, history, ping. No presence.
//!
//! It follows docs/DECISIONS.md ("Joining and recovery", "Sessions and the hello") and is
//! written to be obviously correct rather than fast: it is the reference the client is checked
//! against, not the real hub.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use enchufe_core::{
    Ack, ClientFrame, ErrorCode, ErrorFrame, History, Joined, Left, Limits, Message, Pong,
    RoomName, ServerFrame, Welcome,
};

/// A transport connection, as the simulation numbers them.
pub(crate) type ConnId = u64;

/// One message the server ever stored, with who published it (for invariant checks).
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    pub(crate) message: Message,
    /// The publisher's client key and publish id, when it gave an id.
    pub(crate) origin: Option<(String, u64)>,
}

#[derive(Debug, Default)]
struct Room {
    /// This numbering of the room: the server's run and the room's creation on it.
    epoch: String,
    seq: u64,
    /// The newest messages, at most `history` of them.
    history: VecDeque<Message>,
    /// (client key, publish id) → seq, for the messages still in history.
    dedupe: BTreeMap<(String, u64), u64>,
    /// seq → (client key, publish id), to forget a dedupe entry when its message is evicted.
    origin_of: BTreeMap<u64, (String, u64)>,
    members: BTreeSet<ConnId>,
    /// Every message ever stored, in seq order (never evicted: the test's ground truth).
    log: Vec<Stored>,
}

#[derive(Debug)]
struct Conn {
    session: String,
    /// `hello.client`, else the session id; `None` until the hello.
    client_key: Option<String>,
    rooms: BTreeSet<RoomName>,
}

/// The server.
#[derive(Debug)]
pub(crate) struct Server {
    /// History kept per room, in messages.
    pub(crate) history: usize,
    /// `welcome.heartbeat_ms`.
    pub(crate) heartbeat_ms: u64,
    /// Which run of the server this is (a restart starts the next), for the rooms' epochs.
    run: u64,
    rooms: BTreeMap<RoomName, Room>,
    /// Rooms created in this run, for their epochs.
    created: u64,
    conns: BTreeMap<ConnId, Conn>,
    sessions: u64,
}

impl Server {
    pub(crate) fn new(history: usize, heartbeat_ms: u64) -> Self {
        Server {
            history,
            heartbeat_ms,
            run: 1,
            rooms: BTreeMap::new(),
            created: 0,
            conns: BTreeMap::new(),
            sessions: 0,
        }
    }

    /// The same server after a restart: the same settings, no rooms, new epochs.
    pub(crate) fn restarted(&self) -> Self {
        Server { run: self.run + 1, ..Server::new(self.history, self.heartbeat_ms) }
    }

    /// A transport connection opened.
    pub(crate) fn open(&mut self, conn: ConnId) {
        self.sessions += 1;
        let session = format!("s-{}", self.sessions);
        self.conns.insert(conn, Conn { session, client_key: None, rooms: BTreeSet::new() });
    }

    /// A transport connection closed: its session leaves every room.
    pub(crate) fn close(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            for room in c.rooms {
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.members.remove(&conn);
                }
            }
        }
    }

    /// Every message ever stored in `room`, in seq order.
    pub(crate) fn log(&self, room: &RoomName) -> &[Stored] {
        self.rooms.get(room).map_or(&[], |r| &r.log)
    }

    /// Handles one frame from `conn` at `now`; returns the frames to send, to whom.
    pub(crate) fn receive(
        &mut self,
        now: u64,
        conn: ConnId,
        frame: ClientFrame,
    ) -> Vec<(ConnId, ServerFrame)> {
        let mut out = Vec::new();
        let Some(c) = self.conns.get_mut(&conn) else { return out };
        if c.client_key.is_none() {
            // The first frame should be hello; anything else is an anonymous hello first.
            let client = match &frame {
                ClientFrame::Hello(hello) => hello.client.clone(),
                _ => None,
            };
            c.client_key = Some(client.unwrap_or_else(|| c.session.clone()));
            out.push((
                conn,
                ServerFrame::Welcome(Welcome {
                    v: 1,
                    session: c.session.clone(),
                    heartbeat_ms: self.heartbeat_ms,
                    limits: Limits { max_frame: 65_536, max_rooms: 64, max_history: 1000 },
                }),
            ));
            if matches!(frame, ClientFrame::Hello(_)) {
                return out;
            }
        }
        match frame {
            ClientFrame::Hello(_) => {}
            ClientFrame::Join(join) => {
                let room = room(&mut self.rooms, self.run, &mut self.created, &join.room);
                let first = room.history.front().map_or(room.seq + 1, |m| m.seq);
                // A since of another numbering (another epoch, or one this numbering never
                // reached): the room was forgotten, so everything stored is new to the client.
                let other = join.epoch.as_ref().is_some_and(|e| *e != room.epoch)
                    || join.since.is_some_and(|since| since > room.seq);
                let since = if other { Some(0) } else { join.since };
                let recovered = match since {
                    _ if other => false,
                    None => true,
                    Some(since) => since + 1 >= first,
                };
                out.push((
                    conn,
                    ServerFrame::Joined(Joined {
                        room: join.room.clone(),
                        seq: room.seq,
                        members: vec![],
                        recovered,
                        id: join.id,
                        epoch: room.epoch.clone(),
                    }),
                ));
                if let Some(since) = since {
                    for m in room.history.iter().filter(|m| m.seq > since) {
                        out.push((conn, ServerFrame::Message(m.clone())));
                    }
                }
                room.members.insert(conn);
                c.rooms.insert(join.room);
            }
            ClientFrame::Leave(leave) => {
                if c.rooms.remove(&leave.room) {
                    if let Some(r) = self.rooms.get_mut(&leave.room) {
                        r.members.remove(&conn);
                    }
                    out.push((conn, ServerFrame::Left(Left { room: leave.room, id: leave.id })));
                } else {
                    let error = ErrorFrame::new(ErrorCode::NotJoined, "not joined", leave.id);
                    out.push((conn, ServerFrame::Error(error)));
                }
            }
            ClientFrame::Publish(publish) => {
                let key = c.client_key.clone().unwrap_or_default();
                let session = c.session.clone();
                let room = room(&mut self.rooms, self.run, &mut self.created, &publish.room);
                let origin = publish.id.map(|id| (key, id));
                if let Some(seq) = origin.as_ref().and_then(|o| room.dedupe.get(o)) {
                    let ack =
                        Ack { id: publish.id.unwrap_or_default(), room: publish.room, seq: *seq };
                    out.push((conn, ServerFrame::Ack(ack)));
                    return out;
                }
                room.seq += 1;
                let message = Message {
                    room: publish.room.clone(),
                    seq: room.seq,
                    from: session,
                    ts: now,
                    body: publish.body,
                };
                room.log.push(Stored { message: message.clone(), origin: origin.clone() });
                if let Some(origin) = origin {
                    room.dedupe.insert(origin.clone(), room.seq);
                    room.origin_of.insert(room.seq, origin);
                }
                room.history.push_back(message.clone());
                while room.history.len() > self.history {
                    if let Some(evicted) = room.history.pop_front() {
                        if let Some(origin) = room.origin_of.remove(&evicted.seq) {
                            room.dedupe.remove(&origin);
                        }
                    }
                }
                for member in &room.members {
                    out.push((*member, ServerFrame::Message(message.clone())));
                }
                if let Some(id) = publish.id {
                    out.push((
                        conn,
                        ServerFrame::Ack(Ack { id, room: publish.room, seq: room.seq }),
                    ));
                }
            }
            ClientFrame::History(request) => {
                let since = request.since.unwrap_or(0);
                let limit = request.limit.unwrap_or(1000).min(1000) as usize;
                let messages = self.rooms.get(&request.room).map_or_else(Vec::new, |r| {
                    r.history.iter().filter(|m| m.seq > since).take(limit).cloned().collect()
                });
                let answer = History { room: request.room, messages, id: request.id };
                out.push((conn, ServerFrame::History(answer)));
            }
            ClientFrame::Ping(ping) => out.push((conn, ServerFrame::Pong(Pong { id: ping.id }))),
        }
        out
    }
}

/// The room called `name`, created on first use in a new epoch: `run` (which run of the server)
/// and `created` (rooms created in this run) make it unique.
fn room<'a>(
    rooms: &'a mut BTreeMap<RoomName, Room>,
    run: u64,
    created: &mut u64,
    name: &RoomName,
) -> &'a mut Room {
    rooms.entry(name.clone()).or_insert_with(|| {
        *created += 1;
        Room { epoch: format!("{run}.{created}"), ..Room::default() }
    })
}
