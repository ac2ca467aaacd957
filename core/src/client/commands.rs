//! Commands: what the application asks of the [`Client`].

use crate::prelude::*;
use crate::{
    Body, ClientFrame, ErrorCode, Hello, HistoryRequest, Leave, PROTOCOL_VERSION, Refresh, RoomName,
};

use super::outbox::PendingPublish;
use super::{Client, ClientError, ConnState, Event, Output};
use crate::text::{concat, decimal};

/// Commands.
impl Client {
    /// Starts connecting ([`Output::Connect`] follows). From [`ConnState::Idle`] or
    /// [`ConnState::Closed`]; a no-op while connecting, online or waiting to retry.
    pub fn connect(&mut self, now: u64) {
        if matches!(self.state, ConnState::Idle | ConnState::Closed) {
            self.backoff.reset();
            self.start_attempt(now);
        }
    }

    /// Wants `room`: joins it now if online, else when next online, and re-joins it after every
    /// reconnect. `since` is the last seq the application has already seen (it gets every later
    /// message the server still holds); without it, messages start from the join. Joining a room
    /// already wanted sends `join` again (its `joined` and replay follow; duplicates are dropped).
    ///
    /// Returns the join id, reported by [`Event::Joined`] (on this and every later re-join) or
    /// [`Event::RequestFailed`] (the server refused: the room is no longer wanted).
    pub fn join(&mut self, now: u64, room: RoomName, since: Option<u64>) -> u64 {
        let id = self.next_id();
        self.rooms.want(room.clone(), id, since);
        if self.state.is_online() {
            if let Some(frame) = self.rooms.join_frame(&room) {
                self.transmit(now, frame);
            }
        }
        id
    }

    /// No longer wants `room`: its messages are dropped from now on and it is not re-joined.
    /// Returns the leave id, reported by [`Event::Left`] (at once when offline) or
    /// [`Event::RequestFailed`] (e.g. 4007 `not_joined`).
    pub fn leave(&mut self, now: u64, room: RoomName) -> u64 {
        let id = self.next_id();
        for join_id in self.rooms.unwant(&room) {
            self.emit(Event::RequestFailed {
                id: join_id,
                code: ErrorCode::Closed.code(),
                message: concat(&["left ", room.as_str(), " before the join was answered"]),
            });
        }
        if self.state.is_online() {
            self.requests.add_leave(id, room.clone());
            self.transmit(now, ClientFrame::Leave(Leave { room, id: Some(id) }));
        } else {
            self.emit(Event::Left { id, room });
        }
        id
    }

    /// Publishes `body` into `room` (joining it is not needed). The publish waits in the outbox
    /// — sent now if online, else when next online, and re-sent with the same id after every
    /// reconnect — until [`Event::Ack`] or [`Event::PublishFailed`].
    ///
    /// Returns the publish id. When the outbox already holds
    /// [`outbox_capacity`](super::ClientConfig::outbox_capacity) publishes, the publish is not
    /// queued: the result is [`ClientError::OutboxFull`] and an [`Event::PublishFailed`] with
    /// code 4016 `outbox_full` is emitted too (for event-driven UIs). A body larger than the
    /// server's announced `max_frame` fails at once with 4003 `too_large`: sending it would only
    /// get the connection closed, again after every reconnect.
    pub fn publish(&mut self, now: u64, room: RoomName, body: Body) -> Result<u64, ClientError> {
        let id = self.next_id();
        if self.too_large(&body) {
            self.fail_too_large(PendingPublish { id, room, body });
            return Ok(id);
        }
        let publish = PendingPublish { id, room, body };
        let frame = self.state.is_online().then(|| publish.frame());
        if let Err(refused) = self.outbox.push(publish) {
            let capacity = self.outbox.capacity();
            self.emit(Event::PublishFailed {
                id,
                room: refused.room,
                code: ErrorCode::OutboxFull.code(),
                message: concat(&[
                    "the outbox already holds ",
                    &decimal(capacity as u64),
                    " unacknowledged publishes",
                ]),
            });
            return Err(ClientError::OutboxFull { id, capacity });
        }
        if let Some(frame) = frame {
            self.transmit(now, frame);
        }
        Ok(id)
    }

    /// Asks for stored messages of `room` with seq > `since` (the oldest stored when `None`),
    /// at most `limit` (the server caps it). Sent now if online, else when next online, and
    /// re-sent after a reconnect until answered. Returns the request id, reported by
    /// [`Event::History`] or [`Event::RequestFailed`].
    pub fn history(
        &mut self,
        now: u64,
        room: RoomName,
        since: Option<u64>,
        limit: Option<u32>,
    ) -> u64 {
        let id = self.next_id();
        let frame = self.requests.add_history(HistoryRequest { room, since, limit, id: Some(id) });
        if self.state.is_online() {
            self.transmit(now, frame);
        }
        id
    }

