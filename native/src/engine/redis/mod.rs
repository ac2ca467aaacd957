//! The Redis engine's driver: one task that owns two connections to Redis — one multiplexed
//! for the scripts, one for pub/sub — and moves the hub's [`Command`]s to Redis and Redis's
//! answers and messages back to the hub.
//!
//! - **Order.** Each publish is one script (`scripts.rs`): INCR the room's seq, XADD it to the
//!   room's history stream, PUBLISH it on the room's channel — one atomic step, so the channel
//!   carries every room's messages in seq order, to every node.
//! - **One order of effects.** Commands are sent in the order the hub queued them on one
//!   multiplexed connection (so Redis runs them in that order), and their answers are applied in
//!   that order too (`FuturesOrdered`), while many are in flight.
//! - **Mirrors.** A node listens to the channel of each room it has members in; the hub holds
//!   the room as a mirror (its seq, its history) and fans messages out as the memory engine does.
//!   A message after a gap makes the driver fetch what is missing from the stream first.
//! - **Faults.** Every request has a deadline ([`EngineConfig::timeout`]): what Redis does not
//!   answer in time is answered 4023 `unavailable`. A lost connection is retried with backoff;
//!   meanwhile commands are refused at once, `/healthz` says 503, and when the connection is
//!   back every mirror is resubscribed and filled from the stream, so members miss nothing that
//!   Redis kept.
//! - **Presence.** Members are entries with an expiry in Redis; each node writes its own again
//!   every third of the presence TTL, so a node that dies leaves the lists within one TTL.

mod scripts;
mod wire;

use std::{
    collections::{HashMap, HashSet},
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use enchufe_core::{Body, Member, Message, RoomName};
use futures_util::{StreamExt, stream::FuturesOrdered};
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use redis::Script;

use self::scripts::{Keys, Scripts};
use super::EngineConfig;
use crate::{
    clock,
    hub::{
        Applied, Command, HistoryCommand, Hub, JoinAnswer, JoinCommand, Page, PublishCommand,
        Published, RoomInfo, RoomsPage, Unavailable,
    },
    metrics::Metrics,
};

/// Commands in flight to Redis at most; further ones wait in the hub's queue.
const IN_FLIGHT: usize = 1024;
/// Messages kept per room while it is being loaded (beyond them a gap is fetched).
const WAITING: usize = 10_000;
/// The longest wait between two attempts to reach Redis.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Runs the driver until `stop`: connects, serves, reconnects.
pub async fn run(
    hub: Hub,
    config: EngineConfig,
    commands: mpsc::Receiver<Command>,
    stop: CancellationToken,
) {
    let url = config.redis_url.clone().unwrap_or_default();
    let client = match redis::Client::open(url.as_str()) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "the Redis URL does not parse; every command is refused");
            refuse_until(&hub, commands, stop).await;
            return;
        }
    };
    let mut driver = Driver {
        node: hub.engine().map(|e| e.node().clone()).unwrap_or_else(|| "node".into()),
        hub,
        config,
        client,
        commands,
        scripts: Arc::new(Scripts::new()),
        subscribed: HashSet::new(),
        loading: HashMap::new(),
        waiting: HashMap::new(),
        broken: false,
    };
    let mut backoff = Duration::from_millis(50);
    loop {
        match driver.connect().await {
            Ok((conn, sink, stream)) => {
                backoff = Duration::from_millis(50);
                driver.set_ready(true);
                tracing::info!("connected to Redis");
                let stopped = driver.serve(conn, sink, stream, &stop).await;
                driver.set_ready(false);
                if stopped {
                    return;
                }
                Metrics::add(&driver.hub.metrics().engine_errors, 1);
                tracing::warn!("lost the connection to Redis; reconnecting");
            }
            Err(error) => {
                Metrics::add(&driver.hub.metrics().engine_errors, 1);
                tracing::warn!(%error, "cannot reach Redis; retrying");
            }
        }
        // While Redis is out of reach, commands are answered 4023 at once, not left waiting.
        let until = tokio::time::Instant::now() + backoff;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep_until(until) => break,
                command = driver.commands.recv() => match command {
                    Some(command) => refuse(&driver.hub, command, "Redis is out of reach"),
                    None => return,
                },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Answers every command 4023 until `stop` (the engine cannot work at all).
async fn refuse_until(hub: &Hub, mut commands: mpsc::Receiver<Command>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            command = commands.recv() => match command {
                Some(command) => refuse(hub, command, "the Redis engine is misconfigured"),
                None => return,
            },
        }
    }
}

