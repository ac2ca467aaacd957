//! Inputs: what the driver reports (`handle_*`), and how each server frame is applied.

use crate::{
    Ack, ClientFrame, ErrorCode, ErrorFrame, History, Joined, Left, Message, Ping, Pong,
    ServerFrame, Welcome,
};

use super::rooms::{Delivery, Gap};
use super::{Client, ConnState, Event, Output};
use crate::text::concat;

/// Inputs.
impl Client {
    /// The transport asked for by [`Output::Connect`] is open: `hello` is sent. Ignored unless
    /// an attempt is waiting for its transport.
    pub fn handle_connected(&mut self, now: u64) {
        if matches!(self.state, ConnState::Connecting { .. }) && !self.transport_open {
            self.transport_open = true;
            let hello = self.hello(None);
            self.transmit(now, hello);
        }
    }

    /// A frame arrived on the open transport. Before `welcome` only `welcome`, `challenge` and
    /// `error` mean anything; other frames, and all frames while no transport is open, are
    /// ignored. No frame, however unexpected, makes the machine panic.
    pub fn handle_frame(&mut self, now: u64, frame: ServerFrame) {
        match self.state {
            ConnState::Connecting { .. } if self.transport_open => match frame {
                ServerFrame::Welcome(welcome) => self.on_welcome(now, welcome),
                ServerFrame::Challenge(challenge) => {
                    let hello = self.hello(Some(challenge.cookie));
                    self.transmit(now, hello);
                }
                ServerFrame::Error(error) => self.on_error(now, error),
                _ => {}
            },
            ConnState::Online { .. } => {
                self.heartbeat.on_received(now);
                match frame {
                    ServerFrame::Joined(joined) => self.on_joined(now, joined),
                    ServerFrame::Left(left) => self.on_left(left),
                    ServerFrame::Message(message) => self.on_message(message),
                    ServerFrame::Presence(presence) => {
                        if self.rooms.is_wanted(&presence.room) {
                            self.emit(Event::Presence(presence));
                        }
                    }
                    ServerFrame::Ack(ack) => self.on_ack(ack),
                    ServerFrame::History(history) => self.on_history(history),
                    ServerFrame::Pong(pong) => self.on_pong(pong),
                    ServerFrame::Refreshed(refreshed) => {
                        self.token_expires = refreshed.expires;
                        self.emit(Event::Refreshed { expires: refreshed.expires });
                    }
                    ServerFrame::Error(error) => self.on_error(now, error),
                    ServerFrame::Welcome(_) | ServerFrame::Challenge(_) => {}
                }
            }
            _ => {}
        }
    }

    /// The transport closed, or failed to open. Then the client waits (backoff) and reconnects.
    /// Ignored when no transport was in use (e.g. after [`Output::Disconnect`]).
    pub fn handle_disconnected(&mut self, now: u64) {
        if matches!(self.state, ConnState::Connecting { .. } | ConnState::Online { .. }) {
            self.connection_lost(now);
        }
    }

    /// The deadline of the last [`Output::Wait`] may have passed. Does what is due at `now`:
    /// start an attempt after the backoff delay, give up an attempt that took too long, send a
    /// `ping`, or declare a silent connection dead. Calling it early, or twice, does nothing.
    pub fn handle_timeout(&mut self, now: u64) {
        match self.state {
            ConnState::Waiting { until, .. } if now >= until => self.start_attempt(now),
            ConnState::Connecting { .. } if now >= self.attempt_deadline => {
                self.out.push_back(Output::Disconnect);
                self.connection_lost(now);
            }
            ConnState::Online { .. } if now >= self.heartbeat.dead_at() => {
                self.out.push_back(Output::Disconnect);
                self.connection_lost(now);
            }
            ConnState::Online { .. } if now >= self.heartbeat.ping_at() => {
                self.transmit(now, ClientFrame::Ping(Ping { id: None }));
            }
            _ => {}
        }
        if matches!(self.state, ConnState::Online { .. }) && self.retry.due(now) {
            self.retry_now(now);
        }
    }

