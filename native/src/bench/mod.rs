//! `enchufe bench`: the load tool — fan-out throughput, latency and memory per connection,
//! against enchufe or, through a small adapter for its text protocol, NATS.
//!
//! | file | concept |
//! |---|---|
//! | `target.rs` | [`Target`]: which server and transport a URL names (loopback only) |
//! | `wire/` | the adapter: connect, subscribe, publish, read payloads — lean, so the tool outruns the server |
//! | `payload.rs` | what each message carries: its send time and index |
//! | `crowd.rs` | opening many subscribed connections at once, a few at a time |
//! | `fanout.rs` | S subscribers, one publisher, paced or as fast as it can write (optionally within a lag window) |
//! | `rtt.rs` | publish and wait for your own message |
//! | `idle.rs` | C idle connections and the server's resident memory per connection |
//! | `report.rs` | the results, as JSON or text; latency percentiles from an HDR histogram |
//!
//! Every load is bounded in count and time. Latency is measured from the moment a message is
//! written to the moment the read that carried it completed, on one clock (publisher and
//! subscribers are one process). docs/PERFORMANCE.md says how the comparison run uses it.

mod crowd;
mod error;
pub mod fanout;
pub mod idle;
pub mod payload;
mod report;
pub mod rtt;
mod target;
pub mod wire;

pub use error::BenchError;
pub use fanout::FanoutOptions;
pub use report::{FanoutReport, IdleReport, Latency, RttReport};
pub use target::{Link, Server, Target};
