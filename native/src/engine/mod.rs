//! Engines: what numbers, stores and fans out messages, and holds presence.
//!
//! - **memory** (the default): the hub itself, in this process (`hub/room.rs`). Nothing to
//!   configure; a restart renumbers every room (a new epoch) and loses history.
//! - **redis**: one Redis shared by any number of enchufe nodes ([`redis`]). Order (seq),
//!   history, epochs, presence and de-duplication keys live in Redis, so any node can serve any
//!   client and a node's restart loses nothing Redis kept. The hub is unchanged but for its seam
//!   (`hub/engine/`); this module is the driver that talks to Redis.

pub mod redis;

use std::time::Duration;

use serde::Deserialize;

/// Which engine, and the Redis engine's settings (`[engine]` in the config file).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// `memory` or `redis`.
    pub kind: EngineKind,
    /// The Redis engine's server, `redis://[user:password@]host:port[/db]`.
    pub redis_url: Option<String>,
    /// The prefix of every key and channel the engine uses (several deployments can share one
    /// Redis with different prefixes).
    pub prefix: String,
    /// How long a member stays in a room's shared presence without its node refreshing it, in
    /// seconds: the longest a crashed node's members are still listed.
    pub presence_ttl_secs: u64,
    /// How long one request to Redis may take before the client's frame is answered with 4023
    /// `unavailable`, in milliseconds.
    pub timeout_ms: u64,
    /// How long a room's numbering (epoch and seq) outlives its last publish, join or member, in
    /// seconds (at least the history's age).
    pub meta_ttl_secs: u64,
    /// Commands (publishes, joins, history reads) waiting for Redis, at most; more are refused at
    /// once with 4023.
    pub queue: usize,
    /// How far behind a message's publication (its `ts`) this node may deliver it, in ms. The
    /// Redis client reads the channels into memory as fast as Redis sends; a node that fans out
    /// more slowly than the rooms' publishers publish drops its connection past this lag and
    /// resynchronises from the streams, so that what waits stays bounded (and members whose
    /// messages the streams no longer hold reconnect: 4015). Nodes' clocks must agree to well
    /// within it (NTP).
    pub max_lag_ms: u64,
}

/// The engine kinds.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Rooms live in this process.
    #[default]
    Memory,
    /// Rooms live in Redis, shared by every node.
    Redis,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            kind: EngineKind::Memory,
            redis_url: None,
            prefix: "enchufe".into(),
            presence_ttl_secs: 30,
            timeout_ms: 2_000,
            meta_ttl_secs: 86_400,
            queue: 10_000,
            max_lag_ms: 5_000,
        }
    }
}

impl EngineConfig {
    /// A Redis engine at `url`, with the other settings at their defaults.
    pub fn redis(url: impl Into<String>) -> Self {
        EngineConfig { kind: EngineKind::Redis, redis_url: Some(url.into()), ..Self::default() }
    }

    /// [`EngineConfig::presence_ttl_secs`] as a duration (at least 1 s).
    pub fn presence_ttl(&self) -> Duration {
        Duration::from_secs(self.presence_ttl_secs.max(1))
    }

    /// [`EngineConfig::timeout_ms`] as a duration (at least 1 ms).
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }
}
