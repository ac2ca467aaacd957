//! The drive loop: the core [`Client`](enchufe_core::client::Client) state machine, fed by the
//! browser's WebSocket, timer and clock, and feeding the application's promises and listeners.
//!
//! This is the loop documented on the core `Client`, turned inside out for the browser's event
//! loop: instead of one thread that waits for the next input, each input arrives as a callback
//! (a socket event, the timer, an API call), is handed to the machine with `now` from
//! `performance.now()`, and then every output is carried out at once ([`Driver::drive`]).
//! Reconnecting, re-joining with recovery, retrying publishes and heartbeats are all decided by
//! the machine; nothing here knows the protocol beyond turning outputs into effects.

use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use core::cell::{Cell, RefCell};

use enchufe_core::client::{Client as Machine, ClientConfig, ConnState, Event, Output};
use enchufe_core::{ErrorCode, RoomName};
use js_sys::Function;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::Closure;
use web_sys::EventTarget;

use crate::convert;
use crate::error::{concat, enchufe_error, set};
use crate::listeners::{EventKind, Listeners};
use crate::pending::Pending;
use crate::platform::{Timer, now_ms, off_global, on_global, soon};
use crate::socket::{Handlers, Socket, SocketEvents};
use crate::tokens::{Then, Tokens};
use crate::wire;

/// One client: the state machine and everything that drives it.
pub(crate) struct Driver {
    url: String,
    /// The `WebSocket` constructor: the application's, else the global one.
    constructor: Function,
    machine: RefCell<Machine>,
    socket: RefCell<Option<Socket>>,
    handlers: Handlers,
    timer: Timer,
    pub(crate) pending: RefCell<Pending>,
    pub(crate) listeners: Listeners,
    /// Why the browser refused to create the WebSocket, the first time it did (a malformed URL).
    open_error: RefCell<Option<JsValue>>,
    /// Makes live messages' JavaScript objects, reusing their strings.
    messages: RefCell<convert::Messages>,
    /// Whether the current socket has opened (a close before that is a failed attempt).
    opened: Cell<bool>,
    /// Why the last connection ended or the last attempt failed: close code and reason, for
    /// the `state` event of the wait that follows.
    failure: RefCell<Option<(u16, String)>>,
    /// Added to `performance.now()` to make the machine's clock: `reconnect()` moves it on to
    /// the retry deadline instead of bending the machine's rules.
    skew: Cell<u64>,
    /// The `online` listener on the global object (browsers), kept for as long as the client.
    online_listener: Option<Closure<dyn FnMut()>>,
    /// The application's `getToken`, and the timer that calls it before the token expires.
    tokens: Tokens,
    token_timer: Timer,
    /// This driver, for the callbacks of a `getToken` promise.
    this: Weak<Driver>,
}

impl Driver {
    /// A driver for `config`, connecting to `url` at once. Fails when the browser refuses the
    /// URL (what `new WebSocket(url)` would throw).
    pub(crate) fn start(
        url: String,
        constructor: Function,
        config: ClientConfig,
        get_token: Option<Function>,
        seed: u64,
    ) -> Result<Rc<Driver>, JsValue> {
        let driver = Rc::new_cyclic(|weak: &Weak<Driver>| Driver {
            url,
            constructor,
            machine: RefCell::new(Machine::new(config, seed)),
            socket: RefCell::new(None),
            handlers: Handlers::new(weak),
            timer: Timer::new(weak.clone(), Driver::timer_fired),
            pending: RefCell::default(),
            listeners: Listeners::default(),
            open_error: RefCell::new(None),
            messages: RefCell::default(),
            opened: Cell::new(false),
            failure: RefCell::new(None),
            skew: Cell::new(0),
            tokens: Tokens::new(get_token),
            token_timer: Timer::new(weak.clone(), Driver::token_due),
            this: weak.clone(),
            // The network is back (the browser says so): retry now rather than at the end of
            // a backoff that may have grown to half a minute.
            online_listener: on_global("online", {
                let weak = weak.clone();
                move || {
                    if let Some(driver) = weak.upgrade() {
                        driver.reconnect();
                    }
                }
            }),
        });
        // Like a WebSocket, the client reports its first events after the constructor's
        // caller has had the chance to add listeners.
        driver.listeners.hold();
        let weak = Rc::downgrade(&driver);
        soon(move || {
            if let Some(driver) = weak.upgrade() {
                driver.listeners.release();
            }
        });
        driver.machine.borrow_mut().connect(driver.now());
        driver.drive();
        match driver.open_error.take() {
            Some(error) => Err(error),
            None => Ok(driver),
        }
    }

