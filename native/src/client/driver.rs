//! The background task that drives the core [`Client`](CoreClient) state machine: it owns the
//! transport, the timer and the clock, and talks to the [`Client`](super::Client) handles over
//! bounded channels.
//!
//! Its loop is the one documented on the core machine: drain every output (open or close a
//! connection, write a frame, hand an event on), then wait for whichever comes first — a command
//! from a handle, an input from the connection, the deadline of the last `Output::Wait`, or room
//! in the event channel — and feed it in with `now`, the milliseconds since the driver started
//! on tokio's monotonic clock (so tests can pause and advance time).

use std::collections::{HashMap, VecDeque};

use enchufe_core::{
    Body, ErrorCode, Message, RoomName,
    client::{Client as CoreClient, ClientError, ConnState, Event as CoreEvent, Output},
};
use tokio::{
    sync::{mpsc, oneshot, watch},
    time::{Instant, sleep_until},
};

use super::{
    Endpoint, Error, Event, JoinInfo, TransportError,
    transport::{Connection, Dial, Input, Retiring, SendError},
};

/// A request from a handle.
#[derive(Debug)]
pub(crate) enum Command {
    Join { room: RoomName, since: Option<u64>, reply: Reply<JoinInfo> },
    Leave { room: RoomName, reply: Reply<()> },
    Publish { room: RoomName, body: Body, reply: Reply<u64> },
    History { room: RoomName, since: Option<u64>, limit: Option<u32>, reply: Reply<Vec<Message>> },
    LastSeq { room: RoomName, reply: oneshot::Sender<Option<u64>> },
    Close { reply: oneshot::Sender<()> },
    Refresh { token: String },
}

/// Where the answer to a request goes.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// A request waiting for the machine's answer event, by id. The table is only that: the machine
/// answers every id exactly once (two joins of one room in flight each get their `Joined`), so
/// nothing here knows about rooms.
#[derive(Debug)]
enum Pending {
    Join(Reply<JoinInfo>),
    Leave(Reply<()>),
    Publish(Reply<u64>),
    History(Reply<Vec<Message>>),
}

impl Pending {
    fn fail(self, error: Error) {
        // A caller that stopped waiting (dropped its future) is not an error.
        match self {
            Pending::Join(reply) => drop(reply.send(Err(error))),
            Pending::Leave(reply) => drop(reply.send(Err(error))),
            Pending::Publish(reply) => drop(reply.send(Err(error))),
            Pending::History(reply) => drop(reply.send(Err(error))),
        }
    }
}

/// What woke the driver up.
enum Step {
    /// Room in the event channel (`None`: the channel is closed).
    Room(Option<mpsc::OwnedPermit<Event>>),
    /// A command (`None`: every handle is gone).
    Command(Option<Command>),
    Input(Input),
    Timeout,
}

/// The channels a driver serves, made by [`Client`](super::Client).
pub(crate) struct Channels {
    pub(crate) commands: mpsc::Receiver<Command>,
    pub(crate) events: mpsc::Sender<Event>,
    pub(crate) state: watch::Sender<ConnState>,
    /// Resolved once: `Ok` when first online, the error when the first attempt fails.
    pub(crate) first: oneshot::Sender<Result<(), Error>>,
}

/// The driver task's state.
pub(crate) struct Driver {
    machine: CoreClient,
    endpoint: Endpoint,
    dial: Dial,
    start: Instant,
    commands: mpsc::Receiver<Command>,
    inputs_tx: mpsc::Sender<Input>,
    inputs: mpsc::Receiver<Input>,
    events: mpsc::Sender<Event>,
    /// Events the event channel had no room for; while any wait, transport input is not read.
    backlog: VecDeque<Event>,
    state: watch::Sender<ConnState>,
    first: Option<oneshot::Sender<Result<(), Error>>>,
    /// Why the last connection failed, or what the server refused, for the first outcome.
    last_failure: Option<Error>,
    conn: Option<Connection>,
    next_conn: u64,
    retiring: Vec<Retiring>,
    pending: HashMap<u64, Pending>,
    closers: Vec<oneshot::Sender<()>>,
    /// All handles are gone: close and stop.
    orphaned: bool,
}

impl Driver {
    /// A driver for `machine`, connecting to `endpoint`.
    pub(crate) fn new(
        machine: CoreClient,
        endpoint: Endpoint,
        dial: Dial,
        channels: Channels,
    ) -> Self {
        let (inputs_tx, inputs) = mpsc::channel(256);
        Driver {
            machine,
            endpoint,
            dial,
            start: Instant::now(),
            commands: channels.commands,
            inputs_tx,
            inputs,
            events: channels.events,
            backlog: VecDeque::new(),
            state: channels.state,
            first: Some(channels.first),
            last_failure: None,
            conn: None,
            next_conn: 0,
            retiring: Vec::new(),
            pending: HashMap::new(),
            closers: Vec::new(),
            orphaned: false,
        }
    }

