//! # enchufe
//!
//! The enchufe server: one tokio process whose hub serves rooms over WebSocket, TCP, UDP and
//! HTTP (REST and Server-Sent Events), plus a native client library, the CLI and a load tool.
//!
//! ## Module map
//!
//! | file | concept |
//! |---|---|
//! | `hub/` | rooms, sessions, every protocol rule ([`hub`] explains how a transport drives it) |
//! | `hub/hub.rs` | [`hub::Hub`]: the session registry, opening sessions, kick, shutdown |
//! | `hub/rooms.rs` | the rooms map, REST publish and reads, the room list |
//! | `hub/timer.rs` | the rules time drives: silence, unfinished frames, stalled queues, history age |
//! | `hub/session.rs` | [`hub::Session`]: one connection's rules (hello, join, publish, limits) |
//! | `hub/room.rs` | one room: seq, members, presence, the ordered fan-out under one lock |
//! | `hub/history.rs` | bounded history (count and age) and the publish ids it de-duplicates |
//! | `hub/history_budget.rs` | one byte budget for every room's history, oldest evicted first |
//! | `hub/send_queue.rs` | [`hub::SendQueue`]: the per-connection queue and its flow control: bounded in bytes, pulled replays, the stalled-consumer cut-off |
//! | `hub/now.rs` | [`hub::Now`]: the time, an input — the hub reads no clock (`clock.rs` does, for the drivers) |
//! | `clock.rs` | the one clock the drivers read and hand the hub as [`hub::Now`] |
//! | `flow.rs` | flow control, the driver's half: stop reading a connection while its queue is over its mark |
//! | `egress/` | [`egress::Outgoing`]: a frame laid out once per wire form (JSON line, length prefix, WebSocket frame), bytes shared; `write.rs` writes batches of them |
//! | `hub/engine/` | the engine seam: the commands a shared engine (Redis) does for the hub, and what it tells back |
//! | `engine/` | the engines' configuration and the Redis engine's driver (`engine/redis/`: connections, Lua scripts, pub/sub, presence refresh, resynchronisation) |
//! | `server.rs` | binding listeners, running them, graceful shutdown ([`server::Server`]) |
//! | `admission.rs` | the connection budgets: in all, per address, new ones per second |
//! | `config.rs` | configuration: defaults, TOML file ([`config::Config`]) |
//! | `udp/` | UDP transport: cookie handshake, anti-amplification, 1200-byte datagrams |
//! | `connection/` | what TCP and WebSocket connections share: reader and writer side by side, the bounded flush, the writer's batch list, the linger after a close |
//! | `tcp/` | TCP transport: accept loop, connection reader/writer (framing: `enchufe_core::codec::stream`) |
//! | `ws/` | WebSocket transport: the hand-made upgrade, connection reader/writer, close codes |
//! | `http/` | HTTP: router, REST, SSE, static files, admin, errors as JSON, health and metrics |
//! | `tls.rs` | server TLS (rustls on ring): the certificate files, the bounded handshake, reload on SIGHUP |
//! | `mac.rs` | [`mac::Key`]: the one keyed MAC (SipHash-2-4) and constant-time comparison of secrets |
//! | `metrics.rs` | counters and gauges as atomics, rendered for `/metrics` |
//! | `client/` | the native client library: [`client::connect`], a tokio driver of the core state machine |
//! | `cli/` | the `enchufe` command line (one file per subcommand) |
//! | `bench/` | the load tool behind `enchufe bench` (fan-out, rtt, idle; enchufe or NATS) |
//!
//! Patterns, mini-redis style: the accept loop and graceful shutdown are in `server.rs` and
//! `tcp/accept.rs`; bytes ↔ frames in `enchufe_core::codec` (a TCP stream: `codec::stream`); state in
//! `hub/`; backpressure in `hub/send_queue.rs`; encode-once fan-out in `hub/room.rs` + `egress/outgoing.rs`.
//!
//! ## Features
//! `server` (the hub, the listeners, admission, metrics, config) and `cli` (the binary, its
//! command line, the load tool) are on by default. With `default-features = false` the crate is
//! the native client alone ([`client`]), without axum, hyper, clap, toml or their kin;
//! `cargo xtask test` checks that with `cargo tree`.
//!
//! ## Panic policy
//! A panic is a bug. Nothing a client sends panics the server; an `expect` outside tests names
//! the invariant that makes it safe.

#[cfg(feature = "server")]
pub mod admission;
#[cfg(feature = "server")]
pub mod auth;
/// The load tool, for `enchufe bench` and the bench tests; not API (hidden, may change).
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod bench;
/// The command line, for the binary (`main.rs`); not API (hidden, may change).
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
pub mod client;
#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
mod connection;
#[cfg(feature = "server")]
pub mod egress;
#[cfg(feature = "server")]
pub mod engine;
#[cfg(feature = "server")]
mod flow;
#[cfg(feature = "server")]
mod http;
#[cfg(feature = "server")]
pub mod hub;
#[cfg(feature = "server")]
pub mod mac;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
mod sync;
#[cfg(feature = "server")]
mod tcp;
#[cfg(feature = "server")]
pub mod tls;
#[cfg(feature = "server")]
mod token_bucket;
#[cfg(feature = "server")]
mod udp;
#[cfg(feature = "server")]
mod ws;