/// Answers `command` with 4023 `unavailable`.
fn refuse(hub: &Hub, command: Command, why: &str) {
    let why = Unavailable(why.to_owned());
    match command {
        Command::Publish(p) => hub.engine_published(&p.message.room, p.reply, Err(why)),
        Command::Join(join) => hub.engine_join_failed(&join, &why),
        Command::History(h) => hub.engine_history(h.room, h.reply, Err(why)),
        Command::Rooms { reply, .. } => {
            let _ = reply.send(Err(why));
        }
        Command::Leave { room, session, id } => {
            if let Some(id) = id {
                hub.engine_left(&room, &session, id);
            }
        }
    }
}

/// What came back from one request, applied in the order the requests were sent.
enum Done {
    Published(PublishCommand, Result<Published, redis::RedisError>),
    Joined(JoinCommand, Result<JoinAnswer, redis::RedisError>),
    History(HistoryCommand, Result<Page, redis::RedisError>),
    Rooms(RoomsReply, Result<RoomsPage, redis::RedisError>),
    /// A client's leave: the session leaves the room here now.
    Left(RoomName, Arc<str>, Option<u64>, Result<(), redis::RedisError>),
    /// A leave or a presence refresh: nothing to tell the hub.
    Quiet(Result<(), redis::RedisError>),
}

type Pending = Pin<Box<dyn Future<Output = Done> + Send>>;

struct Driver {
    hub: Hub,
    node: Arc<str>,
    config: EngineConfig,
    client: redis::Client,
    commands: mpsc::Receiver<Command>,
    scripts: Arc<Scripts>,
    /// Rooms whose channel this node listens to.
    subscribed: HashSet<RoomName>,
    /// Joins in flight per room: the hub must not forget these rooms meanwhile.
    loading: HashMap<RoomName, usize>,
    /// Messages for rooms still being loaded, applied once they are.
    waiting: HashMap<RoomName, Vec<Message>>,
    /// A request failed for the connection's sake: reconnect.
    broken: bool,
}

impl Driver {
    fn set_ready(&self, ready: bool) {
        if let Some(engine) = self.hub.engine() {
            engine.set_ready(ready);
        }
        self.hub.metrics().engine_up.store(i64::from(ready), std::sync::atomic::Ordering::Relaxed);
    }