    /// Runs until the client is closed (by a handle, by the server's refusal, or because every
    /// handle was dropped).
    pub(crate) async fn run(mut self) {
        let now = self.now();
        self.machine.connect(now);
        loop {
            let deadline = self.drain();
            if matches!(self.machine.state(), ConnState::Closed) {
                break;
            }
            let wake = deadline.map(|ms| self.start + std::time::Duration::from_millis(ms));
            let events = self.events.clone();
            let step = tokio::select! {
                biased;
                permit = events.reserve_owned(), if !self.backlog.is_empty() => {
                    Step::Room(permit.ok())
                }
                command = self.commands.recv(), if !self.orphaned => Step::Command(command),
                Some(input) = self.inputs.recv(), if self.backlog.is_empty() => Step::Input(input),
                () = sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                    Step::Timeout
                }
            };
            let now = self.now();
            match step {
                Step::Room(Some(permit)) => {
                    if let Some(event) = self.backlog.pop_front() {
                        permit.send(event);
                    }
                }
                // Nobody can read events any more.
                Step::Room(None) => self.backlog.clear(),
                Step::Command(Some(command)) => self.command(command),
                Step::Command(None) => {
                    self.orphaned = true;
                    self.machine.close(now);
                }
                Step::Input(input) => self.input(input),
                Step::Timeout => self.machine.handle_timeout(now),
            }
        }
        self.shut_down().await;
    }

    /// Milliseconds since the driver started.
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Carries out every output of the machine; returns the deadline of the final `Wait`.
    fn drain(&mut self) -> Option<u64> {
        loop {
            match self.machine.poll_output() {
                Output::Connect => self.connect(),
                Output::Transmit(frame) => {
                    let sent = self.conn.as_ref().map(|conn| conn.send(frame));
                    if sent == Some(Err(SendError::Full)) {
                        // The transport stopped draining: treat it as dead and reconnect.
                        tracing::warn!(endpoint = %self.endpoint, "transport not draining");
                        self.retire();
                        let now = self.now();
                        self.machine.handle_disconnected(now);
                    }
                }
                Output::Disconnect => self.retire(),
                Output::Event(event) => self.event(event),
                Output::Wait(deadline) => return deadline,
            }
        }
    }

    fn connect(&mut self) {
        self.retire();
        self.next_conn += 1;
        let inputs = self.inputs_tx.clone();
        let conn = Connection::open(self.next_conn, &self.endpoint, &self.dial, inputs);
        self.conn = Some(conn);
    }

    /// Abandons the current connection, if any (it closes gracefully in the background).
    fn retire(&mut self) {
        self.retiring.retain(|r| !r.reap());
        if let Some(conn) = self.conn.take() {
            self.retiring.push(conn.retire());
        }
    }

    fn command(&mut self, command: Command) {
        let now = self.now();
        match command {
            Command::Join { room, since, reply } => {
                let id = self.machine.join(now, room, since);
                self.pending.insert(id, Pending::Join(reply));
            }
            Command::Leave { room, reply } => {
                let id = self.machine.leave(now, room);
                self.pending.insert(id, Pending::Leave(reply));
            }
            Command::Publish { room, body, reply } => {
                let id = match self.machine.publish(now, room, body) {
                    Ok(id) | Err(ClientError::OutboxFull { id, .. }) => id,
                    Err(error) => {
                        let code = ErrorCode::Internal.code();
                        let _ =
                            reply.send(Err(Error::Refused { code, message: error.to_string() }));
                        return;
                    }
                };
                // A refused publish's `PublishFailed` event is already queued: it resolves this.
                self.pending.insert(id, Pending::Publish(reply));
            }
            Command::History { room, since, limit, reply } => {
                let id = self.machine.history(now, room, since, limit);
                self.pending.insert(id, Pending::History(reply));
            }
            Command::LastSeq { room, reply } => {
                let _ = reply.send(self.machine.last_seq(&room));
            }
            Command::Close { reply } => {
                self.closers.push(reply);
                self.machine.close(now);
            }
            Command::Refresh { token } => self.machine.refresh(now, token),
        }
    }

    fn input(&mut self, input: Input) {
        let now = self.now();
        let current = self.conn.as_ref().map(Connection::id);
        match input {
            Input::Connected { conn } if Some(conn) == current => {
                self.machine.handle_connected(now)
            }
            Input::Frame { conn, frame } if Some(conn) == current => {
                self.machine.handle_frame(now, frame);
            }
            Input::Closed { conn, error } if Some(conn) == current => {
                if let Some(error) = &error {
                    tracing::debug!(endpoint = %self.endpoint, %error, "transport closed");
                }
                let source = error.unwrap_or_else(|| {
                    let eof = std::io::ErrorKind::UnexpectedEof;
                    TransportError::Io(std::io::Error::new(eof, "the server closed the connection"))
                });
                self.last_failure = Some(Error::Connect { url: self.endpoint.to_string(), source });
                self.retire();
                self.machine.handle_disconnected(now);
            }
            // What an abandoned connection still delivers.
            Input::Connected { .. } | Input::Frame { .. } | Input::Closed { .. } => {}
        }
    }

    /// Routes one machine event: answers resolve the pending request, the rest go to the
    /// application.
    fn event(&mut self, event: CoreEvent) {
        match event {
            CoreEvent::State(state) => {
                self.first_outcome(&state);
                self.state.send_replace(state.clone());
                self.emit(Event::State(state));
            }
            CoreEvent::Joined { id, room, seq, members, recovered } => {
                let info = JoinInfo { room, seq, members, recovered };
                if let Some(Pending::Join(reply)) = self.pending.remove(&id) {
                    let _ = reply.send(Ok(info.clone()));
                }
                self.emit(Event::Joined(info));
            }
            CoreEvent::Left { id, .. } => {
                if let Some(Pending::Leave(reply)) = self.pending.remove(&id) {
                    let _ = reply.send(Ok(()));
                }
            }
            CoreEvent::Message(message) => self.emit(Event::Message(message)),
            CoreEvent::Gap { room, from, to } => self.emit(Event::Gap { room, from, to }),
            CoreEvent::Reset { room, epoch } => self.emit(Event::Reset { room, epoch }),
            CoreEvent::Presence(presence) => self.emit(Event::Presence(presence)),
            CoreEvent::Ack { id, seq, .. } => {
                if let Some(Pending::Publish(reply)) = self.pending.remove(&id) {
                    let _ = reply.send(Ok(seq));
                }
            }
            CoreEvent::History { id, messages, .. } => {
                if let Some(Pending::History(reply)) = self.pending.remove(&id) {
                    let _ = reply.send(Ok(messages));
                }
            }
            CoreEvent::PublishFailed { id, code, message, .. } => {
                if let Some(pending) = self.pending.remove(&id) {
                    pending.fail(Error::Refused { code, message });
                }
            }
            CoreEvent::RequestFailed { id, code, message } => match self.pending.remove(&id) {
                Some(pending) => pending.fail(Error::Refused { code, message }),
                // A re-join refused after a reconnect: the room is no longer joined.
                None => self.emit(Event::Error { code, message }),
            },
            CoreEvent::Refreshed { expires } => self.emit(Event::Refreshed { expires }),
            CoreEvent::Error { code, message } => {
                self.last_failure = Some(Error::Refused { code, message: message.clone() });
                self.emit(Event::Error { code, message });
            }
            other => tracing::debug!(?other, "unhandled client event"),
        }
    }

    /// Resolves [`connect`](super::connect)'s wait: online, or the first attempt failed.
    fn first_outcome(&mut self, state: &ConnState) {
        let outcome = match state {
            ConnState::Online { .. } => Ok(()),
            ConnState::Waiting { .. } | ConnState::Closed => {
                Err(self.last_failure.take().unwrap_or_else(|| Error::Connect {
                    url: self.endpoint.to_string(),
                    source: TransportError::Io(std::io::ErrorKind::TimedOut.into()),
                }))
            }
            ConnState::Idle | ConnState::Connecting { .. } => return,
        };
        if let Some(first) = self.first.take() {
            let _ = first.send(outcome);
        }
    }

    fn emit(&mut self, event: Event) {
        if self.backlog.is_empty() {
            match self.events.try_send(event) {
                Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
                Err(mpsc::error::TrySendError::Full(event)) => self.backlog.push_back(event),
            }
        } else {
            self.backlog.push_back(event);
        }
    }

    /// After `Closed`: hands on what events fit, closes the last connection gracefully, fails
    /// requests the machine no longer knows, and answers `close` calls.
    async fn shut_down(mut self) {
        for event in self.backlog.drain(..) {
            if self.events.try_send(event).is_err() {
                break;
            }
        }
        self.retire();
        for retiring in self.retiring.drain(..) {
            retiring.finish().await;
        }
        for (_, pending) in self.pending.drain() {
            pending.fail(Error::Closed);
        }
        // Handles that raced the end get `Error::Closed` when their reply is dropped.
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            if let Command::Close { reply } = command {
                self.closers.push(reply);
            }
        }
        for closer in self.closers.drain(..) {
            let _ = closer.send(());
        }
    }
}
