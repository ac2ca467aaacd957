//! # enchufe
//!
//! The enchufe server: one tokio process whose hub serves rooms over WebSocket, TCP, UDP and
//! HTTP (REST and Server-Sent Events), plus (later) a native client library and CLI.
//!
//! ## Module map
//!
//! | file | concept |
//! |---|---|
//! | `hub/` | rooms, sessions, every protocol rule ([`hub`] explains how a transport drives it) |
//! | `metrics.rs` | counters and gauges, rendered for `/metrics` |
//!
//! ## Panic policy
//! A panic is a bug. Nothing a client sends panics the server; an `expect` outside tests names
//! the invariant that makes it safe.

pub mod hub;
pub mod metrics;
