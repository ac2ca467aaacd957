//! The rooms this node mirrors: messages from the channels handed to the hub in seq order, gaps
//! filled from the streams, every mirror resynchronised after a reconnect, presence entries
//! refreshed, mirrors with no member here released.

use futures_util::stream::FuturesOrdered;
use redis::aio::{MultiplexedConnection, PubSubSink};

use super::{Done, Driver, Pending, WAITING, requests::ms, wire};
use crate::{clock, hub::Applied, metrics::Metrics};
use enchufe_core::{Message, RoomName};

impl Driver {
    /// After (re)connecting: listens again to every room this node holds, and fetches what
    /// each missed from its stream. A room Redis numbered again, or whose missed messages are
    /// gone from the stream, is lost here: its members reconnect and recover.
    pub(super) async fn resynchronise(
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
    pub(super) fn fill(&mut self, room: &RoomName, seq: u64, messages: Vec<Message>) {
        if messages.first().is_some_and(|m| m.seq > seq + 1) {
            self.hub.engine_lost_room(room);
            return;
        }
        for message in messages {
            Metrics::add(&self.hub.metrics().engine_resynced, 1);
            if let Applied::Gap { .. } = self.hub.engine_message(message, clock::now()) {
                self.hub.engine_lost_room(room);
                return;
            }
        }
    }

    /// A message on a room's channel.
    pub(super) async fn received(
        &mut self,
        message: &redis::Msg,
        conn: &mut MultiplexedConnection,
    ) {
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
                if lag > self.config.max_lag_ms {
                    // The channels bring messages faster than this node fans them out, and
                    // what waits is held in memory: start over from the streams instead.
                    Metrics::add(&metrics.engine_errors, 1);
                    tracing::warn!(lag_ms = lag, "this node fell behind Redis; resynchronising");
                    self.broken = true;
                    return;
                }
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
    pub(super) async fn apply(&mut self, message: Message, conn: &mut MultiplexedConnection) {
        match self.hub.engine_message(message, clock::now()) {
            Applied::Delivered | Applied::Stale => {}
            Applied::NotHeld(message) => {
                if self.loading.contains_key(&message.room) {
                    let waiting = self.waiting.entry(message.room.clone()).or_default();
                    if waiting.len() < WAITING {
                        waiting.push(message);
                    }
                }
            }
            Applied::Gap { after, message } => {
                let room = message.room.clone();
                let keys = self.keys(&room);
                let epoch = self.hub.held_rooms().into_iter().find(|(r, ..)| *r == room);
                let Some((_, epoch, _)) = epoch else { return };
                match self.read_history(conn, &keys, after, &epoch).await {
                    Ok((current, _, reset, messages)) if current == epoch && !reset => {
                        self.fill(&room, after, messages);
                        // The stream holds it when the room keeps history; without history
                        // it is offered again, and is the next one only if nothing else was
                        // missed.
                        if let Applied::Gap { .. } = self.hub.engine_message(message, clock::now())
                        {
                            self.hub.engine_lost_room(&room);
                        }
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

    /// Writes this node's members of every room it holds again (their presence entries), and
    /// the rooms' numbering TTL.
    pub(super) fn refresh(
        &self,
        conn: &MultiplexedConnection,
        in_flight: &mut FuturesOrdered<Pending>,
    ) {
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
    pub(super) async fn release(&mut self, sink: &mut PubSubSink) -> redis::RedisResult<()> {
        let loading = &self.loading;
        let released = self.hub.release_rooms(|room| loading.contains_key(room));
        for room in released {
            self.subscribed.remove(&room);
            let keys = self.keys(&room);
            self.deadline(sink.unsubscribe(&keys.channel)).await?;
        }
        Ok(())
    }
}