    async fn connect(
        &self,
    ) -> redis::RedisResult<(MultiplexedConnection, PubSubSink, PubSubStream)> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.config.timeout()))
            .set_response_timeout(Some(self.config.timeout()));
        let conn = self.client.get_multiplexed_async_connection_with_config(&config).await?;
        let pubsub = tokio::time::timeout(self.config.timeout(), self.client.get_async_pubsub())
            .await
            .map_err(|_| io_error("connecting for pub/sub timed out"))??;
        let (sink, stream) = pubsub.split();
        Ok((conn, sink, stream))
    }

    /// Serves one connection until it is lost (false) or `stop` (true).
    async fn serve(
        &mut self,
        mut conn: MultiplexedConnection,
        mut sink: PubSubSink,
        mut stream: PubSubStream,
        stop: &CancellationToken,
    ) -> bool {
        self.broken = false;
        if let Err(error) = self.resynchronise(&mut conn, &mut sink).await {
            tracing::warn!(%error, "resynchronising with Redis failed");
            return false;
        }
        let mut in_flight: FuturesOrdered<Pending> = FuturesOrdered::new();
        let period = self.config.presence_ttl() / 3;
        let mut refresh = tokio::time::interval(period.max(Duration::from_millis(100)));
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return true,
                message = stream.next() => match message {
                    Some(message) => self.received(&message, &mut conn).await,
                    None => break,
                },
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    self.complete(done, &mut conn, &mut in_flight).await;
                }
                command = self.commands.recv(), if in_flight.len() < IN_FLIGHT => match command {
                    Some(command) => {
                        if let Err(error) = self.dispatch(command, &conn, &mut sink, &mut in_flight).await {
                            tracing::warn!(%error, "subscribing failed");
                            self.broken = true;
                        }
                    }
                    None => return true,
                },
                _ = refresh.tick() => {
                    self.refresh(&conn, &mut in_flight);
                    if let Err(error) = self.release(&mut sink).await {
                        tracing::warn!(%error, "unsubscribing failed");
                        self.broken = true;
                    }
                }
            }
            if self.broken {
                break;
            }
        }
        // What was in flight on the lost connection fails (each has a deadline): answered 4023.
        while let Some(done) = in_flight.next().await {
            self.complete(done, &mut conn, &mut FuturesOrdered::new()).await;
        }
        false
    }

    /// After (re)connecting: listens again to every room this node holds, and fetches what
    /// each missed from its stream. A room Redis numbered again, or whose missed messages are
    /// gone from the stream, is lost here: its members reconnect and recover.
    async fn resynchronise(
        &mut self,
        conn: &mut MultiplexedConnection,
        sink: &mut PubSubSink,
    ) -> redis::RedisResult<()> {
        self.subscribed.clear();
        for (room, epoch, seq) in self.hub.held_rooms() {
            let keys = self.keys(&room);
            self.deadline(sink.subscribe(&keys.channel)).await?;
            self.subscribed.insert(room.clone());
            let (current, _, reset, messages) = self.read_history(conn, &keys, seq, &epoch).await?;
            if current != epoch || reset {
                self.hub.engine_lost_room(&room);
                continue;
            }
            self.fill(&room, seq, messages);
        }
        Ok(())
    }

    /// Applies messages fetched from a room's stream after `seq`; if the first is not the next,
    /// the stream no longer has what this node missed, and the room is lost here.
    fn fill(&mut self, room: &RoomName, seq: u64, messages: Vec<Message>) {
        if messages.first().is_some_and(|m| m.seq > seq + 1) {
            self.hub.engine_lost_room(room);
            return;
        }
        for message in messages {
            Metrics::add(&self.hub.metrics().engine_resynced, 1);
            if let Applied::Gap(_) = self.hub.engine_message(message, clock::now()) {
                self.hub.engine_lost_room(room);
                return;
            }
        }
    }

    /// A message on a room's channel.
    async fn received(&mut self, message: &redis::Msg, conn: &mut MultiplexedConnection) {
        let Some(room) = wire::room_of(&self.config.prefix, message.get_channel_name()) else {
            return;
        };
        let payload = String::from_utf8_lossy(message.get_payload_bytes());
        match wire::event(&room, &payload) {
            Ok(wire::Event::Message(message)) => {
                let metrics = self.hub.metrics();
                Metrics::add(&metrics.engine_messages, 1);
                let lag = clock::now().unix_ms.saturating_sub(message.ts);
                Metrics::add(&metrics.engine_lag_ms, usize::try_from(lag).unwrap_or(usize::MAX));
                self.apply(message, conn).await;
            }
            Ok(wire::Event::Presence { node, presence }) => {
                if *node != *self.node {
                    self.hub.engine_presence(presence);
                }
            }
            Err(error) => {
                tracing::warn!(%error, room = %room, "a payload from Redis does not decode")
            }
        }
    }

    /// Hands a numbered message to the hub, filling a gap before it from the stream.
    async fn apply(&mut self, message: Message, conn: &mut MultiplexedConnection) {
        let room = message.room.clone();
        match self.hub.engine_message(message.clone(), clock::now()) {
            Applied::Delivered | Applied::Stale => {}
            Applied::NotHeld => {
                if self.loading.contains_key(&room) {
                    let waiting = self.waiting.entry(room).or_default();
                    if waiting.len() < WAITING {
                        waiting.push(message);
                    }
                }
            }
            Applied::Gap(after) => {
                let keys = self.keys(&room);
                let epoch = self.hub.held_rooms().into_iter().find(|(r, ..)| *r == room);
                let Some((_, epoch, _)) = epoch else { return };
                match self.read_history(conn, &keys, after, &epoch).await {
                    Ok((current, _, reset, messages)) if current == epoch && !reset => {
                        self.fill(&room, after, messages);
                    }
                    Ok(_) => self.hub.engine_lost_room(&room),
                    Err(error) => {
                        tracing::warn!(%error, "filling a gap from Redis failed");
                        self.failed(&error);
                    }
                }
            }
        }
    }

    /// Sends a command's request; a join to a room this node does not listen to yet subscribes
    /// first, so nothing published after the join's snapshot is missed.
    async fn dispatch(
        &mut self,
        command: Command,
        conn: &MultiplexedConnection,
        sink: &mut PubSubSink,
        in_flight: &mut FuturesOrdered<Pending>,
    ) -> redis::RedisResult<()> {
        match command {
            Command::Publish(publish) => {
                let request = self.publish(conn.clone(), &publish);
                in_flight.push_back(Box::pin(async move {
                    let result = request.await;
                    Done::Published(publish, result)
                }));
            }
            Command::Join(join) => {
                let room = join.join.room.clone();
                if !self.subscribed.contains(&room) {
                    let keys = self.keys(&room);
                    if let Err(error) = self.deadline(sink.subscribe(&keys.channel)).await {
                        refuse(&self.hub, Command::Join(join), "Redis did not take a subscription");
                        return Err(error);
                    }
                    self.subscribed.insert(room.clone());
                }
                // A room the hub does not hold yet comes with its stored messages.
                let load = !self.hub.has_room(&room);
                *self.loading.entry(room).or_default() += 1;
                let request = self.join(conn.clone(), &join, load);
                in_flight.push_back(Box::pin(async move {
                    let result = request.await;
                    Done::Joined(join, result)
                }));
            }
            Command::Leave { room, session, id } => {
                self.leave(conn, &room, &session, id, in_flight);
            }
            Command::Rooms { after, limit, reply } => {
                let request = rooms(conn.clone(), self.config.prefix.clone(), after, limit);
                let (metrics, timeout) = (self.hub.metrics().clone(), self.config.timeout());
                in_flight.push_back(Box::pin(async move {
                    Done::Rooms(reply, timed(&metrics, timeout, request).await)
                }));
            }
            Command::History(history) => {
                let request = self.history(conn.clone(), &history);
                in_flight.push_back(Box::pin(async move {
                    let result = request.await;
                    Done::History(history, result)
                }));
            }
        }
        Ok(())
    }

    /// Applies a request's answer to the hub.
    async fn complete(
        &mut self,
        done: Done,
        conn: &mut MultiplexedConnection,
        in_flight: &mut FuturesOrdered<Pending>,
    ) {
        match done {
            Done::Published(publish, result) => {
                let result = result.map_err(|e| self.failed(&e));
                self.hub.engine_published(&publish.message.room, publish.reply, result);
            }
            Done::Joined(join, result) => {
                let room = join.join.room.clone();
                match result {
                    Ok(answer) => {
                        let session = join.session.clone();
                        if !self.hub.engine_joined(join, answer, clock::now()) {
                            // The session went (or did not join) meanwhile: its entry goes.
                            self.leave(conn, &room, &session, None, in_flight);
                        }
                    }
                    Err(error) => {
                        let why = self.failed(&error);
                        self.hub.engine_join_failed(&join, &why);
                    }
                }
                let left = self.loading.get_mut(&room).map(|n| {
                    *n -= 1;
                    *n
                });
                if left == Some(0) {
                    self.loading.remove(&room);
                    for message in self.waiting.remove(&room).unwrap_or_default() {
                        self.apply(message, conn).await;
                    }
                }
            }
            Done::Rooms(reply, result) => {
                let _ = reply.send(result.map_err(|e| self.failed(&e)));
            }
            Done::History(history, result) => {
                let result = result.map_err(|e| self.failed(&e));
                self.hub.engine_history(history.room, history.reply, result);
            }
            Done::Left(room, session, id, result) => {
                // Done here whatever Redis said: an entry it kept expires with its TTL.
                if let Err(error) = result {
                    self.failed(&error);
                }
                self.hub.engine_left(&room, &session, id);
            }
            Done::Quiet(result) => {
                if let Err(error) = result {
                    self.failed(&error);
                }
            }
        }
    }

    /// Sends a leave: the member's presence entry goes, and the others are told.
    fn leave(
        &self,
        conn: &MultiplexedConnection,
        room: &RoomName,
        session: &str,
        id: Option<Option<u64>>,
        in_flight: &mut FuturesOrdered<Pending>,
    ) {
        let keys = self.keys(room);
        let call = self.call(|s| &s.leave).key(&keys.members).key(&keys.expiry);
        let call = call.arg(session).arg(&keys.channel).arg(&*self.node);
        let mut conn = conn.clone();
        let (room, session) = (room.clone(), Arc::<str>::from(session));
        in_flight.push_back(Box::pin(async move {
            let result = call.run::<i64>(&mut conn).await.map(drop);
            match id {
                Some(id) => Done::Left(room, session, id, result),
                None => Done::Quiet(result),
            }
        }));
    }

    /// Counts a failed request, notes whether the connection is to blame, and says why.
    fn failed(&mut self, error: &redis::RedisError) -> Unavailable {
        Metrics::add(&self.hub.metrics().engine_errors, 1);
        if error.is_io_error() || error.is_connection_dropped() || error.is_timeout() {
            self.broken = true;
        }
        Unavailable(format!("the shared store (Redis) did not answer: {error}"))
    }

    /// Writes this node's members of every room it holds again (their presence entries), and
    /// the rooms' numbering TTL.
    fn refresh(&self, conn: &MultiplexedConnection, in_flight: &mut FuturesOrdered<Pending>) {
        let ttl = ms(self.config.presence_ttl());
        for (room, members) in self.hub.local_members() {
            let keys = self.keys(&room);
            let call = self.call(|s| &s.refresh);
            let call = call.key(&keys.members).key(&keys.expiry).key(&keys.epoch).key(&keys.seq);
            let mut call = call.arg(ttl).arg(self.meta_ttl_ms()).arg(&keys.channel);
            for member in &members {
                call = call.arg(&member.session).arg(wire::member_json(member));
            }
            let mut conn = conn.clone();
            in_flight.push_back(Box::pin(async move {
                Done::Quiet(call.run::<i64>(&mut conn).await.map(drop))
            }));
        }
    }

    /// Stops listening to rooms that have no member here any more (none joining).
    async fn release(&mut self, sink: &mut PubSubSink) -> redis::RedisResult<()> {
        let loading = &self.loading;
        let released = self.hub.release_rooms(|room| loading.contains_key(room));
        for room in released {
            self.subscribed.remove(&room);
            let keys = self.keys(&room);
            self.deadline(sink.unsubscribe(&keys.channel)).await?;
        }
        Ok(())
    }

    /// A call of one of the scripts, with the engine's deadline, counted in the metrics.
    fn call(&self, script: fn(&Scripts) -> &Script) -> Call {
        Call {
            scripts: self.scripts.clone(),
            script,
            keys: Vec::new(),
            args: Vec::new(),
            metrics: self.hub.metrics().clone(),
            timeout: self.config.timeout(),
        }
    }

    fn keys(&self, room: &RoomName) -> Keys {
        Keys::new(&self.config.prefix, room.as_str())
    }

    /// The numbering's TTL: the configured one, and never shorter than the history's age.
    fn meta_ttl_ms(&self) -> u64 {
        let age = self.hub.config().history_age_secs;
        self.config.meta_ttl_secs.max(age).max(1).saturating_mul(1000)
    }

    /// A new room's epoch candidate: unique per node and moment (the script keeps the first).
    fn epoch_candidate(&self) -> String {
        let now = clock::now();
        let tag = crate::mac::Key::random().mac(&now.unix_ms.to_be_bytes());
        tag[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn publish(
        &self,
        mut conn: MultiplexedConnection,
        publish: &PublishCommand,
    ) -> impl Future<Output = redis::RedisResult<Published>> + Send + 'static {
        let keys = self.keys(&publish.message.room);
        let (id_key, hash) = match &publish.key {
            Some((client, id)) => {
                let client = hex(&crate::mac::Key::from_bytes([0; 16]).mac(client.as_bytes())[..8]);
                (keys.id(&client, *id), body_hash(&publish.message.body))
            }
            None => (keys.seq.clone(), String::new()),
        };
        let rules = publish.rules;
        let call = self.call(|s| &s.publish);
        let call = call.key(&keys.seq).key(&keys.epoch).key(&keys.history).key(&id_key);
        let call = call.key(&keys.rooms);
        let call = call
            .arg(self.epoch_candidate())
            .arg(wire::message_json(&publish.message))
            .arg(hash)
            .arg(rules.history_len)
            .arg(rules.history_age_secs.max(1).saturating_mul(1000))
            .arg(self.meta_ttl_ms())
            .arg(&keys.channel)
            .arg(publish.message.room.as_str());
        async move {
            let (seq, duplicate, reused, epoch): (u64, u8, u8, String) =
                call.run(&mut conn).await?;
            Ok(Published {
                seq,
                duplicate: duplicate == 1,
                reused: reused == 1,
                epoch: epoch.into(),
            })
        }
    }

    fn join(
        &self,
        mut conn: MultiplexedConnection,
        join: &JoinCommand,
        load: bool,
    ) -> impl Future<Output = redis::RedisResult<JoinAnswer>> + Send + 'static {
        let keys = self.keys(&join.join.room);
        let call = self.call(|s| &s.join).key(&keys.epoch).key(&keys.seq).key(&keys.history);
        let call = call.key(&keys.members).key(&keys.expiry).key(&keys.rooms);
        let call = call
            .arg(self.epoch_candidate())
            .arg(&*join.session)
            .arg(wire::member_json(&join.member))
            .arg(ms(self.config.presence_ttl()))
            .arg(if load { "1" } else { "0" })
            .arg(self.meta_ttl_ms())
            .arg(&keys.channel)
            .arg(&*self.node)
            .arg(self.hub.config().presence_limit.max(1))
            .arg(join.join.room.as_str());
        async move {
            let (epoch, seq, members, history): (String, u64, Vec<String>, Vec<String>) =
                call.run(&mut conn).await?;
            let members: Vec<Member> = members.iter().filter_map(|m| wire::member(m)).collect();
            let history = history.iter().filter_map(|m| wire::numbered(m).ok()).collect();
            Ok(JoinAnswer { epoch, seq, members, history })
        }
    }

    fn history(
        &self,
        mut conn: MultiplexedConnection,
        command: &HistoryCommand,
    ) -> impl Future<Output = redis::RedisResult<Page>> + Send + 'static {
        let keys = self.keys(&command.room);
        let call = self.call(|s| &s.history).key(&keys.epoch).key(&keys.seq).key(&keys.history);
        let call = call.arg(command.since.unwrap_or(0)).arg(command.limit.max(1));
        let call = call.arg(command.epoch.as_deref().unwrap_or(""));
        let (limit, max_bytes, oldest) = (command.limit, command.max_bytes, command.oldest_ms);
        async move {
            let (epoch, _seq, reset, messages): (String, u64, u8, Vec<String>) =
                call.run(&mut conn).await?;
            let mut bytes = 0usize;
            let mut page = Vec::new();
            for message in messages.iter().filter_map(|m| wire::numbered(m).ok()) {
                if message.ts < oldest {
                    continue;
                }
                bytes = bytes.saturating_add(message.body.len());
                if page.len() >= limit || (bytes > max_bytes && !page.is_empty()) {
                    break;
                }
                page.push(message);
            }
            let epoch = (!epoch.is_empty()).then(|| Arc::from(epoch));
            Ok(Page { epoch, reset: reset == 1, messages: page })
        }
    }

    /// Reads a room's stream after `since` as seen in `epoch`: (the room's epoch, seq, whether
    /// `since` counts elsewhere, the messages).
    async fn read_history(
        &self,
        conn: &mut MultiplexedConnection,
        keys: &Keys,
        since: u64,
        epoch: &str,
    ) -> redis::RedisResult<(String, u64, bool, Vec<Message>)> {
        let call = self.call(|s| &s.history).key(&keys.epoch).key(&keys.seq).key(&keys.history);
        let call = call.arg(since).arg(WAITING).arg(epoch);
        let (current, seq, reset, messages): (String, u64, u8, Vec<String>) =
            call.run(conn).await?;
        let messages = messages.iter().filter_map(|m| wire::numbered(m).ok()).collect();
        Ok((current, seq, reset == 1, messages))
    }

    /// A pub/sub request with the engine's deadline.
    async fn deadline(
        &self,
        request: impl Future<Output = redis::RedisResult<()>>,
    ) -> redis::RedisResult<()> {
        tokio::time::timeout(self.config.timeout(), request)
            .await
            .map_err(|_| io_error("Redis did not answer a subscription in time"))?
    }
}