    /// Runs `command` on the state machine with the current time, then carries out its outputs.
    pub(crate) fn command<R>(&self, command: impl FnOnce(&mut Machine, u64) -> R) -> R {
        let result = self.apply(command);
        self.drive();
        result
    }

    /// Runs `command` on the state machine with the current time; its outputs wait for
    /// [`drive`](Driver::drive). The API registers a command's promise in between, so that an
    /// answer the command produces at once (an offline `leave`, a full outbox) finds it.
    pub(crate) fn apply<R>(&self, command: impl FnOnce(&mut Machine, u64) -> R) -> R {
        command(&mut self.machine.borrow_mut(), self.now())
    }

    /// The machine's clock: `performance.now()` plus what `reconnect` skipped.
    fn now(&self) -> u64 {
        now_ms() + self.skew.get()
    }

    /// Ends a wait for the next attempt now (the clock moves on to its deadline), or starts
    /// over after `close()`. Does nothing while connecting or online.
    pub(crate) fn reconnect(&self) {
        let now = self.now();
        let state = self.read(|machine| machine.state().clone());
        match state {
            ConnState::Waiting { until, .. } => {
                self.skew.set(self.skew.get() + until.saturating_sub(now));
                self.command(|machine, now| machine.handle_timeout(now));
            }
            ConnState::Closed | ConnState::Idle => {
                self.command(|machine, now| machine.connect(now))
            }
            _ => {}
        }
    }

