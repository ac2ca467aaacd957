//! [`Options`]: who the client is and how it behaves, with sensible defaults.

use std::{path::PathBuf, time::Duration};

use enchufe_core::{Encoding, client::ClientConfig};

/// Settings of a [`Client`](super::Client). `Options::default()` is an anonymous client speaking
/// JSON with the core machine's default timings; set fields, or use the builder methods.
///
/// ```
/// use enchufe::client::Options;
/// let options = Options::default().name("ana").binary(true);
/// assert_eq!(options.name.as_deref(), Some("ana"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The display name sent in `hello`: others see it as the sender and in presence.
    pub name: Option<String>,
    /// The auth token sent in `hello`.
    pub token: Option<String>,
    /// The encoding after `hello`: JSON (default) or the compact binary one. On TCP the `hello`
    /// asks for it; on WebSocket frames go as binary messages; on UDP as binary datagrams.
    pub encoding: Encoding,
    /// The first reconnect delay bound (the n-th retry in a row waits up to `base·2ⁿ`).
    pub backoff_base: Duration,
    /// The largest reconnect delay.
    pub backoff_cap: Duration,
    /// The heartbeat interval until the server's `welcome` announces its own.
    pub heartbeat: Duration,
    /// How long one connection attempt may take, up to `welcome`.
    pub connect_timeout: Duration,
    /// The most publishes waiting for their ack.
    pub outbox_capacity: usize,
    /// How many events may wait for the application. When they are not read, the client stops
    /// reading the transport (and the server eventually drops it as a slow consumer; it then
    /// recovers what it missed on reconnect), rather than buffering without bound.
    pub event_buffer: usize,
    /// For `wss://` and `tls://`: a PEM file of the certificates to trust (e.g. a private CA's,
    /// or a self-signed server's own). Without one, Mozilla's roots (`webpki-roots`).
    pub ca_file: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        let ms = Duration::from_millis;
        Options {
            name: None,
            token: None,
            encoding: Encoding::Json,
            backoff_base: ms(ClientConfig::DEFAULT_BACKOFF_BASE_MS),
            backoff_cap: ms(ClientConfig::DEFAULT_BACKOFF_CAP_MS),
            heartbeat: ms(ClientConfig::DEFAULT_HEARTBEAT_MS),
            connect_timeout: ms(ClientConfig::DEFAULT_CONNECT_TIMEOUT_MS),
            outbox_capacity: ClientConfig::DEFAULT_OUTBOX_CAPACITY,
            event_buffer: 1024,
            ca_file: None,
        }
    }
}

impl Options {
    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the auth token.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Speaks the binary encoding (`true`) or JSON (`false`, the default).
    #[must_use]
    pub fn binary(mut self, binary: bool) -> Self {
        self.encoding = if binary { Encoding::Binary } else { Encoding::Json };
        self
    }

    /// Trusts the certificates in this PEM file for `wss://` and `tls://`, instead of Mozilla's
    /// roots.
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Sets the reconnect backoff: the first delay bound and the largest delay.
    #[must_use]
    pub fn backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap;
        self
    }

    /// The core machine's configuration for these options and a client id.
    pub(crate) fn client_config(&self, client_id: String) -> ClientConfig {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let mut config = ClientConfig::new(client_id);
        config.name.clone_from(&self.name);
        config.token.clone_from(&self.token);
        config.backoff_base_ms = ms(self.backoff_base);
        config.backoff_cap_ms = ms(self.backoff_cap);
        config.heartbeat_ms = ms(self.heartbeat).max(1);
        config.connect_timeout_ms = ms(self.connect_timeout).max(1);
        config.outbox_capacity = self.outbox_capacity;
        config
    }
}
