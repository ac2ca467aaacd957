//! [`Session`]: one connection's view of the hub. Every protocol rule a client frame meets lives
//! here, once, for all transports.

use std::sync::Arc;

use enchufe_core::{
    Ack, ClientFrame, ErrorCode, Hello, History, HistoryRequest, Join, Leave, Left, Member,
    Message, PROTOCOL_VERSION, Pong, Publish, Refresh, Refreshed, RoomName, ServerFrame, Welcome,
    codec::DecodeError,
};

use super::{
    Command, Hub, JoinCommand, Now, Outgoing, PublishCommand, Push, Reply, SendQueue,
    hub::SessionEntry,
    room::{Gone, Joiner, Sees},
    run::Run,
};
use crate::{
    auth::{Action, Principal},
    metrics::Metrics,
    sync::lock,
    token_bucket::TokenBucket,
};

/// The transport a session arrived on (for metrics and logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// WebSocket at `/ws`.
    Ws,
    /// Newline JSON or length-prefixed binary over TCP.
    Tcp,
    /// One frame per UDP datagram.
    Udp,
    /// Server-Sent Events (read-only).
    Sse,
}

impl Transport {
    /// Every transport, in metrics order.
    pub const ALL: [Transport; 4] = [Transport::Ws, Transport::Tcp, Transport::Udp, Transport::Sse];

    /// The label used in metrics and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Ws => "ws",
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Sse => "sse",
        }
    }
}

/// One client connection's session, owned by the transport task that reads the connection.
///
/// See the [module docs](super) for the drive loop. Frames go in through [`Session::handle`]
/// (and [`Session::reject`] for input that did not decode); everything the client must receive,
/// answers and room traffic alike, comes out of [`Session::queue`]. Dropping the session ends
/// it: it leaves its rooms (the other members get `presence` leave) and its queue closes after
/// what is pending.
#[derive(Debug)]
pub struct Session {
    hub: Hub,
    shared: Arc<SessionEntry>,
    transport: Transport,
    greeted: bool,
    /// `hello.name` (the session id is `shared.id`): with it, the member other clients see.
    name: Option<String>,
    /// `message.from` for this session's publishes: its name, else its id.
    from: Arc<str>,
    /// De-duplication key: `hello.client`, else the session id.
    client_key: Arc<str>,
    rate: Option<TokenBucket>,
    /// One more than when a refusal by the rate limit was last answered (0: never): one 4010 a
    /// second at most.
    told: u64,
    /// Deliveries this connection's publishes caused that its transport has not yet counted
    /// against its turn on the runtime ([`Session::take_work`]).
    work: u32,
    /// Publishes gathered for one fan-out ([`Session::batch_publishes`]); boxed, as most
    /// connections never have one pending.
    run: Option<Box<Run>>,
    /// The transport gathers publishes into runs and calls [`Session::flush`] before it waits.
    batching: bool,
    /// The rate of rooms this connection creates: made on its first new room, and boxed so
    /// that the many connections that only join existing rooms do not carry it.
    creations: Option<Box<Creations>>,
    /// Who the connection is, from its token (`None`: anonymous). Boxed: most connections of a
    /// server without auth carry none.
    principal: Option<Box<Principal>>,
}

impl Session {
    pub(crate) fn new(hub: Hub, shared: Arc<SessionEntry>, transport: Transport, now: Now) -> Self {
        let id = shared.id.clone();
        let config = hub.config();
        let rate = (config.rate_per_sec > 0).then(|| TokenBucket::full(config.rate_burst, now.ms));
        Session {
            name: None,
            from: id.clone(),
            client_key: id,
            hub,
            shared,
            transport,
            greeted: false,
            rate,
            told: 0,
            work: 0,
            run: None,
            batching: false,
            creations: None,
            principal: None,
        }
    }

    /// The session id (`welcome.session`).
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The transport this session arrived on.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The queue the transport's writer drains. Clone it into the writer task.
    pub fn queue(&self) -> &SendQueue {
        &self.shared.queue
    }

    /// Whether `hello` was handled (explicitly, or implied by another first frame).
    pub fn is_greeted(&self) -> bool {
        self.greeted
    }

    /// Whether the session is ending (its queue is closed): the transport should stop reading
    /// and let the writer finish.
    pub fn is_closed(&self) -> bool {
        self.shared.queue.is_closed()
    }