    /// Reads the state machine.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&Machine) -> R) -> R {
        read(&self.machine.borrow())
    }

    /// Carries out every output of the machine, then delivers the events to the listeners.
    ///
    /// The machine is borrowed only to take each output, so that carrying it out (which may
    /// feed the machine again, e.g. a socket the browser refuses) and the listeners (which may
    /// call the API) find it free.
    pub(crate) fn drive(&self) {
        let now = self.now();
        loop {
            let output = self.machine.borrow_mut().poll_output();
            match output {
                Output::Connect => self.open(now),
                Output::Transmit(frame) => {
                    if let Some(socket) = self.socket.borrow().as_ref() {
                        socket.send(&wire::encode(&frame));
                    }
                }
                Output::Disconnect => {
                    if let Some(socket) = self.socket.take() {
                        socket.close();
                        let why = if self.opened.get() {
                            "the server stopped answering (no heartbeat)"
                        } else {
                            "the connection attempt timed out"
                        };
                        self.failure.replace(Some((0, why.into())));
                    }
                }
                Output::Event(event) => self.event(event, now),
                Output::Wait(deadline) => {
                    self.timer.schedule(deadline, now);
                    break;
                }
            }
        }
        self.listeners.deliver();
    }

    fn open(&self, now: u64) {
        // A token that expired while offline would be refused (4009): get a new one first.
        if Tokens::expired(self.read(Machine::token_expires))
            && self.tokens.fetch(self.this.clone(), Then::Connect)
        {
            return;
        }
        self.open_socket(now);
    }

    fn open_socket(&self, now: u64) {
        if let Some(old) = self.socket.take() {
            old.close();
        }
        self.opened.set(false);
        match Socket::open(&self.constructor, &self.url, &self.handlers) {
            Ok(socket) => *self.socket.borrow_mut() = Some(socket),
            Err(error) => {
                self.open_error.borrow_mut().get_or_insert(error);
                self.machine.borrow_mut().handle_disconnected(now);
            }
        }
    }

    /// Settles the promise an event answers, or queues it for the listeners.
    fn event(&self, event: Event, now: u64) {
        match event {
            Event::State(state) => {
                let payload = convert::state(&state, now, self.skew.get());
                match &state {
                    ConnState::Waiting { .. } => {
                        if let Some((code, reason)) = self.failure.borrow().as_ref() {
                            set(&payload, "code", &JsValue::from(*code));
                            set(&payload, "reason", &JsValue::from_str(reason));
                        }
                    }
                    ConnState::Online { .. } => {
                        drop(self.failure.take());
                        self.schedule_token(now);
                    }
                    _ => {}
                }
                self.listeners.push(EventKind::State, payload)
            }
            Event::Joined { id, room, seq, members, recovered } => {
                // The machine has just taken the epoch from this `joined`: nothing else ran
                // since (each input is followed by a drive that empties the outputs).
                let epoch = self.read(|m| m.epoch(&room).map(str::to_owned));
                let info = convert::join_info(&room, seq, &members, recovered, epoch.as_deref());
                let waiting = self.pending.borrow_mut().take(id);
                waiting.inspect(|s| s.resolve(&info));
                self.listeners.push(EventKind::Joined, info);
            }
            Event::Left { id, .. } => {
                let waiting = self.pending.borrow_mut().take(id);
                waiting.inspect(|s| s.resolve(&JsValue::UNDEFINED));
            }
            Event::Message(message) => {
                let object = self.messages.borrow_mut().message(&message);
                self.listeners.push(EventKind::Message, object);
            }
            Event::Gap { room, from, to } => {
                self.listeners.push(EventKind::Gap, convert::gap(&room, from, to));
            }
            Event::Reset { room, epoch } => {
                self.listeners.push(EventKind::Reset, convert::reset(&room, &epoch));
            }
            Event::Presence(presence) => {
                self.listeners.push(EventKind::Presence, convert::presence(&presence));
            }
            Event::Ack { id, seq, .. } => {
                let waiting = self.pending.borrow_mut().take(id);
                waiting.inspect(|s| s.resolve(&convert::number(seq)));
            }
            Event::PublishFailed { id, room, code, message } => {
                let error = enchufe_error(code, &message, Some(&room));
                match self.pending.borrow_mut().take(id) {
                    Some(settle) => settle.reject(&error),
                    None => self.listeners.push(EventKind::Error, error),
                }
            }
            Event::History { id, messages, .. } => {
                let waiting = self.pending.borrow_mut().take(id);
                waiting.inspect(|s| s.resolve(&convert::messages(&messages)));
            }
            Event::RequestFailed { id, code, message } => {
                let error = enchufe_error(code, &message, None);
                match self.pending.borrow_mut().take(id) {
                    Some(settle) => settle.reject(&error),
                    None => self.listeners.push(EventKind::Error, error),
                }
            }
            Event::Error { code, message } => {
                if code == ErrorCode::TokenExpired.code() {
                    self.tokens.fetch(self.this.clone(), Then::Refresh);
                }
                self.listeners.push(EventKind::Error, enchufe_error(code, &message, None));
            }
            Event::Refreshed { .. } => self.schedule_token(now),
            // Events newer than this driver: nothing the API can show yet.
            _ => {}
        }
    }

    /// Whether an event from `target` comes from the current socket.
    fn is_current(&self, target: Option<&EventTarget>) -> bool {
        self.socket.borrow().as_ref().is_some_and(|s| s.is(target))
    }

    /// Sets the token timer for the token in use, when the application gave a `getToken`.
    fn schedule_token(&self, now: u64) {
        let expires = self.read(Machine::token_expires);
        let due = expires.filter(|_| self.tokens.is_on()).map(|e| now + Tokens::refresh_in(e));
        self.token_timer.schedule(due, now);
    }

    fn token_due(&self) {
        self.token_timer.fired();
        self.tokens.fetch(self.this.clone(), Then::Refresh);
    }

    /// A `getToken()` promise settled: `token` is its string (`None`: it rejected, or gave no
    /// string).
    pub(crate) fn token_arrived(&self, token: Option<String>, then: Then) {
        self.tokens.done();
        match token {
            Some(token) => self.command(|machine, now| machine.refresh(now, token)),
            None => {
                let message = "getToken() did not give a token (it rejected or returned no string)";
                let error = enchufe_error(ErrorCode::Unauthorized.code(), message, None);
                self.listeners.push(EventKind::Error, error);
                self.listeners.deliver();
            }
        }
        if then == Then::Connect {
            self.open_socket(self.now());
            self.drive();
        }
    }

    fn timer_fired(&self) {
        self.timer.fired();
        self.command(|machine, now| machine.handle_timeout(now));
    }
}

