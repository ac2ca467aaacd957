//! The TCP transport: newline-delimited JSON (so `nc` is a client), or length-prefixed binary
//! frames after a `hello` with `"encoding":"binary"` (docs/DECISIONS.md).
//!
//! - `accept.rs`: the accept loop.
//! - `connection.rs`: one connection — a reader that splits frames with core's
//!   [`StreamDecoder`](enchufe_core::codec::StreamDecoder) and decodes them for the
//!   [`Session`](crate::hub::Session), and a writer that drains its queue in batches.

mod accept;
mod connection;

pub(crate) use accept::serve;
