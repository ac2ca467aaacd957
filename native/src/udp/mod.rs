//! The UDP transport: one frame per datagram, sessions keyed by the peer's address
//! (docs/DECISIONS.md, "UDP"; docs/PROTOCOL.md shows the handshake).
//!
//! A thin adapter over the hub, like the others: a validated peer gets a
//! [`Session`](crate::hub::Session) and everything protocol-level is the session's business.
//! What is UDP's own lives here:
//!
//! - `listener.rs`: the receive loop. Address validation — `hello` → `challenge {cookie}` →
//!   `hello {cookie}` → `welcome` — during which the server never sends more bytes than the
//!   datagram it answers (so it cannot be used to flood a forged address: a bare `hello` too
//!   short to carry the challenge gets no answer; clients pad it, see
//!   [`client::HELLO_SIZE`](crate::client::HELLO_SIZE)); the
//!   answer encoding follows the last datagram's; datagrams over `max_frame` are dropped.
//!   Silence (3 × heartbeat) is judged by the hub's sweep, as for every transport.
//! - `writer.rs`: one task per session draining its queue, one datagram per frame, at most
//!   [`MAX_DATAGRAM`] bytes: a frame that does not fit is replaced by `error` 4012
//!   `too_large_for_datagram` (naming room and seq for a message; the client sees the seq gap).
//! - `cookie.rs`: the keyed-hash cookies.

mod cookie;
mod listener;
mod writer;

pub(crate) use listener::serve;

/// The largest datagram the server sends, in bytes: the size clients pad `hello` to, so one
/// number in core.
pub(crate) use enchufe_core::codec::datagram::MAX_DATAGRAM;