    /// Handles one frame from the client, received at `now`. Answers, errors and fan-out go to
    /// the queue; a frame refused for a fatal reason closes the queue with that reason.
    ///
    /// A first frame other than `hello` implies an anonymous `hello` (docs/DECISIONS.md): the
    /// client gets `welcome` first. UDP, where `hello` is required, calls this only after its
    /// handshake, starting with the `hello`.
    pub fn handle(&mut self, now: Now, frame: ClientFrame) {
        Metrics::add(&self.hub.metrics().frames_in, 1);
        self.complete(now);
        if !matches!(frame, ClientFrame::Publish(_)) {
            // Whatever else the client asks comes after the publishes it sent before.
            self.flush();
        }
        if self.is_closed() {
            return;
        }
        // A ping costs no one else anything: it is paced by backpressure (reads pause while
        // the answers wait), not by the rate limit.
        if !matches!(frame, ClientFrame::Ping(_)) && !self.admit(now, frame.id()) {
            return;
        }
        if !self.greeted {
            if let ClientFrame::Hello(hello) = frame {
                self.hello(now, hello);
                return;
            }
            self.hello(now, Hello { v: PROTOCOL_VERSION, ..Hello::default() });
            if self.is_closed() {
                return; // no token, and the server wants one
            }
        }
        match frame {
            // Over UDP a lost `welcome` is answered by the client sending `hello` again: it
            // gets the same session's `welcome` again (a stream cannot lose one).
            ClientFrame::Hello(_) if self.transport == Transport::Udp => self.welcome(),
            ClientFrame::Hello(_) => {
                self.error(ErrorCode::InvalidField, "hello was already received", None);
            }
            ClientFrame::Join(join) => self.join(now, join),
            ClientFrame::Leave(leave) => self.leave(leave),
            ClientFrame::Publish(publish) => self.publish(now, publish),
            ClientFrame::History(request) => self.history(now, request),
            ClientFrame::Ping(ping) => self.reply(ServerFrame::Pong(Pong { id: ping.id })),
            ClientFrame::Refresh(refresh) => self.refresh(now, refresh),
        }
    }

    /// Answers input that did not decode with a typed `error`. The connection stays usable,
    /// unless the code is fatal (a binary version this server does not read): then it closes.
    pub fn reject(&mut self, now: Now, error: &DecodeError) {
        Metrics::add(&self.hub.metrics().frames_in, 1);
        self.complete(now);
        self.flush();
        if self.is_closed() || !self.admit(now, error.id()) {
            return;
        }
        if !self.greeted {
            self.hello(now, Hello { v: PROTOCOL_VERSION, ..Hello::default() });
            if self.is_closed() {
                return;
            }
        }
        if error.code().is_fatal() {
            self.close(error.code(), &error.to_string());
        } else {
            self.error(error.code(), error.to_string(), error.id());
        }
    }