    /// Ends the session: closes the transport ([`Output::Disconnect`]) and does not reconnect.
    /// When online, a `leave` for every wanted room goes out first, so the other members see
    /// this client leave at once even on UDP, where no stream end tells the server (the leaves
    /// are not answered: no [`Event::Left`]). What is pending fails with code 4018 `closed` —
    /// each publish still in the outbox (it may or may not have been delivered), each
    /// unanswered history request and join — and pending leaves complete. The client forgets
    /// its rooms; [`connect`](Client::connect) starts over from an empty state (ids keep
    /// counting).
    pub fn close(&mut self, now: u64) {
        if self.state.is_online() {
            let leaves: Vec<ClientFrame> = self
                .rooms
                .names()
                .map(|room| ClientFrame::Leave(Leave { room: room.clone(), id: None }))
                .collect();
            for leave in leaves {
                self.transmit(now, leave);
            }
        }
        self.shut_down(ErrorCode::Closed.code(), "the client was closed".into());
    }

    /// Replaces the token: every later `hello` carries it, and an online connection sends it
    /// now in a `refresh` (the server answers `refreshed`, reported as [`Event::Refreshed`], or
    /// refuses it with `error` 4009 and closes). Call it before the token in use expires
    /// ([`Client::token_expires`]), or when the server says 4022 `token_expired`.
    pub fn refresh(&mut self, now: u64, token: String) {
        self.config.token = Some(token.clone());
        if self.state.is_online() {
            self.transmit(now, ClientFrame::Refresh(Refresh { token, id: None }));
        }
    }
}

/// Steps shared by commands and inputs.
impl Client {
    /// Starts a connection attempt: `Connecting`, then [`Output::Connect`].
    pub(super) fn start_attempt(&mut self, now: u64) {
        self.transport_open = false;
        self.attempt_deadline = now.saturating_add(self.config.connect_timeout_ms);
        self.set_state(ConnState::Connecting { attempt: self.backoff.failures() });
        self.out.push_back(Output::Connect);
    }

    /// The `hello` that opens every connection.
    pub(super) fn hello(&self, cookie: Option<String>) -> ClientFrame {
        ClientFrame::Hello(Hello {
            v: PROTOCOL_VERSION,
            name: self.config.name.clone(),
            token: self.config.token.clone(),
            client: Some(self.config.client_id.clone()),
            cookie,
            batch: self.config.batch,
            ..Hello::default()
        })
    }

    /// Whether the server certainly refuses `body` (its size alone exceeds `max_frame`).
    pub(super) fn too_large(&self, body: &Body) -> bool {
        self.limits.as_ref().is_some_and(|l| body.len() > l.max_frame as usize)
    }

    pub(super) fn fail_too_large(&mut self, publish: PendingPublish) {
        let max = self.limits.as_ref().map_or(0, |l| l.max_frame);
        self.emit(Event::PublishFailed {
            id: publish.id,
            room: publish.room,
            code: ErrorCode::TooLarge.code(),
            message: concat(&[
                "a body of ",
                &decimal(publish.body.len() as u64),
                " bytes exceeds the server's ",
                &decimal(max.into()),
            ]),
        });
    }

    /// Goes to `Closed` (from any state but `Closed`), failing what is pending with `code`.
    pub(super) fn shut_down(&mut self, code: u16, message: String) {
        match self.state {
            ConnState::Closed => return,
            ConnState::Connecting { .. } | ConnState::Online { .. } => {
                self.out.push_back(Output::Disconnect);
            }
            ConnState::Idle | ConnState::Waiting { .. } => {}
        }
        self.transport_open = false;
        let failed: Vec<PendingPublish> = self.outbox.drain().collect();
        for p in failed {
            self.emit(Event::PublishFailed {
                id: p.id,
                room: p.room,
                code,
                message: message.clone(),
            });
        }
        let mut ids: Vec<u64> =
            self.requests.drain_history().into_iter().map(|(id, _)| id).collect();
        ids.extend(self.rooms.clear());
        // In id order, the order they were asked in. The lowest first, n times over: a handful
        // of ids, and no sort routine in the browser package (a few KB).
        while let Some(lowest) = (0..ids.len()).min_by_key(|&i| ids[i]) {
            let id = ids.swap_remove(lowest);
            self.emit(Event::RequestFailed { id, code, message: message.clone() });
        }
        for (id, room) in self.requests.drain_leaves() {
            self.emit(Event::Left { id, room });
        }
        self.set_state(ConnState::Closed);
    }
}
