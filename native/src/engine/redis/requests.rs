//! Each request to Redis: the script calls (with the engine's deadline, counted in the
//! metrics), the room list's pipeline, and what their answers become.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use enchufe_core::{Body, Member, Message, RoomName};
use futures_util::stream::FuturesOrdered;
use redis::{Script, aio::MultiplexedConnection};

use super::{
    Done, Driver, Pending, WAITING,
    scripts::{Keys, Scripts},
    wire,
};
use crate::{
    clock,
    hub::{
        HistoryCommand, JoinAnswer, JoinCommand, Page, PublishCommand, Published, RoomInfo,
        RoomsPage, Unavailable,
    },
    metrics::Metrics,
};

impl Driver {
    /// Sends a leave: the member's presence entry goes, and the others are told.
    pub(super) fn leave(
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

    /// A call of one of the scripts, with the engine's deadline, counted in the metrics.
    pub(super) fn call(&self, script: fn(&Scripts) -> &Script) -> Call {
        Call {
            scripts: self.scripts.clone(),
            script,
            keys: Vec::new(),
            args: Vec::new(),
            metrics: self.hub.metrics().clone(),
            timeout: self.config.timeout(),
        }
    }

    pub(super) fn keys(&self, room: &RoomName) -> Keys {
        Keys::new(&self.config.prefix, room.as_str())
    }

    /// The numbering's TTL: the configured one, and never shorter than the history's age.
    pub(super) fn meta_ttl_ms(&self) -> u64 {
        let age = self.hub.config().history_age_secs;
        self.config.meta_ttl_secs.max(age).max(1).saturating_mul(1000)
    }

    /// A new room's epoch candidate: unique per node and moment (the script keeps the first).
    pub(super) fn epoch_candidate(&self) -> String {
        let now = clock::now();
        let tag = crate::mac::Key::random().mac(&now.unix_ms.to_be_bytes());
        tag[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(super) fn publish(
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
                delivered: 0,
            })
        }
    }

    pub(super) fn join(
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

    pub(super) fn history(
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
    pub(super) async fn read_history(
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
    pub(super) async fn deadline(
        &self,
        request: impl Future<Output = redis::RedisResult<()>>,
    ) -> redis::RedisResult<()> {
        tokio::time::timeout(self.config.timeout(), request)
            .await
            .map_err(|_| io_error("Redis did not answer a subscription in time"))?
    }
}

/// One script call, owned, so that it can run after the driver moved on.
pub(super) struct Call {
    scripts: Arc<Scripts>,
    script: fn(&Scripts) -> &Script,
    keys: Vec<String>,
    args: Vec<String>,
    metrics: Arc<Metrics>,
    timeout: Duration,
}

impl Call {
    pub(super) fn key(mut self, key: &str) -> Self {
        self.keys.push(key.to_owned());
        self
    }

    pub(super) fn arg(mut self, arg: impl ToString) -> Self {
        self.args.push(arg.to_string());
        self
    }

    pub(super) async fn run<T: redis::FromRedisValue>(
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
pub(super) type RoomsReply = tokio::sync::oneshot::Sender<Result<RoomsPage, Unavailable>>;

/// A page of every node's rooms: names from the deployment's sorted set (by name, after
/// `after`), then each room's epoch, seq and member count in one pipeline. A name whose epoch
/// expired is dropped from the set.
pub(super) async fn rooms(
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
pub(super) async fn timed<T>(
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

pub(super) fn io_error(why: &'static str) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(std::io::ErrorKind::TimedOut, why))
}

pub(super) fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A publish's body, hashed: a retry with the same id must carry the same body.
pub(super) fn body_hash(body: &Body) -> String {
    let key = crate::mac::Key::from_bytes([0; 16]);
    let tag = match body {
        Body::Json(raw) => key.mac(&[b"j".as_slice(), raw.get().as_bytes()].concat()),
        Body::Bytes(bytes) => key.mac(&[b"b".as_slice(), bytes].concat()),
    };
    hex(&tag)
}
