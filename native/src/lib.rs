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
//! | `server.rs` | binding listeners, running them, graceful shutdown ([`server::Server`]) |
//! | `config.rs` | configuration: defaults, TOML file ([`config::Config`]) |
//! | `udp/` | UDP transport: cookie handshake, anti-amplification, 1200-byte datagrams, idle expiry |
//! | `tcp/` | TCP transport: JSON lines or length-prefixed binary |
//! | `ws.rs` | WebSocket transport (async-tungstenite over the HTTP port's upgrade) |
//! | `http/` | HTTP: router, REST, SSE, static files, admin, health and metrics |
//! | `metrics.rs` | counters and gauges, rendered for `/metrics` |
//! | `client/` | the native client library: [`client::connect`], a tokio driver of the core state machine |
//! | `cli/` | the `enchufe` command line (`serve`; one file per subcommand) |
//!
//! ## Panic policy
//! A panic is a bug. Nothing a client sends panics the server; an `expect` outside tests names
//! the invariant that makes it safe.

pub mod cli;
pub mod client;
pub mod config;
mod http;
pub mod hub;
pub mod metrics;
pub mod server;
mod tcp;
mod udp;
mod ws;