    /// Sends again what the server could not do for now (4023): the publishes still waiting
    /// for their ack (same ids, so a retry of one that was done is acknowledged once), and the
    /// joins of rooms still wanted.
    fn retry_now(&mut self, now: u64) {
        let (publishes, rooms) = self.retry.take();
        for id in publishes {
            if let Some(frame) = self.outbox.get(id).map(|p| p.frame()) {
                self.transmit(now, frame);
            }
        }
        for room in rooms {
            if let Some(frame) = self.rooms.join_frame(&room) {
                self.transmit(now, frame);
            }
        }
    }
}

/// Applying what happened.
impl Client {
    /// The transport is gone (closed, failed, timed out or dead): wait, then retry.
    fn connection_lost(&mut self, now: u64) {
        self.transport_open = false;
        // A new connection sends the outbox and every join again anyway.
        self.retry.take();
        self.rooms.connection_lost();
        for (id, room) in self.requests.drain_leaves() {
            self.emit(Event::Left { id, room });
        }
        // A server that refused the connection as busy said how long to stay away.
        let delay =
            self.backoff.next_delay(&mut self.rng).max(core::mem::take(&mut self.retry_not_before));
        let until = now.saturating_add(delay);
        self.set_state(ConnState::Waiting { until, attempt: self.backoff.failures() });
    }

    fn on_welcome(&mut self, now: u64, welcome: Welcome) {
        self.backoff.reset();
        self.heartbeat.start(now, welcome.heartbeat_ms);
        self.limits = Some(welcome.limits);
        self.token_expires = welcome.expires;
        self.set_state(ConnState::Online { session: welcome.session });
        // Publishes that the server announced it would refuse never go out.
        let refused = self.outbox.remove_where(|p| {
            self.limits.as_ref().is_some_and(|l| p.body.len() > l.max_frame as usize)
        });
        for publish in refused {
            self.fail_too_large(publish);
        }
        // Joins first, so that the client's own publishes into a wanted room reach it too.
        let mut frames = self.rooms.join_frames();
        frames.extend(self.requests.history_frames());
        frames.extend(self.outbox.iter().map(|p| p.frame()));
        for frame in frames {
            self.transmit(now, frame);
        }
    }

    fn on_joined(&mut self, now: u64, joined: Joined) {
        // (`self.next_id()` cannot be called while `self.rooms` is borrowed.)
        let Some(outcome) = self.rooms.on_joined(&joined, || {
            self.last_id += 1;
            self.last_id
        }) else {
            return;
        };
        let reset = outcome
            .reset
            .then(|| Event::Reset { room: joined.room.clone(), epoch: joined.epoch.clone() });
        for id in outcome.ids {
            self.emit(Event::Joined {
                id,
                room: joined.room.clone(),
                seq: joined.seq,
                members: joined.members.clone(),
                recovered: joined.recovered,
            });
        }
        if let Some(reset) = reset {
            self.emit(reset);
        }
        if let Some(barrier) = outcome.barrier {
            self.transmit(now, ClientFrame::Ping(Ping { id: Some(barrier) }));
        }
    }

    fn on_left(&mut self, left: Left) {
        // A `left` nobody asked for: the server removed this client from the room (a refreshed
        // token no longer allows it; an `error` 4021 said so). It is no longer wanted, so a
        // reconnect does not join it again; pending joins of it fail.
        let Some(id) = left.id else {
            for id in self.rooms.unwant(&left.room) {
                let message = concat(&["removed from room ", left.room.as_str()]);
                let code = ErrorCode::Forbidden.code();
                self.emit(Event::RequestFailed { id, code, message });
            }
            return;
        };
        if let Some(room) = self.requests.take_leave(id) {
            self.emit(Event::Left { id, room });
        }
    }

