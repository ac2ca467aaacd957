//! Egress: how a server frame becomes bytes on each transport. The hub decides *what* a client
//! receives and queues it as an [`Outgoing`]; this module alone knows the wire layouts — JSON
//! lines and length prefixes for TCP, WebSocket frames, bare frames for UDP and SSE — and lays
//! each one out at most once, however many subscribers write it.

mod outgoing;

pub(crate) use outgoing::ws_frame;
pub use outgoing::{Form, Outgoing};
