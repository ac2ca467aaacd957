//! The TCP transport: newline-delimited JSON (so `nc` is a client), or length-prefixed binary
//! frames after a `hello` with `"encoding":"binary"` (docs/DECISIONS.md).
//!
//! - `accept.rs`: the accept loop.
//! - `connection.rs`: one connection — a reader that splits and decodes frames for the
//!   [`Session`](crate::hub::Session), and a writer that drains its outbox in batches.
//! - `framing.rs`: the two stream framings (JSON lines, 4-byte big-endian length prefix).

mod accept;
mod connection;
mod framing;

pub(crate) use accept::serve;
