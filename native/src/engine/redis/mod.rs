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
//!
//! Files: this one the driver's loop (connect, dispatch, complete); `mirrors.rs` the rooms this
//! node mirrors (messages in, gaps filled, resynchronising, presence upkeep); `requests.rs` each
//! request to Redis; `scripts.rs` the Lua scripts and keys; `wire.rs` what is stored and
//! published.

mod mirrors;
mod requests;
mod scripts;
mod wire;

use std::{
    collections::{HashMap, HashSet},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use enchufe_core::{Message, RoomName};
use futures_util::{StreamExt, stream::FuturesOrdered};
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use self::{
    requests::{RoomsReply, io_error, rooms, timed},
    scripts::Scripts,
};
use super::EngineConfig;
use crate::{
    clock,
    hub::{
        Command, HistoryCommand, Hub, JoinAnswer, JoinCommand, Page, PublishCommand, Published,
        RoomsPage, Unavailable,
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

    /// Counts a failed request, notes whether the connection is to blame, and says why.
    fn failed(&mut self, error: &redis::RedisError) -> Unavailable {
        Metrics::add(&self.hub.metrics().engine_errors, 1);
        if error.is_io_error() || error.is_connection_dropped() || error.is_timeout() {
            self.broken = true;
        }
        Unavailable(format!("the shared store (Redis) did not answer: {error}"))
    }
}
