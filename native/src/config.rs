//! The server's configuration: listeners, the web app directory, the admin token, the shutdown
//! deadline and the hub's limits.
//!
//! Sources, strongest first: command-line flags, `ENCHUFE_*` environment variables, a TOML file
//! (`--config path`), the defaults of docs/DECISIONS.md. The CLI (`cli/serve.rs`) merges the
//! first two (clap reads the environment); [`FileConfig`] is the third.

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use serde::Deserialize;

use crate::{
    admission::ConnectionLimits, auth::AuthConfig, engine::EngineConfig, hub::HubConfig,
    tls::TlsFiles,
};

/// Everything [`Server::bind`](crate::server::Server::bind) needs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// HTTP + WebSocket + SSE + REST + web app; `None` turns it off.
    pub http: Option<SocketAddr>,
    /// TCP (newline JSON, or binary on request); `None` turns it off.
    pub tcp: Option<SocketAddr>,
    /// UDP; `None` turns it off. (The UDP transport binds it; see `server.rs`.)
    pub udp: Option<SocketAddr>,
    /// The web app's directory (`www/dist`).
    pub www: PathBuf,
    /// The bearer token of `DELETE /api/sessions/{session}`; without one the endpoint is 404.
    pub admin_token: Option<String>,
    /// How long shutdown (and a closing connection) may take to flush queues.
    pub shutdown_timeout: Duration,
    /// Origins whose pages may call the REST API and open SSE streams (CORS), e.g.
    /// `https://dashboard.example`, or `*` for any; empty: only the server's own pages.
    /// (WebSocket needs no CORS; the admin endpoint never allows other origins.)
    pub cors_origins: Vec<String>,
    /// Origins whose pages may open WebSocket connections and make REST writes, besides the
    /// server's own origin and the CORS origins (`*` for any). Pages of other origins are
    /// refused (403): for writes always, for WebSocket once a list is set or an auth key is
    /// configured (docs/DECISIONS.md, "Identity").
    pub allowed_origins: Vec<String>,
    /// The hub's limits.
    pub hub: HubConfig,
    /// The connection budgets.
    pub connections: ConnectionLimits,
    /// How long an HTTP request's head may take to arrive, from the connection's start or the
    /// end of the previous response: a slow or idle (kept-alive) connection closes after it.
    pub header_timeout: Duration,
    /// Tokens and the access policy (docs/DECISIONS.md, "Identity").
    pub auth: AuthConfig,
    /// TLS on the HTTP listener (`https://`, `wss://`) and the TCP one (`tls://`) with this
    /// certificate and key; UDP stays plain. The handshake must finish within
    /// [`header_timeout`](Config::header_timeout).
    pub tls: Option<TlsFiles>,
    /// Where rooms live: this process (memory) or Redis, shared by every node.
    pub engine: EngineConfig,
}

impl Default for Config {
    /// The defaults of docs/DECISIONS.md: loopback, ports 8480–8482.
    fn default() -> Self {
        Config {
            http: Some(SocketAddr::from(([127, 0, 0, 1], 8480))),
            tcp: Some(SocketAddr::from(([127, 0, 0, 1], 8481))),
            udp: Some(SocketAddr::from(([127, 0, 0, 1], 8482))),
            www: PathBuf::from("www/dist"),
            admin_token: None,
            shutdown_timeout: Duration::from_secs(5),
            cors_origins: Vec::new(),
            allowed_origins: Vec::new(),
            hub: HubConfig::default(),
            connections: ConnectionLimits::default(),
            header_timeout: Duration::from_secs(10),
            auth: AuthConfig::default(),
            tls: None,
            engine: EngineConfig::default(),
        }
    }
}

impl Config {
    /// Every listener on 127.0.0.1 port 0 (the OS picks free ports): for tests and embedding.
    pub fn ephemeral() -> Self {
        let any = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        Config { http: any, tcp: any, udp: any, ..Config::default() }
    }
}

/// A listener's address, or `off`: the value of `--http`, `ENCHUFE_TCP`, `udp = "…"` …
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listen {
    /// The listener is turned off.
    Off,
    /// Listen on this address.
    On(SocketAddr),
}

/// Why a listener address did not parse.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is neither an address like 127.0.0.1:8480 nor \"off\"")]
pub struct ListenError(String);

impl FromStr for Listen {
    type Err = ListenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "off" | "false" | "none" | "" => Ok(Listen::Off),
            addr => addr.parse().map(Listen::On).map_err(|_| ListenError(s.to_owned())),
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Off => f.write_str("off"),
            Listen::On(addr) => addr.fmt(f),
        }
    }
}