    /// The transport received something from the client (bytes, a datagram, a WebSocket
    /// message of any kind, pongs included) at `now`: the session is not silent
    /// ([`Hub::handle_timeout`](super::Hub::handle_timeout)).
    pub fn heard(&self, now: Now) {
        // An SSE client never speaks: its session is never judged by silence.
        if self.transport != Transport::Sse {
            self.shared.heard.store(now.ms, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// A whole frame arrived: the client is heard, and no frame is under way.
    fn complete(&self, now: Now) {
        self.heard(now);
        self.shared.deadline.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Reports whether the transport holds the start of a frame whose rest has not arrived (a
    /// TCP reader, after each read): the rest must come within the frame timeout, however
    /// slowly its bytes trickle in ([`Hub::handle_timeout`](super::Hub::handle_timeout)). Bytes
    /// of an unfinished frame are not "heard": only whole frames are.
    pub fn unfinished(&self, now: Now, pending: bool) {
        if pending {
            let deadline = now.after(self.hub.config().frame_timeout_ms.max(1));
            let _ = self.shared.deadline.compare_exchange(
                0,
                deadline,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
    }

    /// The transport paused reading this connection while its queue was over the high-water
    /// mark ([`SendQueue::is_paused`], [`SendQueue::writable`]), and resumed at `now`. Time spent not
    /// reading the client is neither its silence nor its slowness in finishing a frame, so both
    /// clocks start again.
    pub fn resumed(&self, now: Now) {
        Metrics::add(&self.hub.metrics().read_pauses, 1);
        self.heard(now);
        let deadline = &self.shared.deadline;
        if deadline.load(std::sync::atomic::Ordering::Relaxed) != 0 {
            let next = now.after(self.hub.config().frame_timeout_ms.max(1));
            deadline.store(next, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// How many whole `per_unit`s of deliveries this connection's frames caused since the last
    /// call (the rest is kept for the next): what its reader pays for them in scheduling
    /// budget (`flow::pace`).
    pub fn take_work(&mut self, per_unit: u32) -> u32 {
        let units = self.work / per_unit;
        self.work %= per_unit;
        units
    }

    /// Ends the session for a reason the transport found (too large, idle, a broken stream):
    /// the client gets `error` `code` after what is queued, then the connection closes.
    pub fn close(&self, code: ErrorCode, message: &str) {
        if self.shared.queue.close(code, message) {
            Metrics::add(&self.hub.metrics().errors, 1);
        }
        self.hub.leave_all(&self.shared);
    }

    fn hello(&mut self, now: Now, hello: Hello) {
        let config = self.hub.config();
        if hello.v != PROTOCOL_VERSION {
            let message = format!(
                "protocol version {} is not supported; this server speaks {PROTOCOL_VERSION}",
                hello.v
            );
            self.close(ErrorCode::UnsupportedVersion, &message);
            return;
        }
        if hello.name.as_ref().is_some_and(|n| n.is_empty() || n.len() > config.max_name) {
            let message = format!("hello.name must be 1 to {} bytes", config.max_name);
            self.error(ErrorCode::InvalidField, message, None);
            return;
        }
        if hello.client.as_ref().is_some_and(|c| c.is_empty() || c.len() > MAX_CLIENT_KEY) {
            let message = format!("hello.client must be 1 to {MAX_CLIENT_KEY} bytes");
            self.error(ErrorCode::InvalidField, message, None);
            return;
        }
        let auth = self.hub.auth().clone();
        let token = hello.token.as_deref();
        let principal = match (token, self.principal.take()) {
            (None, Some(verified)) => Some(*verified),
            (token, _) => match auth.principal(token, now.unix_ms) {
                Ok(principal) => principal,
                Err(error) => {
                    self.close(ErrorCode::Unauthorized, &error.to_string());
                    return;
                }
            },
        };
        self.greeted = true;
        let client = hello.client.map_or_else(|| self.shared.id.clone(), Arc::from);
        match principal {
            Some(principal) => {
                // The token says who this is: its `sub` is the sender and the presence identity
                // (a name only where the policy allows names), and publishes are de-duplicated
                // per (sub, client, id), so no one can collide with another user's keys.
                let shown = match hello.name {
                    Some(name) if auth.policy().names => name,
                    _ => principal.sub.to_string(),
                };
                self.from = shown.as_str().into();
                self.name = Some(shown);
                self.client_key = format!("{}\u{1f}{client}", principal.sub).into();
                self.expires_at(now, principal.expires);
                self.principal = Some(Box::new(principal));
            }
            None => {
                if let Some(name) = hello.name {
                    self.from = name.as_str().into();
                    self.name = Some(name);
                }
                self.client_key = client;
            }
        }
        // Only a WebSocket carries batches: a stream is already framed, a datagram is one frame.
        if hello.batch && self.transport == Transport::Ws {
            self.shared.queue.set_batched();
        }
        self.welcome();
    }

    fn welcome(&mut self) {
        let config = self.hub.config();
        let welcome = Welcome {
            v: PROTOCOL_VERSION,
            session: self.shared.id.to_string(),
            heartbeat_ms: config.heartbeat_ms,
            limits: config.wire_limits(),
            expires: self.principal.as_ref().and_then(|p| p.expires),
        };
        self.reply(ServerFrame::Welcome(welcome));
    }

    fn join(&mut self, now: Now, join: Join) {
        if let Err(why) = self.allowed(Action::Subscribe, &join.room) {
            self.error(ErrorCode::Forbidden, why, join.id);
            return;
        }
        if !self.may_create(now, &join.room, join.id) {
            return;
        }
        let max_rooms = self.hub.config().max_rooms;
        {
            let rooms = lock(&self.shared.rooms);
            let joined = rooms.iter().any(|r| r.name() == &join.room);
            if !joined && rooms.len() >= max_rooms {
                drop(rooms);
                let message = format!("this connection is already in {max_rooms} rooms");
                self.error(ErrorCode::TooManyRooms, message, join.id);
                return;
            }
        }
        let config = self.hub.config().clone();
        let queue = self.shared.queue.clone();
        let member = Member { session: self.shared.id.to_string(), name: self.name.clone() };
        let sees = Sees {
            presence: self.allowed(Action::Presence, &join.room).is_ok(),
            history: self.allowed(Action::History, &join.room).is_ok(),
        };
        if self.hub.engine().is_some() {
            let (rules, id) = (self.hub.rules(&join.room), join.id);
            let session = self.shared.id.clone();
            let token = self.shared.tokens.load(std::sync::atomic::Ordering::Relaxed);
            let command = JoinCommand { session, member, join, sees, rules, token };
            self.command(Command::Join(command), id);
            return;
        }
        let joined = self.hub.join_room(&join.room, |room, overflowed| {
            let joiner = Joiner { member: &member, queue: &queue, sees, listed: None };
            room.join(joiner, &join, &config, now, overflowed)
        });
        match joined {
            Ok((room, true)) => lock(&self.shared.rooms).push(room),
            Err(Gone::Full) => {
                let full = super::RoomsFull(self.hub.config().room_limit);
                self.error(ErrorCode::RoomLimit, full.message(), join.id);
            }
            Ok((_, false)) | Err(Gone::Closed | Gone::Removed) => {}
        }
    }

    fn leave(&mut self, leave: Leave) {
        if self.hub.engine().is_some() {
            // After any join of this connection still under way, in the engine's order.
            let (room, session) = (leave.room, self.shared.id.clone());
            self.command(Command::Leave { room, session, id: Some(leave.id) }, leave.id);
            return;
        }
        let room = {
            let mut rooms = lock(&self.shared.rooms);
            let index = rooms.iter().position(|r| r.name() == &leave.room);
            index.map(|i| rooms.swap_remove(i))
        };
        let Some(room) = room else {
            let message = format!("not joined to room {}", leave.room);
            self.error(ErrorCode::NotJoined, message, leave.id);
            return;
        };
        let mut overflowed = Vec::new();
        if room.leave(&self.shared.id, self.hub.config().presence_limit, &mut overflowed) {
            self.hub.engine_leave(&leave.room, &self.shared.id);
        }
        self.hub.evict_slow(overflowed);
        self.reply(ServerFrame::Left(Left { room: leave.room, id: leave.id }));
    }

    fn publish(&mut self, now: Now, publish: Publish) {
        if let Err(why) = self.allowed(Action::Publish, &publish.room) {
            self.error(ErrorCode::Forbidden, why, publish.id);
            return;
        }
        if !self.may_create(now, &publish.room, publish.id) {
            return;
        }
        let key = publish.id.map(|id| (self.client_key.clone(), id));
        if self.hub.engine().is_some() {
            let message = Message {
                room: publish.room.clone(),
                seq: 0,
                from: self.from.to_string(),
                ts: now.unix_ms,
                body: publish.body,
            };
            let reply = Reply::Session { session: self.shared.id.clone(), id: publish.id };
            let rules = self.hub.rules(&publish.room);
            let command = PublishCommand { message, key, rules, reply };
            self.command(Command::Publish(command), publish.id);
            return;
        }
        if self.run.as_ref().is_some_and(|run| run.room != publish.room) {
            self.flush();
        }
        let run = self.run.get_or_insert_with(|| Box::new(Run::new(publish.room, now)));
        if run.add(publish.body, key, publish.id, now) || !self.batching {
            self.flush();
        }
    }

    /// The transport gathers publishes: a publish to the room of the ones before it waits, in
    /// a run of up to [`run::MAX_RUN`](super::run::MAX_RUN), to be fanned out with them — when
    /// the client sends anything else, or when the transport calls [`Session::flush`], which
    /// it must before it waits for more input or yields its turn (`hub/run.rs`).
    pub fn batch_publishes(&mut self) {
        self.batching = true;
    }

    /// Fans out the publishes gathered, if any, and answers each (`ack`, or its error).
    pub fn flush(&mut self) {
        let Some(run) = self.run.take() else { return };
        let Run { room, messages, ids, now } = *run;
        match self.hub.publish_run(&room, &self.from, messages, now) {
            Ok(published) => {
                for (published, id) in published.into_iter().zip(ids) {
                    if published.reused {
                        self.error(ErrorCode::InvalidField, REUSED_ID, id);
                        continue;
                    }
                    let delivered = u32::try_from(published.delivered).unwrap_or(u32::MAX);
                    self.work = self.work.saturating_add(delivered);
                    if let Some(id) = id {
                        let ack = Ack { id, room: room.clone(), seq: published.seq };
                        self.reply(ServerFrame::Ack(ack));
                    }
                }
            }
            Err(full) => {
                for id in ids {
                    self.error(ErrorCode::RoomLimit, full.message(), id);
                }
            }
        }
    }

    /// Whether this connection may touch `room`: yes if it exists here, or the connection
    /// touched it lately (a shared engine's room this node does not hold); else creating it
    /// takes a token of the connection's room-creation rate, and without one the frame is
    /// refused (4020). (The hub's own cap on rooms is checked when the room is created.)
    fn may_create(&mut self, now: Now, room: &RoomName, id: Option<u64>) -> bool {
        let config = self.hub.config();
        if config.room_rate_per_sec == 0 || self.hub.has_room(room) {
            return true;
        }
        let burst = config.room_burst.max(1);
        let creations = self.creations.get_or_insert_with(|| {
            Box::new(Creations { bucket: TokenBucket::full(burst, now.ms), lately: Vec::new() })
        });
        if creations.lately.contains(room) {
            return true;
        }
        if creations.bucket.take(now.ms, config.room_rate_per_sec, burst) {
            if creations.lately.len() == LATELY {
                creations.lately.remove(0);
            }
            creations.lately.push(room.clone());
            return true;
        }
        Metrics::add(&self.hub.metrics().rooms_refused, 1);
        let message = format!(
            "room {room} does not exist, and this connection creates rooms faster than {} a \
             second",
            config.room_rate_per_sec
        );
        self.error(ErrorCode::RoomLimit, message, id);
        false
    }

    fn history(&mut self, now: Now, request: HistoryRequest) {
        if let Err(why) = self.allowed(Action::History, &request.room) {
            self.error(ErrorCode::Forbidden, why, request.id);
            return;
        }
        if request.limit == Some(0) {
            self.error(ErrorCode::InvalidField, "history limit must be at least 1", request.id);
            return;
        }
        let limit = request.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        if self.hub.engine().is_some() {
            let reply = Reply::Session { session: self.shared.id.clone(), id: request.id };
            let (room, since) = (&request.room, request.since);
            let command = self.hub.history_command(room, since, None, limit, now, reply);
            self.command(Command::History(command), request.id);
            return;
        }
        let messages = self.hub.history(&request.room, request.since, limit, now);
        self.reply(ServerFrame::History(History { room: request.room, messages, id: request.id }));
    }

    /// Whether this connection may do `action` in `room`: the server's policy, then the token's
    /// rights. `Err` holds the reason (the message of 4021 `forbidden`).
    fn allowed(&self, action: Action, room: &RoomName) -> Result<(), String> {
        self.hub.auth().allow(self.principal.as_deref(), action, room)
    }

    /// A transport verified the client's token before the protocol began (a WebSocket
    /// upgrade's `?token=`): the session is that principal's, as if its `hello` carried the
    /// token. A `hello` that carries one itself replaces it.
    pub fn preauthenticated(&mut self, principal: Box<Principal>) {
        self.principal = Some(principal);
    }

    /// Notes when the token expires, on the hub's clock, for its timer.
    fn expires_at(&self, now: Now, exp: Option<u64>) {
        let at = exp.map_or(0, |exp| {
            let left = exp.saturating_mul(1000).saturating_sub(now.unix_ms);
            now.ms.saturating_add(left).max(1)
        });
        self.shared.expires.store(at, std::sync::atomic::Ordering::Relaxed);
        self.shared.expiry_told.store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// `refresh`: a new token for the same `sub` replaces the old one in place; rooms the new
    /// rights no longer allow are left (`error` 4021, then `left` without an id). A token that
    /// does not verify, or names another `sub`, closes the connection (4009).
    fn refresh(&mut self, now: Now, refresh: Refresh) {
        let auth = self.hub.auth().clone();
        let principal = match auth.verify(&refresh.token, now.unix_ms) {
            Ok(principal) => principal,
            Err(error) => {
                self.close(ErrorCode::Unauthorized, &error.to_string());
                return;
            }
        };
        match &self.principal {
            Some(old) if old.sub == principal.sub => {}
            Some(_) => {
                self.close(ErrorCode::Unauthorized, "a refresh must be for the same sub");
                return;
            }
            None => {
                let message = "this connection has no token to refresh: reconnect with one";
                self.close(ErrorCode::Unauthorized, message);
                return;
            }
        }
        self.expires_at(now, principal.expires);
        let expires = principal.expires;
        self.principal = Some(Box::new(principal));
        self.shared.tokens.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let rooms: Vec<Arc<super::room::Room>> = lock(&self.shared.rooms).clone();
        for room in rooms {
            let name = room.name().clone();
            let Err(why) = self.allowed(Action::Subscribe, &name) else { continue };
            lock(&self.shared.rooms).retain(|r| !Arc::ptr_eq(r, &room));
            let mut overflowed = Vec::new();
            if room.leave(&self.shared.id, self.hub.config().presence_limit, &mut overflowed) {
                self.hub.engine_leave(&name, &self.shared.id);
            }
            self.hub.evict_slow(overflowed);
            self.error(ErrorCode::Forbidden, format!("{why}: the room was left"), None);
            self.reply(ServerFrame::Left(Left { room: name, id: None }));
        }
        self.reply(ServerFrame::Refreshed(Refreshed { id: refresh.id, expires }));
    }

    /// Hands a frame's work to the shared engine, which answers it; refused at once (4023)
    /// when the engine's queue is full.
    fn command(&mut self, command: Command, id: Option<u64>) {
        self.shared.queue.reserve(super::engine::IN_FLIGHT_COST);
        if let Err(refused) = self.hub.command(command) {
            self.shared.queue.release(super::engine::IN_FLIGHT_COST);
            self.error(ErrorCode::Unavailable, refused.0, id);
        }
    }

    fn error(&mut self, code: ErrorCode, message: impl Into<String>, id: Option<u64>) {
        Metrics::add(&self.hub.metrics().errors, 1);
        self.push(&Outgoing::error(code, message, id));
    }

    fn reply(&mut self, frame: ServerFrame) {
        self.push(&Outgoing::new(frame));
    }

    fn push(&mut self, frame: &Arc<Outgoing>) {
        // An answer comes after the answers to the publishes before it.
        self.flush();
        if let Push::Overflow { dropped } = self.shared.queue.push(frame) {
            self.hub.evict_slow(vec![(self.shared.id.clone(), dropped)]);
        }
    }

    /// Applies the input rate limit. A frame over it is dropped; the first one of each second
    /// is answered with `error` 4010 (one answer per second however many are dropped, so a
    /// flood cannot fill the sender's own queue with refusals).
    fn admit(&mut self, now: Now, id: Option<u64>) -> bool {
        let Some(bucket) = &mut self.rate else { return true };
        let config = self.hub.config();
        let now = now.ms;
        if bucket.take(now, config.rate_per_sec, config.rate_burst.max(1)) {
            return true;
        }
        Metrics::add(&self.hub.metrics().rate_limited, 1);
        if self.told != 0 && now.saturating_sub(self.told - 1) < TELL_EVERY_MS {
            return false;
        }
        self.told = now + 1;
        let message = format!(
            "more than {} frames per second: this frame and the others over the limit in the \
             next second are dropped, and only this one is answered",
            config.rate_per_sec
        );
        self.error(ErrorCode::RateLimited, message, id);
        false
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Publishes received are published, even from a client that then left.
        self.flush();
        self.shared.queue.finish();
        self.hub.leave_all(&self.shared);
        self.hub.unregister(&self.shared, self.transport);
    }
}

/// The refusal of a publish id reused for another body (4008).
pub(super) const REUSED_ID: &str =
    "this publish id was used before for a different body: use a new id";

/// A connection's creation of rooms: its rate, and the rooms it created lately (with a shared
/// engine a node does not hold the rooms it only publishes to, so these are not new again).
#[derive(Debug)]
struct Creations {
    bucket: TokenBucket,
    lately: Vec<RoomName>,
}

/// The rooms [`Creations::lately`] remembers.
const LATELY: usize = 16;

/// The longest `hello.client`, in bytes.
const MAX_CLIENT_KEY: usize = 128;

/// Refusals by the rate limit are answered at most once per this window, in milliseconds.
const TELL_EVERY_MS: u64 = 1000;
