//! Egress: how a server frame becomes bytes on each transport. The hub decides *what* a client
//! receives and queues it as an [`Outgoing`]; this module alone knows the wire layouts — JSON
//! lines and length prefixes for TCP, WebSocket frames, bare frames for UDP and SSE — and lays
//! each one out at most once, however many subscribers write it (`outgoing.rs`) — and writes
//! batches of them to byte streams with vectored writes (`write.rs`).

mod outgoing;
mod write;

pub(crate) use outgoing::ws_frame;
pub use outgoing::{Form, Outgoing};
pub(crate) use write::{write_batch, write_ws_batches};