    fn on_message(&mut self, message: Message) {
        match self.rooms.on_message(&message) {
            Delivery::Drop => {}
            Delivery::Deliver(gap) => {
                if let Some(gap) = gap {
                    self.emit_gap(gap);
                }
                self.emit(Event::Message(message));
            }
        }
    }

    fn on_ack(&mut self, ack: Ack) {
        // An ack for an unknown id is the second ack of a retried publish: nothing to do.
        if let Some(publish) = self.outbox.remove(ack.id) {
            self.emit(Event::Ack { id: publish.id, room: publish.room, seq: ack.seq });
        }
    }

    fn on_history(&mut self, history: History) {
        if let Some(id) = history.id.filter(|&id| self.requests.take_history(id).is_some()) {
            self.emit(Event::History { id, room: history.room, messages: history.messages });
        }
    }

    fn on_pong(&mut self, pong: Pong) {
        if let Some(id) = pong.id {
            for gap in self.rooms.on_pong(id) {
                self.emit_gap(gap);
            }
        }
    }

    /// An `error`. The rules:
    /// - `unauthorized` and `unsupported_version`: reconnecting cannot help, so the client
    ///   reports it and closes (pending work fails with the server's code).
    /// - Answering a publish: the publish fails and leaves the outbox, unless the code is fatal
    ///   (the connection is closing for a reason of its own): then it stays for the retry on the
    ///   next connection. `too_large` is the exception — the publish itself is the problem.
    /// - Answering a history, leave or join (a fatal code keeps the request, as for publishes):
    ///   [`Event::RequestFailed`]; a refused join also un-wants the room.
    /// - Anything else (no id, an unknown id, fatal codes): [`Event::Error`]. After a fatal code
    ///   the server closes the connection, and the driver's `handle_disconnected` reconnects.
    fn on_error(&mut self, now: u64, error: ErrorFrame) {
        let code = error.error_code();
        // The server could not do it for now (its shared store is out of reach): a publish
        // stays in the outbox and a join keeps its room wanted; both are sent again later.
        if let (Some(ErrorCode::Unavailable), Some(id)) = (code, error.id) {
            if self.outbox.contains(id) {
                self.retry.publish(id, now);
                return;
            }
            if let Some(room) = self.rooms.joining(id).cloned() {
                self.retry.join(room, now);
                return;
            }
        }
        if matches!(code, Some(ErrorCode::Unauthorized | ErrorCode::UnsupportedVersion)) {
            self.emit(Event::Error { code: error.code, message: error.message.clone() });
            self.shut_down(error.code, error.message);
            return;
        }
        if code == Some(ErrorCode::ServerBusy) {
            self.retry_not_before = crate::error_code::SERVER_BUSY_RETRY_MS;
        }
        let fatal = code.is_some_and(ErrorCode::is_fatal);
        if let Some(id) = error.id {
            if self.outbox.contains(id) && (!fatal || code == Some(ErrorCode::TooLarge)) {
                if let Some(publish) = self.outbox.remove(id) {
                    self.emit(Event::PublishFailed {
                        id,
                        room: publish.room,
                        code: error.code,
                        message: error.message,
                    });
                }
                return;
            }
            let answered = !fatal
                && (self.requests.take_history(id).is_some()
                    || self.requests.take_leave(id).is_some());
            // A refused join un-wants its room, failing the room's other pending joins too.
            let refused = if fatal || answered { None } else { self.rooms.refuse(id) };
            if answered || refused.is_some() {
                for other in refused.unwrap_or_default() {
                    let (code, message) = (error.code, error.message.clone());
                    self.emit(Event::RequestFailed { id: other, code, message });
                }
                self.emit(Event::RequestFailed { id, code: error.code, message: error.message });
                return;
            }
        }
        self.emit(Event::Error { code: error.code, message: error.message });
    }

    fn emit_gap(&mut self, gap: Gap) {
        self.emit(Event::Gap { room: gap.room, from: gap.from, to: gap.to });
    }
}
