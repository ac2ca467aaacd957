//! The hub: rooms, sessions and every protocol rule, shared by all transports.
//!
//! A transport is an adapter: it turns bytes into [`ClientFrame`](enchufe_core::ClientFrame)s
//! with `enchufe_core::codec`, hands them to a [`Session`], and writes what the session's
//! [`Outbox`] gives it. It never decides anything about rooms, order, limits or errors other
//! than framing ones. The whole API a transport needs:
//!
//! | call | when |
//! |---|---|
//! | [`Hub::open`]`(transport) -> Session` | a connection is accepted (UDP: after the cookie handshake) |
//! | [`Session::handle`]`(frame)` | a frame decoded |
//! | [`Session::reject`]`(&DecodeError)` | a frame did not decode (the connection goes on) |
//! | [`Session::pace`]`().await` | after each frame: waits while the outbox is over its mark |
//! | [`Session::close`]`(code, why)` | the transport must end it: too large, idle, unusable stream |
//! | [`Session::outbox`]`()` → [`Outbox::next_batch`] | the writer: frames to write, then [`End`] |
//! | [`Outbox::set_encoding`] | TCP `hello` with `"encoding":"binary"`; a WS client's message kind |
//! | [`Outgoing::encoded`]`(encoding)` | the bytes of one frame (shared, encoded once) |
//! | `drop(session)` | the connection ended (EOF, error): leaves rooms, flushes, closes |
//!
//! The drive loop of a stream transport, in outline:
//!
//! ```no_run
//! # async fn demo(hub: enchufe::hub::Hub, mut read_frame: impl FnMut() -> Option<Result<enchufe_core::ClientFrame, enchufe_core::codec::DecodeError>>) {
//! use enchufe::hub::{End, Transport};
//! let mut session = hub.open(Transport::Tcp);
//! let outbox = session.outbox().clone();
//! // Writer task: drain, write the whole batch, flush once; close after the last batch.
//! let writer = tokio::spawn(async move {
//!     let mut batch = Vec::new();
//!     loop {
//!         let end = outbox.next_batch(&mut batch).await;
//!         for frame in batch.drain(..) {
//!             let _bytes = frame.encoded(outbox.encoding()); // + newline / length prefix
//!         }
//!         // flush here
//!         if let Some(end) = end {
//!             return end; // End::Error(code): close with that code (WS close code = code)
//!         }
//!     }
//! });
//! // Reader: decode and hand over; stop when the session is closed.
//! while let Some(decoded) = read_frame() {
//!     match decoded {
//!         Ok(frame) => session.handle(frame),
//!         Err(error) => session.reject(&error),
//!     }
//!     if session.is_closed() {
//!         break;
//!     }
//!     session.pace().await; // flow control: no more input while the outbox is over its mark
//! }
//! drop(session); // EOF: leave rooms; the writer flushes what is queued and ends
//! let _end: End = writer.await.unwrap();
//! # }
//! ```
//!
//! Answers to a session's own frames, room messages and presence all go through the same bounded
//! queue, so a client sees them in the order the hub produced them. Fan-out encodes each message
//! once per encoding ([`Outgoing`]) and queues a pointer per subscriber; a replay is a cursor the
//! writer pulls from history. Flow control ([`Outbox`]): over its high-water mark a connection's
//! input is not read ([`Session::pace`]); only a subscriber that stays over it without draining,
//! or would pass the hard bound, gets `error` 4011 and is disconnected, without slowing anyone.
//!
//! Files: [`state`](Hub) holds the rooms map and session registry; `room.rs` one room's seq,
//! members and ordered fan-out; `history.rs` bounded history and the publish ids it remembers;
//! `session.rs` the per-connection rules; `outbox.rs` the bounded queue; `outgoing.rs` the
//! encode-once frame; `history_budget.rs` one byte budget for all rooms' history; `config.rs`
//! the limits.

// The hub takes time as an input (`Now`): reading a clock here is refused by clippy.toml's
// disallowed methods, as in core.
#![deny(clippy::disallowed_methods)]

mod config;
mod history;
mod history_budget;
mod now;
mod outbox;
mod room;
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
pub use hub::Hub;
pub use now::Now;
pub use outbox::{End, Outbox, Push, SendLimits};
pub use room::{Page, Published};
pub use rooms::{RoomInfo, RoomsFull};
pub use session::{Session, Transport};
