//! The sans-IO client state machine, driven the same way by the native (tokio) client and the
//! browser (wasm) client.
//!
//! [`Client`] owns everything about a client connection that is not I/O: the connection state
//! and reconnects with backoff (`backoff.rs`), the wanted rooms with the last seq seen in each
//! (`rooms.rs`: re-join with `since`, duplicate and gap detection), the outbox of publishes
//! waiting for their ack (`outbox.rs`), pending requests (`requests.rs`), and heartbeats
//! (`heartbeat.rs`). Commands are in `commands.rs`, inputs in `input.rs`. A
//! driver owns the socket, the timer and the clock, and feeds the machine; the machine reads no
//! clock and draws no randomness (the jitter comes from the seed given to [`Client::new`]), so
//! the same inputs always give the same outputs — which is what lets `native/tests/simulation.rs`
//! run thousands of reconnects in virtual time.

mod backoff;
mod commands;
mod config;
mod event;
mod heartbeat;
mod input;
mod outbox;
mod requests;
mod retry;
mod rng;
mod rooms;
mod sorted_map;
mod state;
#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;

pub use config::ClientConfig;
pub use event::{ClientError, Event, Output};
pub use state::ConnState;

use crate::{ClientFrame, Limits, RoomName};
use backoff::Backoff;
use heartbeat::Heartbeat;
use outbox::Outbox;
use requests::Requests;
use retry::Retry;
pub use retry::UNAVAILABLE_RETRY_MS;
use rng::SplitMix64;
use rooms::Rooms;

