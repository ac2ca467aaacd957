//! What every stream connection (TCP, WebSocket) does around its session, whatever its wire:
//! the transports plug in their reader and writer, and keep only what is their own (TCP's
//! framing; WebSocket's messages, pings and close codes).
//!
//! - `serve.rs`: the reader and the writer side by side, then the bounded flush.
//! - `batch.rs`: the writer's list of frames taken from the queue.
//! - `linger.rs`: reading on for a moment after a close, so the close is not lost to a reset.

mod batch;
mod linger;
mod serve;

pub(crate) use batch::Batch;
pub(crate) use linger::{discard, linger};
pub(crate) use serve::{Ended, serve};