impl SocketEvents for Driver {
    fn opened(&self, target: Option<EventTarget>) {
        if self.is_current(target.as_ref()) {
            self.opened.set(true);
            self.command(|machine, now| machine.handle_connected(now));
        }
    }

    /// Every frame of the message's batch goes to the state machine in one command. A frame
    /// that does not decode, or a text message, is reported as an `error` event (code 4000
    /// `malformed`) and otherwise ignored, as the core's drive loop says.
    fn received(&self, target: Option<EventTarget>, message: Option<Vec<u8>>) {
        if !self.is_current(target.as_ref()) {
            return;
        }
        let decoded = match message {
            Some(bytes) => wire::decode(&bytes),
            None => vec![Err("a text (JSON) message; this client reads binary ones")],
        };
        // One pass: the frames go to the machine, the errors wait until it is done.
        let mut errors = Vec::new();
        if decoded.iter().any(Result::is_ok) {
            self.command(|machine, now| {
                for item in decoded {
                    match item {
                        Ok(frame) => machine.handle_frame(now, frame),
                        Err(error) => errors.push(error),
                    }
                }
            });
        } else {
            errors = decoded.into_iter().filter_map(Result::err).collect();
        }
        if !errors.is_empty() {
            for error in errors {
                let message = concat(&["a frame from the server could not be decoded: ", error]);
                let error = enchufe_error(ErrorCode::Malformed.code(), &message, None);
                self.listeners.push(EventKind::Error, error);
            }
            self.listeners.deliver();
        }
    }

    fn closed(&self, target: Option<EventTarget>, code: u16, reason: String) {
        if self.is_current(target.as_ref()) {
            self.socket.take();
            let reason = match (self.opened.get(), reason.is_empty()) {
                (_, false) => reason,
                // A browser tells a page nothing more about a refused connection, a server
                // that is down or a path that is not a WebSocket endpoint (all are 1006).
                (false, true) => concat(&[
                    "could not connect to ",
                    &self.url,
                    " (refused, unreachable, or not a WebSocket endpoint)",
                ]),
                (true, true) => "the connection was lost".into(),
            };
            self.failure.replace(Some((code, reason)));
            self.command(|machine, now| machine.handle_disconnected(now));
        }
    }
}

impl Drop for Driver {
    /// The application let go of the client: close its socket (the timer stops by itself).
    fn drop(&mut self) {
        if let Some(socket) = self.socket.take() {
            socket.close();
        }
        if let Some(online) = &self.online_listener {
            off_global("online", online);
        }
    }
}

/// Whether `room` is a valid room name, as the error a promise rejects with when not.
pub(crate) fn room_name(room: &str) -> Result<RoomName, JsValue> {
    RoomName::new(room).map_err(|e| {
        let message = concat(&["\"", room, "\": ", &e.message()]);
        enchufe_error(ErrorCode::InvalidRoom.code(), &message, None)
    })
}