/// The client state machine: one logical connection to an enchufe server that survives
/// transport failures.
///
/// It performs no I/O, reads no clock and never blocks; the driver passes `now` — a monotonic
/// count of milliseconds, from any origin, that never goes back (it may stand still) — to every
/// call that can act on time. Its methods come in four kinds, as in `quinn-proto`:
///
/// - **Getters** ([`state`](Client::state), [`session`](Client::session),
///   [`last_seq`](Client::last_seq), [`epoch`](Client::epoch), [`outbox_len`](Client::outbox_len))
///   read state.
/// - **Commands** from the application ([`connect`](Client::connect), [`join`](Client::join),
///   [`leave`](Client::leave), [`publish`](Client::publish), [`history`](Client::history),
///   [`close`](Client::close)) change what the client wants. They can be called in any state:
///   what cannot be sent now is sent when the client is next online. Each request returns the
///   id that its answer event carries.
/// - **Inputs** from the driver (`handle_*`: [`handle_connected`](Client::handle_connected),
///   [`handle_frame`](Client::handle_frame), [`handle_disconnected`](Client::handle_disconnected),
///   [`handle_timeout`](Client::handle_timeout)) report what happened on the transport and the
///   timer. Any input in any state is safe: stale or unexpected ones are ignored, and no server
///   frame can make the machine panic.
/// - **Output** ([`poll_output`](Client::poll_output)): after any command or input, drain
///   outputs until [`Output::Wait`], which carries the next deadline.
///
/// # The drive loop
///
/// ```no_run
/// use enchufe_core::client::{Client, ClientConfig, Event, Output};
/// use enchufe_core::{Body, ClientFrame, RoomName, ServerFrame};
///
/// /// What a driver has: one transport at a time, a timer and a monotonic clock.
/// trait Io {
///     fn now_ms(&self) -> u64;
///     fn open_transport(&mut self); // later yields Input::Connected or Input::Disconnected
///     fn send(&mut self, frame: ClientFrame); // encode (JSON or binary) and write
///     fn close_transport(&mut self); // and drop anything it still delivers
///     fn to_app(&mut self, event: Event);
///     /// Waits for the next input, or until `deadline` (then `Input::Timeout`).
///     fn next_input(&mut self, deadline: Option<u64>) -> Input;
/// }
///
/// enum Input {
///     Connected,
///     Frame(ServerFrame), // decoded by the driver; a frame that fails to decode is logged
///     Disconnected,       // the transport closed or failed to open
///     Timeout,
///     Publish(RoomName, Body), // a command from the application
/// }
///
/// fn run(io: &mut impl Io, client_id: String, seed: u64) {
///     let mut client = Client::new(ClientConfig::new(client_id), seed);
///     client.connect(io.now_ms());
///     loop {
///         // 1. Drain every output.
///         let deadline = loop {
///             match client.poll_output() {
///                 Output::Connect => io.open_transport(),
///                 Output::Transmit(frame) => io.send(frame),
///                 Output::Disconnect => io.close_transport(),
///                 Output::Event(event) => io.to_app(event),
///                 Output::Wait(deadline) => break deadline,
///             }
///         };
///         // 2. Sleep until an input arrives or the deadline passes, 3. feed it with `now`.
///         let input = io.next_input(deadline);
///         let now = io.now_ms();
///         match input {
///             Input::Connected => client.handle_connected(now),
///             Input::Frame(frame) => client.handle_frame(now, frame),
///             Input::Disconnected => client.handle_disconnected(now),
///             Input::Timeout => client.handle_timeout(now),
///             Input::Publish(room, body) => {
///                 // A full outbox is also reported as Event::PublishFailed.
///                 let _ = client.publish(now, room, body);
///             }
///         }
///     }
/// }
/// ```
///
/// # Guarantees to the application
///
/// - `hello` (with [`ClientConfig::client_id`]) is the first frame on every connection; nothing
///   else is sent before `welcome`.
/// - Every wanted room is re-joined on every new connection with `since` = the last seq seen;
///   [`Event::Message`]s of a room come in strictly increasing seq order, each at most once, and
///   every seq the client will not deliver is reported by an [`Event::Gap`] (rules below) —
///   except across an [`Event::Reset`], after which the room's seqs start again from 1.
/// - Every publish is sent, and re-sent with the same id on each new connection, until its
///   [`Event::Ack`] or [`Event::PublishFailed`]; the outbox never holds more than
///   [`ClientConfig::outbox_capacity`] publishes.
/// - Pending `history` requests are re-sent on a new connection rather than failed.
///
/// # Notes for drivers
///
/// - Give every `Client` a fresh random [`ClientConfig::client_id`] and `seed` (the machine
///   cannot draw them itself): publish ids restart at 1 in each instance and are de-duplicated
///   per client id.
/// - The `hello` is the driver's to adjust before writing: a TCP driver that wants the binary
///   encoding sets [`Hello::encoding`](crate::Hello::encoding) on the
///   [`Output::Transmit`]`(ClientFrame::Hello(..))` it is given.
/// - Bytes that do not decode are the driver's to log and drop; the machine only sees frames.
///   A transport error or close is [`handle_disconnected`](Client::handle_disconnected), except
///   after the machine's own [`Output::Disconnect`].
/// - Promises or futures per request: resolve on the event carrying the id the command
///   returned — [`Event::Ack`]/[`Event::PublishFailed`] for publishes, [`Event::Joined`] /
///   [`Event::Left`] / [`Event::History`] / [`Event::RequestFailed`] for requests. Every id gets
///   an answer eventually, unless the client keeps failing to reach the server (publishes and
///   history wait across reconnects; [`close`](Client::close) answers everything pending).
///
/// # Duplicates and gaps, per room
///
/// - The client tracks [`last_seq`](Client::last_seq): the last message delivered, or the
///   `since` given to [`join`](Client::join), or — joined without `since` — the room's seq in
///   the first `joined` (what came before the join is not a gap).
/// - A message with `seq <= last_seq` is dropped silently (re-join replays overlap).
/// - A message with `seq > last_seq + 1` is delivered after `Gap { from: last_seq + 1, to: seq − 1 }`.
/// - `joined { recovered: false }` says history no longer starts at `last_seq + 1`, not where
///   it starts: the first replayed message reports `Gap { from: last_seq + 1, to: its seq − 1 }`
///   by the rule above. In case nothing is replayed, the client sends a `ping` right after such
///   a `joined`: servers answer frames in order, so a `pong` that finds the gap still open
///   proves the replay empty, and reports `Gap { from: last_seq + 1, to: joined.seq }`.
/// - Seqs count within an epoch, the id of one numbering of the room, which every `joined`
///   carries ([`epoch`](Client::epoch)); re-joins send it with `since`. A `joined` with another
///   epoch means the server numbers the room anew (an in-memory hub restarted, or forgot the idle
///   room): the client emits [`Event::Reset`] and starts the room over from 0 — rather than
///   dropping the new messages up to its old `last_seq` as duplicates — delivering the whole
///   replay of the new numbering (the server sends it with `recovered: false`) and reporting
///   what history no longer holds of it as a gap, as above. (Before any `joined`, a `since`
///   given to [`join`](Client::join) has no epoch; a first `joined.seq` below it is the sign of
///   a new numbering instead.)
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    rng: SplitMix64,
    state: ConnState,
    /// When the current attempt times out (meaningful while `Connecting`).
    attempt_deadline: u64,
    /// Whether the current attempt's transport is open and `hello` was sent.
    transport_open: bool,
    /// The server's limits, from the last `welcome`.
    limits: Option<Limits>,
    /// When the token in use expires (Unix seconds), from `welcome` or `refreshed`.
    token_expires: Option<u64>,
    backoff: Backoff,
    /// The least wait before the next attempt, set by a `server_busy` refusal.
    retry_not_before: u64,
    /// What the server could not do for now (4023) and is sent again later.
    retry: Retry,
    heartbeat: Heartbeat,
    rooms: Rooms,
    outbox: Outbox,
    requests: Requests,
    /// The last id handed out; one counter for publishes and requests, so that an `error`'s
    /// id names exactly one frame.
    last_id: u64,
    out: VecDeque<Output>,
}

