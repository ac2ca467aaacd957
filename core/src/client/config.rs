//! What a [`Client`](super::Client) is told once, at creation.

use crate::prelude::*;

/// The settings of a [`Client`](super::Client): who it is, and its timing and memory bounds.
///
/// Build it with [`ClientConfig::new`], which fills in the defaults below, then change fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The display name sent in `hello` (shown to others as the sender and in presence).
    pub name: Option<String>,
    /// The auth token sent in `hello`.
    pub token: Option<String>,
    /// This client instance's id, sent as `hello.client` on every connection: the server
    /// de-duplicates publishes by (client id, publish id), which is what makes a retried
    /// publish land once. Publish ids restart at 1 in every new [`Client`](super::Client), so
    /// the id must be unique per `Client` (drivers draw a random one); never reuse it for a
    /// new instance, or its first publishes are taken for retries of the old one's.
    pub client_id: String,
    /// The first reconnect delay bound, in milliseconds (default 500). The n-th failed attempt
    /// in a row (n from 0) waits a uniform random time in `[0, min(cap, base·2ⁿ)]`.
    pub backoff_base_ms: u64,
    /// The largest reconnect delay, in milliseconds (default 30 000).
    pub backoff_cap_ms: u64,
    /// The heartbeat interval in milliseconds until a `welcome` announces the server's
    /// (default 15 000): a `ping` goes out when nothing was sent for this long, and the
    /// connection counts as dead when nothing was received for twice this long.
    pub heartbeat_ms: u64,
    /// How long a connection attempt may take, from [`Output::Connect`](super::Output::Connect)
    /// to the server's `welcome`, in milliseconds (default 10 000); then it counts as failed.
    pub connect_timeout_ms: u64,
    /// The most publishes waiting for their `ack` (default 256); a publish beyond it is
    /// refused with [`ClientError::OutboxFull`](super::ClientError::OutboxFull).
    pub outbox_capacity: usize,
    /// Asks for batches in `hello` (default false): a WebSocket driver that splits every
    /// message with [`codec::batch`](crate::codec::batch) sets it, and the server then sends
    /// several frames per message.
    pub batch: bool,
}

impl ClientConfig {
    /// The default reconnect delay bound of the first retry, in milliseconds.
    pub const DEFAULT_BACKOFF_BASE_MS: u64 = 500;
    /// The default largest reconnect delay, in milliseconds.
    pub const DEFAULT_BACKOFF_CAP_MS: u64 = 30_000;
    /// The default heartbeat interval (the server's default too, see docs/DECISIONS.md).
    pub const DEFAULT_HEARTBEAT_MS: u64 = 15_000;
    /// The default connection attempt timeout, in milliseconds.
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
    /// The default outbox capacity, in publishes.
    pub const DEFAULT_OUTBOX_CAPACITY: usize = 256;

    /// A configuration with the given client id, no name, no token, and default timings.
    pub fn new(client_id: impl Into<String>) -> Self {
        ClientConfig {
            name: None,
            token: None,
            client_id: client_id.into(),
            backoff_base_ms: Self::DEFAULT_BACKOFF_BASE_MS,
            backoff_cap_ms: Self::DEFAULT_BACKOFF_CAP_MS,
            heartbeat_ms: Self::DEFAULT_HEARTBEAT_MS,
            connect_timeout_ms: Self::DEFAULT_CONNECT_TIMEOUT_MS,
            outbox_capacity: Self::DEFAULT_OUTBOX_CAPACITY,
            batch: false,
        }
    }
}