impl From<Listen> for Option<SocketAddr> {
    fn from(listen: Listen) -> Self {
        match listen {
            Listen::Off => None,
            Listen::On(addr) => Some(addr),
        }
    }
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Flag(false) => Ok(Listen::Off),
            Raw::Flag(true) => {
                Err(serde::de::Error::custom("give an address or \"off\", not true"))
            }
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// The TOML configuration file. Every key is optional; unknown keys are errors (a typo should
/// not silently fall back to a default).
///
/// ```toml
/// http = "0.0.0.0:8480"
/// tcp = "off"
/// www = "/srv/enchufe/www"
/// admin_token = "change-me"
/// shutdown_timeout_secs = 10
/// cors = ["https://dashboard.example"]
/// allowed_origins = ["https://chat.example"]
/// log = "info,enchufe=debug"
/// tls_cert = "/etc/enchufe/cert.pem"
/// tls_key = "/etc/enchufe/key.pem"
///
/// [hub]
/// max_frame = 65536
/// history_len = 1000
/// queue_bytes = 1048576
/// slow_after_ms = 10000
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FileConfig {
    /// The HTTP listener.
    pub http: Option<Listen>,
    /// The TCP listener.
    pub tcp: Option<Listen>,
    /// The UDP listener.
    pub udp: Option<Listen>,
    /// The web app's directory.
    pub www: Option<PathBuf>,
    /// The admin token.
    pub admin_token: Option<String>,
    /// The shutdown deadline, in seconds.
    pub shutdown_timeout_secs: Option<f64>,
    /// Origins allowed to call the REST API and SSE (`["*"]` for any).
    pub cors: Option<Vec<String>>,
    /// Origins allowed to open WebSocket connections and make REST writes (`["*"]` for any).
    pub allowed_origins: Option<Vec<String>>,
    /// The log filter (`RUST_LOG` syntax).
    pub log: Option<String>,
    /// Hub limits; keys left out keep their defaults.
    pub hub: Option<HubConfig>,
    /// Connection budgets; keys left out keep their defaults.
    pub connections: Option<ConnectionLimits>,
    /// The HTTP header deadline, in seconds.
    pub header_timeout_secs: Option<f64>,
    /// Tokens and the access policy.
    pub auth: Option<AuthConfig>,
    /// The TLS certificate chain (PEM); with `tls_key`, turns TLS on.
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// The engine (`kind = "redis"`, `redis_url`, …); keys left out keep their defaults.
    pub engine: Option<EngineConfig>,
}

/// Why the configuration file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("invalid configuration in {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: toml::de::Error,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(&'static str),
}

impl FileConfig {
    /// Reads and parses a TOML file.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::parse(&text).map_err(|source| ConfigError::Parse { path: path.to_owned(), source })
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

/// Checks that the limits make sense together.
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    let hub = &config.hub;
    if hub.max_frame < 64 {
        return Err(ConfigError::Invalid("hub.max_frame must be at least 64 bytes"));
    }
    if hub.queue_frames.is_some() {
        return Err(ConfigError::Invalid(
            "queue_frames (--queue-frames, ENCHUFE_QUEUE_FRAMES) was removed: outbound queues are \
             bounded in bytes; use queue_bytes (the high-water mark), queue_max_bytes and \
             slow_after_ms (docs/DECISIONS.md, \"Flow control\")",
        ));
    }
    if hub.queue_bytes == 0 {
        return Err(ConfigError::Invalid("hub.queue_bytes must be positive"));
    }
    if hub.slow_after_ms == 0 {
        return Err(ConfigError::Invalid("hub.slow_after_ms must be positive"));
    }
    if config.engine.kind == crate::engine::EngineKind::Redis
        && config.engine.redis_url.as_deref().is_none_or(str::is_empty)
    {
        return Err(ConfigError::Invalid(
            "the redis engine needs a server: --redis-url (ENCHUFE_REDIS_URL, engine.redis_url)",
        ));
    }
    if config.connections.max_connections == 0 {
        return Err(ConfigError::Invalid("connections.max_connections must be positive"));
    }
    if hub.max_history == 0 {
        return Err(ConfigError::Invalid("hub.max_history must be positive"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_parses_addresses_and_off() {
        assert_eq!("off".parse::<Listen>().unwrap(), Listen::Off);
        assert_eq!(
            "127.0.0.1:9".parse::<Listen>().unwrap(),
            Listen::On(SocketAddr::from(([127, 0, 0, 1], 9)))
        );
        assert!("localhost".parse::<Listen>().is_err());
    }

    #[test]
    fn file_config_reads_partial_hub_tables_and_refuses_typos() {
        let file =
            FileConfig::parse("tcp = false\nhttp = \"0.0.0.0:1\"\n[hub]\nmax_rooms = 3\n").unwrap();
        assert_eq!(file.tcp, Some(Listen::Off));
        let hub = file.hub.unwrap();
        assert_eq!((hub.max_rooms, hub.max_frame), (3, HubConfig::default().max_frame));
        assert!(FileConfig::parse("htp = \"off\"").is_err());
        assert!(FileConfig::parse("[hub]\nmax_roms = 1").is_err());
    }

    #[test]
    fn the_identity_example_of_decisions_md_parses() {
        let file = FileConfig::parse(
            r#"
            allowed_origins = ["https://app.example"]
            [auth]
            secret = "change-me"
            audience = "enchufe"
            grace_secs = 30
            [auth.policy]
            anonymous = "read"
            [auth.policy.namespaces.news]
            publish = "nobody"
            presence = false
            [auth.policy.namespaces.chat]
            publish = "tokens"
            "#,
        )
        .unwrap();
        assert_eq!(file.allowed_origins.unwrap(), ["https://app.example"]);
        let auth = file.auth.unwrap();
        assert_eq!(auth.policy.anonymous, Some(crate::auth::Anonymous::Read));
        assert_eq!(auth.policy.namespaces.len(), 2);
    }
}
