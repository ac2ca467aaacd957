//! The hub: rooms, sessions and every protocol rule, shared by all transports — sans-IO.
//!
//! Like core's client, the hub performs no I/O, reads no clock and draws no randomness: its
//! driver (the tokio server, or the simulation in `native/tests/sim/`) passes the time in as
//! [`Now`] with every call that needs it, gives [`Hub::new`] the key its ids are made from, calls
//! the hub's timers ([`Hub::handle_timeout`], [`Hub::sweep`]) at the periods the hub asks for,
//! and moves frames between sockets and [`SendQueue`]s. Wire layouts live in
//! [`egress`](crate::egress), not here. clippy refuses a clock read in this module.
//!
//! A transport is an adapter: it turns bytes into [`ClientFrame`](enchufe_core::ClientFrame)s
//! with `enchufe_core::codec`, hands them to a [`Session`], and writes what the session's
//! [`SendQueue`] gives it. It never decides anything about rooms, order, limits or errors other
//! than framing ones. The whole API a transport needs:
//!
//! | call | when |
//! |---|---|
//! | [`Hub::open`]`(transport, now) -> Session` | a connection is accepted (UDP: after the cookie handshake) |
//! | [`Session::handle`]`(now, frame)` | a frame decoded |
//! | [`Session::reject`]`(now, &DecodeError)` | a frame did not decode (the connection goes on) |
//! | [`Session::heard`]`(now)`, [`Session::unfinished`]`(now, pending)` | input arrived that is not a whole frame (a WS ping, part of a line) |
//! | [`SendQueue::is_paused`], [`SendQueue::writable`], [`Session::resumed`]`(now)` | flow control: stop reading while the queue is over its mark |
//! | [`Session::close`]`(code, why)` | the transport must end it: too large, unusable stream |
//! | [`Session::queue`]`()` → [`SendQueue::next_batch`] | the writer: frames to write, then a [`CloseReason`] |
//! | [`SendQueue::set_encoding`] | TCP `hello` with `"encoding":"binary"`; a WS client's message kind |
//! | `drop(session)` | the connection ended (EOF, error): leaves rooms, flushes, closes |
//! | [`Hub::handle_timeout`]`(now)` every [`Hub::timeout_period`] | silence, unfinished frames, stalled queues |
//! | [`Hub::sweep`]`(now)` every [`Hub::sweep_period`] | history age, forgetting idle rooms |
//!
//! The drive loop of a stream transport, in outline (the real one is `connection/`):
//!
//! ```no_run
//! # async fn demo(hub: enchufe::hub::Hub, mut read_frame: impl FnMut() -> Option<Result<enchufe_core::ClientFrame, enchufe_core::codec::DecodeError>>) {
//! use enchufe::{clock, hub::{CloseReason, Transport}};
//! let mut session = hub.open(Transport::Tcp, clock::now());
//! let queue = session.queue().clone();
//! // Writer task: drain, write the whole batch, flush once; close after the last batch.
//! let writer = tokio::spawn(async move {
//!     let mut batch = Vec::new();
//!     loop {
//!         let end = queue.next_batch(&mut batch).await;
//!         for frame in batch.drain(..) {
//!             let _bytes = frame.encoded(queue.encoding()); // laid out by egress::Form
//!         }
//!         // flush here
//!         if let Some(end) = end {
//!             return end; // CloseReason::Error(code): close with that code (WS close code = code)
//!         }
//!     }
//! });
//! // Reader: decode and hand over; stop when the session is closed.
//! while let Some(decoded) = read_frame() {
//!     match decoded {
//!         Ok(frame) => session.handle(clock::now(), frame),
//!         Err(error) => session.reject(clock::now(), &error),
//!     }
//!     if session.is_closed() {
//!         break;
//!     }
//!     // Flow control: no more input while the queue is over its mark.
//!     if session.queue().is_paused() {
//!         session.queue().writable().await;
//!         session.resumed(clock::now());
//!     }
//! }
//! drop(session); // EOF: leave rooms; the writer flushes what is queued and ends
//! let _end: CloseReason = writer.await.unwrap();
//! # }
//! ```
//!
//! Answers to a session's own frames, room messages and presence all go through the same bounded
//! queue, so a client sees them in the order the hub produced them. Fan-out queues one shared
//! [`Outgoing`] per message (laid out once per wire form) and a pointer per subscriber; a replay
//! is a cursor the writer pulls from history. Flow control ([`SendQueue`]): over its high-water
//! mark a connection's input is not read; only a subscriber that stays over it without draining
//! (the timer's check), or would pass the hard bound (the push's), gets `error` 4011 and is
//! disconnected, without slowing anyone.
//!
//! Files: `hub.rs` the [`Hub`] and its sessions; `rooms.rs` the rooms map, REST publish and
//! reads; `timer.rs` the rules time drives; `room.rs` one room's seq, members and ordered
//! fan-out; `history.rs` bounded history and the publish ids it remembers; `history_budget.rs`
//! one byte budget for all rooms' history; `session.rs` the per-connection rules;
//! `send_queue.rs` the bounded queue; `now.rs` time as an input; `config.rs` the limits.

// The hub takes time as an input (`Now`): reading a clock here is refused by clippy.toml's
// disallowed methods, as in core.
#![deny(clippy::disallowed_methods)]

mod config;
mod engine;
mod history;
mod history_budget;
mod now;
mod room;
mod run;
mod send_queue;
mod session;
// The file is named for the type it holds, as the rest of the hub's files are.
#[allow(clippy::module_inception)]
mod hub;
mod rooms;
#[cfg(test)]
mod tests;
mod timer;

use crate::egress::Outgoing;

pub use config::HubConfig;
pub use engine::{
    Answer, Applied, Command, EngineLink, HistoryCommand, JoinAnswer, JoinCommand, PublishCommand,
    Reply, RoomsPage, Unavailable,
};
pub use hub::Hub;
pub use now::Now;
pub use room::{Page, Published, RoomRules, Sees};
pub use rooms::{RoomInfo, RoomsFull};
pub use send_queue::{CloseReason, Push, SendLimits, SendQueue};
pub use session::{Session, Transport};