/// One script call, owned, so that it can run after the driver moved on.
struct Call {
    scripts: Arc<Scripts>,
    script: fn(&Scripts) -> &Script,
    keys: Vec<String>,
    args: Vec<String>,
    metrics: Arc<Metrics>,
    timeout: Duration,
}

impl Call {
    fn key(mut self, key: &str) -> Self {
        self.keys.push(key.to_owned());
        self
    }

    fn arg(mut self, arg: impl ToString) -> Self {
        self.args.push(arg.to_string());
        self
    }

    async fn run<T: redis::FromRedisValue>(
        self,
        conn: &mut MultiplexedConnection,
    ) -> redis::RedisResult<T> {
        let mut invocation = (self.script)(&self.scripts).prepare_invoke();
        for key in &self.keys {
            invocation.key(key);
        }
        for arg in &self.args {
            invocation.arg(arg);
        }
        timed(&self.metrics, self.timeout, invocation.invoke_async(conn)).await
    }
}

/// Where a room list goes.
type RoomsReply = tokio::sync::oneshot::Sender<Result<RoomsPage, Unavailable>>;

/// A page of every node's rooms: names from the deployment's sorted set (by name, after
/// `after`), then each room's epoch, seq and member count in one pipeline. A name whose epoch
/// expired is dropped from the set.
async fn rooms(
    mut conn: MultiplexedConnection,
    prefix: String,
    after: Option<RoomName>,
    limit: usize,
) -> redis::RedisResult<RoomsPage> {
    let set = format!("{prefix}:rooms");
    let min = after.map_or_else(|| "-".to_owned(), |after| format!("({after}"));
    let mut names: Vec<String> = redis::cmd("ZRANGEBYLEX")
        .arg(&set)
        .arg(min)
        .arg("+")
        .arg("LIMIT")
        .arg(0)
        .arg(limit + 1)
        .query_async(&mut conn)
        .await?;
    let more = names.len() > limit;
    names.truncate(limit);
    let mut pipe = redis::pipe();
    for name in &names {
        let keys = Keys::new(&prefix, name);
        pipe.cmd("GET").arg(&keys.epoch).cmd("GET").arg(&keys.seq).cmd("HLEN").arg(&keys.members);
    }
    let values: Vec<(Option<String>, Option<u64>, usize)> = if names.is_empty() {
        Vec::new()
    } else {
        let flat: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
        flat.chunks(3)
            .map(|c| {
                let epoch = redis::from_redis_value(c[0].clone()).unwrap_or(None);
                let seq = redis::from_redis_value(c[1].clone()).unwrap_or(None);
                let members = redis::from_redis_value(c[2].clone()).unwrap_or(0);
                (epoch, seq, members)
            })
            .collect()
    };
    let mut page = Vec::new();
    for (name, (epoch, seq, members)) in names.into_iter().zip(values) {
        let Ok(room) = RoomName::new(name.clone()) else { continue };
        match epoch {
            Some(epoch) => page.push(RoomInfo { room, seq: seq.unwrap_or(0), epoch, members }),
            None => {
                let _: redis::RedisResult<i64> =
                    redis::cmd("ZREM").arg(&set).arg(name).query_async(&mut conn).await;
            }
        }
    }
    Ok((page, more))
}

/// A request with a deadline, its round trip counted.
async fn timed<T>(
    metrics: &Metrics,
    timeout: Duration,
    request: impl Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, request)
        .await
        .map_err(|_| io_error("Redis did not answer in time"))?;
    Metrics::add(&metrics.engine_requests, 1);
    let rtt = usize::try_from(started.elapsed().as_micros()).unwrap_or(usize::MAX);
    Metrics::add(&metrics.engine_rtt_us, rtt);
    result
}

fn io_error(why: &'static str) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(std::io::ErrorKind::TimedOut, why))
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A publish's body, hashed: a retry with the same id must carry the same body.
fn body_hash(body: &Body) -> String {
    let key = crate::mac::Key::from_bytes([0; 16]);
    let tag = match body {
        Body::Json(raw) => key.mac(&[b"j".as_slice(), raw.get().as_bytes()].concat()),
        Body::Bytes(bytes) => key.mac(&[b"b".as_slice(), bytes].concat()),
    };
    hex(&tag)
}