/// Getters.
impl Client {
    /// A client that has not connected yet ([`ConnState::Idle`]). `seed` drives the reconnect
    /// jitter: give each client a different one (e.g. from the OS or `crypto.getRandomValues`)
    /// so that clients cut off together do not retry together; a simulation gives a fixed one.
    pub fn new(config: ClientConfig, seed: u64) -> Self {
        Client {
            rng: SplitMix64::new(seed),
            state: ConnState::Idle,
            attempt_deadline: 0,
            transport_open: false,
            limits: None,
            token_expires: None,
            backoff: Backoff::new(config.backoff_base_ms, config.backoff_cap_ms),
            retry_not_before: 0,
            retry: Retry::default(),
            heartbeat: Heartbeat::new(config.heartbeat_ms),
            rooms: Rooms::default(),
            outbox: Outbox::new(config.outbox_capacity),
            requests: Requests::default(),
            last_id: 0,
            out: VecDeque::new(),
            config,
        }
    }

    /// The configuration the client was created with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The connection state.
    pub fn state(&self) -> &ConnState {
        &self.state
    }

    /// The session id from the current connection's `welcome`, while online.
    pub fn session(&self) -> Option<&str> {
        match &self.state {
            ConnState::Online { session } => Some(session),
            _ => None,
        }
    }

    /// The seq up to which the client is caught up in `room` — the last message delivered, the
    /// `since` given to [`join`](Client::join), or the room's seq when it was first joined —
    /// which is the `since` of the next re-join. `None` for a room not wanted, or not joined yet
    /// and joined without `since`.
    pub fn last_seq(&self, room: &RoomName) -> Option<u64> {
        self.rooms.last_seq(room)
    }

    /// The epoch — the id of the room's current numbering — from the last `joined` of `room`,
    /// which [`last_seq`](Client::last_seq) counts in. An application that stores the last seq
    /// (to resume after a restart of its own) should store this with it.
    pub fn epoch(&self, room: &RoomName) -> Option<&str> {
        self.rooms.epoch(room)
    }

    /// Whether `room` is in the set of wanted rooms (joined, or to be joined when online).
    pub fn is_joined(&self, room: &RoomName) -> bool {
        self.rooms.is_wanted(room)
    }

    /// How many publishes wait for their ack (at most [`ClientConfig::outbox_capacity`]).
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// When the token in use expires, in seconds since the Unix epoch, as the server said in the
    /// last `welcome` or `refreshed`; refresh before then ([`Client::refresh`]).
    pub fn token_expires(&self) -> Option<u64> {
        self.token_expires
    }

    /// The server's limits from the last `welcome`, once one was received.
    pub fn limits(&self) -> Option<&Limits> {
        self.limits.as_ref()
    }

    /// The heartbeat interval in use: the last `welcome`'s, or the configured one before that.
    pub fn heartbeat_ms(&self) -> u64 {
        self.heartbeat.interval_ms()
    }
}

/// Output.
impl Client {
    /// The next thing for the driver to do. Call it until it returns [`Output::Wait`] after every
    /// command and input; outputs come in the order they must be carried out.
    pub fn poll_output(&mut self) -> Output {
        self.out.pop_front().unwrap_or_else(|| Output::Wait(self.deadline()))
    }

    /// When [`handle_timeout`](Client::handle_timeout) has something to do next.
    fn deadline(&self) -> Option<u64> {
        match &self.state {
            ConnState::Connecting { .. } => Some(self.attempt_deadline),
            ConnState::Online { .. } => Some(
                self.retry
                    .at
                    .map_or(self.heartbeat.deadline(), |at| at.min(self.heartbeat.deadline())),
            ),
            ConnState::Waiting { until, .. } => Some(*until),
            ConnState::Idle | ConnState::Closed => None,
        }
    }

    fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    fn emit(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    fn set_state(&mut self, state: ConnState) {
        self.state = state.clone();
        self.emit(Event::State(state));
    }

    fn transmit(&mut self, now: u64, frame: ClientFrame) {
        self.heartbeat.on_sent(now);
        self.out.push_back(Output::Transmit(frame));
    }
}
