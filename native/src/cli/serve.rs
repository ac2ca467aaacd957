//! `enchufe serve`: runs the server until SIGINT or SIGTERM.

use std::{io::Write as _, path::PathBuf, process::ExitCode, time::Duration};

use clap::Args;

use crate::{
    config::{self, Config, ConfigError, FileConfig, Listen},
    server::Server,
    tls::{ServerTls, TlsFiles},
};

/// Flags of `enchufe serve`. Each has an `ENCHUFE_…` environment variable; precedence is
/// flag > environment > `--config` file > default (docs/DECISIONS.md).
#[derive(Debug, Default, Args)]
#[non_exhaustive]
pub struct ServeArgs {
    /// A TOML configuration file (see `config::FileConfig`).
    #[arg(long, env = "ENCHUFE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// HTTP + WebSocket + SSE address, or `off` [default: 127.0.0.1:8480].
    #[arg(long, env = "ENCHUFE_HTTP", value_name = "ADDR|off")]
    pub http: Option<Listen>,
    /// Turn the HTTP listener off.
    #[arg(long, conflicts_with = "http")]
    pub no_http: bool,
    /// TCP address, or `off` [default: 127.0.0.1:8481].
    #[arg(long, env = "ENCHUFE_TCP", value_name = "ADDR|off")]
    pub tcp: Option<Listen>,
    /// Turn the TCP listener off.
    #[arg(long, conflicts_with = "tcp")]
    pub no_tcp: bool,
    /// UDP address, or `off` [default: 127.0.0.1:8482].
    #[arg(long, env = "ENCHUFE_UDP", value_name = "ADDR|off")]
    pub udp: Option<Listen>,
    /// Turn the UDP listener off.
    #[arg(long, conflicts_with = "udp")]
    pub no_udp: bool,
    /// The web app's directory [default: www/dist].
    #[arg(long, env = "ENCHUFE_WWW", value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// Bearer token for `DELETE /api/sessions/{session}` (the endpoint is off without one).
    #[arg(long, env = "ENCHUFE_ADMIN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Origins whose pages may call the REST API and SSE (CORS), comma-separated, or `*`.
    #[arg(long, env = "ENCHUFE_CORS", value_name = "ORIGIN,…|*", value_delimiter = ',')]
    pub cors: Vec<String>,
    /// Origins whose pages may open WebSocket connections and make REST writes, besides this
    /// server's own and the CORS ones, comma-separated, or `*` [default: any WebSocket origin
    /// while no auth key is configured; otherwise only these].
    #[arg(long, env = "ENCHUFE_ALLOWED_ORIGINS", value_name = "ORIGIN,…|*", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Seconds to flush queues at shutdown [default: 5].
    #[arg(long, env = "ENCHUFE_SHUTDOWN_TIMEOUT", value_name = "SECS")]
    pub shutdown_timeout: Option<f64>,
    /// Largest frame accepted, bytes [default: 65536].
    #[arg(long, env = "ENCHUFE_MAX_FRAME", value_name = "BYTES")]
    pub max_frame: Option<usize>,
    /// Rooms one connection may join [default: 64].
    #[arg(long, env = "ENCHUFE_MAX_ROOMS", value_name = "N")]
    pub max_rooms: Option<usize>,
    /// Messages kept per room [default: 1000].
    #[arg(long, env = "ENCHUFE_HISTORY_LEN", value_name = "N")]
    pub history_len: Option<usize>,
    /// Seconds a message stays in history [default: 3600].
    #[arg(long, env = "ENCHUFE_HISTORY_AGE", value_name = "SECS")]
    pub history_age: Option<u64>,
    /// Removed (queues are bounded in bytes): refused with an error that says so.
    #[arg(long, env = "ENCHUFE_QUEUE_FRAMES", value_name = "N", hide = true)]
    pub queue_frames: Option<usize>,
    /// Outbound queue's high-water mark per connection, bytes: over it the connection's input
    /// is not read [default: 1048576].
    #[arg(long, env = "ENCHUFE_QUEUE_BYTES", value_name = "BYTES")]
    pub queue_bytes: Option<usize>,
    /// Outbound queue's hard bound per connection, bytes: past it the connection is cut as a
    /// slow consumer at once [default: 67108864].
    #[arg(long, env = "ENCHUFE_QUEUE_MAX_BYTES", value_name = "BYTES")]
    pub queue_max_bytes: Option<usize>,
    /// A connection over the high-water mark that writes nothing for this long is cut as a
    /// slow consumer, ms [default: 10000].
    #[arg(long, env = "ENCHUFE_SLOW_AFTER_MS", value_name = "MS")]
    pub slow_after_ms: Option<u64>,
    /// Rooms of up to this many members get presence frames and full member lists
    /// [default: 100].
    #[arg(long, env = "ENCHUFE_PRESENCE_LIMIT", value_name = "N")]
    pub presence_limit: Option<usize>,
    /// Heartbeat announced to clients, ms; silent connections close after 3× [default: 15000].
    #[arg(long, env = "ENCHUFE_HEARTBEAT_MS", value_name = "MS")]
    pub heartbeat_ms: Option<u64>,
    /// Frames per second one connection may send, 0 = unlimited [default: 1000].
    #[arg(long, env = "ENCHUFE_RATE", value_name = "N")]
    pub rate: Option<u32>,
    /// A frame (and the first after connecting) must be complete this long after its first byte,
    /// ms [default: 10000].
    #[arg(long, env = "ENCHUFE_FRAME_TIMEOUT_MS", value_name = "MS")]
    pub frame_timeout_ms: Option<u64>,
    /// Rooms the server holds at most [default: 100000].
    #[arg(long, env = "ENCHUFE_ROOM_LIMIT", value_name = "N")]
    pub room_limit: Option<usize>,
    /// Connections in all, every transport [default: 50000, lowered to fit the file limit].
    #[arg(long, env = "ENCHUFE_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Connections from one IP address, 0 = unlimited [default: 1000].
    #[arg(long, env = "ENCHUFE_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N")]
    pub max_connections_per_address: Option<usize>,
    /// New connections one IP address may open per second, 0 = unlimited [default: 200, bursts
    /// of 1000].
    #[arg(long, env = "ENCHUFE_CONNECTION_RATE", value_name = "N")]
    pub connection_rate: Option<u32>,
    /// Seconds an HTTP request's head may take, also between kept-alive requests [default: 10].
    #[arg(long, env = "ENCHUFE_HEADER_TIMEOUT", value_name = "SECS")]
    pub header_timeout: Option<f64>,
    /// Verify HS256 tokens with this shared secret (then a token is required unless the
    /// policy's `anonymous` says otherwise).
    #[arg(long, env = "ENCHUFE_AUTH_SECRET", value_name = "SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// Verify RS256/ES256 tokens with the public key in this PEM file.
    #[arg(long, env = "ENCHUFE_AUTH_PUBLIC_KEY", value_name = "PEM")]
    pub auth_public_key: Option<PathBuf>,
    /// Verify RS256/ES256 tokens with the keys of this JWKS file (by `kid`; re-read on SIGHUP).
    #[arg(long, env = "ENCHUFE_AUTH_JWKS", value_name = "FILE")]
    pub auth_jwks: Option<PathBuf>,
    /// The `aud` tokens must carry.
    #[arg(long, env = "ENCHUFE_AUTH_AUDIENCE", value_name = "AUD")]
    pub auth_audience: Option<String>,
    /// The `iss` tokens must carry.
    #[arg(long, env = "ENCHUFE_AUTH_ISSUER", value_name = "ISS")]
    pub auth_issuer: Option<String>,
    /// What connections without a token may do: none, read or full [default: full without
    /// keys, none with].
    #[arg(long, env = "ENCHUFE_ANONYMOUS", value_name = "none|read|full")]
    pub anonymous: Option<crate::auth::Anonymous>,
    /// TLS certificate chain, PEM: with --tls-key, HTTP and TCP speak TLS (https://, wss://,
    /// tls://); SIGHUP reloads both files.
    #[arg(long, env = "ENCHUFE_TLS_CERT", value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key, PEM (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "ENCHUFE_TLS_KEY", value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where rooms live: memory (this process) or redis (shared by every node on one Redis:
    /// order, history, presence) [default: memory].
    #[arg(long, env = "ENCHUFE_ENGINE", value_name = "memory|redis")]
    pub engine: Option<crate::engine::EngineKind>,
    /// The Redis engine's server, redis://[user:password@]host:port[/db].
    #[arg(long, env = "ENCHUFE_REDIS_URL", value_name = "URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Seconds a member stays listed without its node refreshing it (Redis engine): the
    /// longest a crashed node's members are still listed [default: 30].
    #[arg(long, env = "ENCHUFE_REDIS_PRESENCE_TTL", value_name = "SECS")]
    pub redis_presence_ttl: Option<u64>,
    /// Milliseconds one request to Redis may take before it is answered 4023 [default: 2000].
    #[arg(long, env = "ENCHUFE_REDIS_TIMEOUT_MS", value_name = "MS")]
    pub redis_timeout_ms: Option<u64>,
}

impl ServeArgs {
    /// The configuration: these flags (and their environment variables) over the file over the
    /// defaults. Also returns the file's log filter, if any.
    pub fn resolve(&self) -> Result<(Config, Option<String>), ConfigError> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let mut config = Config::default();
        let listen = |off: bool, flag: Option<Listen>, file: Option<Listen>, default| {
            if off {
                return None;
            }
            flag.or(file).map_or(default, Option::from)
        };
        config.http = listen(self.no_http, self.http, file.http, config.http);
        config.tcp = listen(self.no_tcp, self.tcp, file.tcp, config.tcp);
        config.udp = listen(self.no_udp, self.udp, file.udp, config.udp);
        if let Some(www) = self.www.clone().or(file.www) {
            config.www = www;
        }
        config.admin_token =
            self.admin_token.clone().or(file.admin_token).filter(|t| !t.is_empty());
        config.cors_origins =
            if self.cors.is_empty() { file.cors.unwrap_or_default() } else { self.cors.clone() };
        if !config.cors_origins.iter().all(|o| crate::http::is_cors_origin(o)) {
            return Err(ConfigError::Invalid(
                "a CORS origin is `*` or scheme://host[:port] (http or https, no path)",
            ));
        }
        config.allowed_origins = if self.allowed_origins.is_empty() {
            file.allowed_origins.unwrap_or_default()
        } else {
            self.allowed_origins.clone()
        };
        if !config.allowed_origins.iter().all(|o| crate::http::is_cors_origin(o)) {
            return Err(ConfigError::Invalid(
                "an allowed origin is `*` or scheme://host[:port] (http or https, no path)",
            ));
        }
        if let Some(secs) = self.shutdown_timeout.or(file.shutdown_timeout_secs) {
            config.shutdown_timeout = Duration::try_from_secs_f64(secs).map_err(|_| {
                ConfigError::Invalid("shutdown timeout must be a positive number of seconds")
            })?;
        }
        let mut hub = file.hub.unwrap_or_default();
        macro_rules! flag {
            ($($field:ident = $flag:expr;)*) => { $( if let Some(v) = $flag { hub.$field = v; } )* };
        }
        flag! {
            max_frame = self.max_frame;
            max_rooms = self.max_rooms;
            history_len = self.history_len;
            history_age_secs = self.history_age;
            queue_frames = self.queue_frames.map(Some);
            queue_bytes = self.queue_bytes;
            queue_max_bytes = self.queue_max_bytes;
            slow_after_ms = self.slow_after_ms;
            presence_limit = self.presence_limit;
            heartbeat_ms = self.heartbeat_ms;
            rate_per_sec = self.rate;
            frame_timeout_ms = self.frame_timeout_ms;
            room_limit = self.room_limit;
        }
        config.hub = hub;
        let mut connections = file.connections.unwrap_or_default();
        if let Some(n) = self.max_connections {
            connections.max_connections = n;
        }
        if let Some(n) = self.max_connections_per_address {
            connections.max_per_address = n;
        }
        if let Some(n) = self.connection_rate {
            connections.rate_per_address = n;
        }
        config.connections = connections;
        if let Some(secs) = self.header_timeout.or(file.header_timeout_secs) {
            config.header_timeout =
                Duration::try_from_secs_f64(secs).ok().filter(|d| !d.is_zero()).ok_or(
                    ConfigError::Invalid("header timeout must be a positive number of seconds"),
                )?;
        }
        let mut auth = file.auth.unwrap_or_default();
        macro_rules! auth_flag {
            ($($field:ident = $flag:expr;)*) => { $( if let Some(v) = $flag { auth.$field = Some(v); } )* };
        }
        auth_flag! {
            secret = self.auth_secret.clone();
            public_key_file = self.auth_public_key.clone();
            jwks_file = self.auth_jwks.clone();
            audience = self.auth_audience.clone();
            issuer = self.auth_issuer.clone();
        }
        if let Some(anonymous) = self.anonymous {
            auth.policy.anonymous = Some(anonymous);
        }
        config.auth = auth;
        config.tls = match (
            self.tls_cert.clone().or(file.tls_cert),
            self.tls_key.clone().or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            _ => return Err(ConfigError::Invalid("tls_cert and tls_key go together")),
        };
        let mut engine = file.engine.unwrap_or_default();
        if let Some(kind) = self.engine {
            engine.kind = kind;
        }
        if let Some(url) = self.redis_url.clone() {
            engine.redis_url = Some(url);
        }
        if let Some(secs) = self.redis_presence_ttl {
            engine.presence_ttl_secs = secs;
        }
        if let Some(ms) = self.redis_timeout_ms {
            engine.timeout_ms = ms;
        }
        config.engine = engine;
        config::validate(&config)?;
        Ok((config, file.log))
    }
}

/// Runs `enchufe serve`.
pub async fn run(args: ServeArgs, log: Option<String>) -> ExitCode {
    let (config, file_log) = match args.resolve() {
        Ok(resolved) => resolved,
        Err(error) => {
            eprintln!("enchufe: {error}");
            return ExitCode::from(2);
        }
    };
    super::init_logging(log.as_deref().or(file_log.as_deref()), "info");
    let server = match Server::bind(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("enchufe: cannot bind: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Listening for SIGHUP before the startup lines are out: a script that reloads right after
    // reading them must not kill the server (SIGHUP's default action).
    #[cfg(unix)]
    reload_on_hangup(server.tls().cloned(), server.hub().auth().clone());
    {
        // The stable startup lines (docs/DECISIONS.md); flushed so that a script reading a pipe
        // sees them at once.
        let mut stdout = std::io::stdout().lock();
        for line in server.addrs().lines() {
            let _ = writeln!(stdout, "{line}");
        }
        let _ = stdout.flush();
    }
    let shutdown = server.shutdown_handle();
    tokio::spawn(async move {
        super::stop_signal().await;
        tracing::info!("signal received");
        shutdown.trigger();
    });
    match server.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("enchufe: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Reloads what SIGHUP reloads: the TLS certificate and key (new connections get the new ones,
/// open connections keep theirs) and the auth keys (a JWKS rotation, a new PEM key). Files that
/// do not load leave the old ones in place. Listens from the call on; the reloads run in a task.
#[cfg(unix)]
fn reload_on_hangup(tls: Option<ServerTls>, auth: std::sync::Arc<crate::auth::Auth>) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(hangup) => hangup,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP: certificates and keys will not reload");
            return;
        }
    };
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            if let Some(tls) = &tls {
                match tls.reload() {
                    Ok(()) => {
                        tracing::info!(cert = %tls.files().cert.display(), "tls certificate reloaded");
                    }
                    Err(error) => {
                        tracing::error!(%error, "tls certificate not reloaded; the old one stays in use");
                    }
                }
            }
            if auth.has_keys() {
                match auth.reload() {
                    Ok(()) => tracing::info!("auth keys reloaded"),
                    Err(error) => {
                        tracing::error!(%error, "auth keys not reloaded; the old ones stay")
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_files_layer_flag_over_file_and_go_together() {
        let dir = std::env::temp_dir().join(format!("enchufe-serve-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("enchufe.toml");
        std::fs::write(&file, "tls_cert = \"file-cert.pem\"\ntls_key = \"file-key.pem\"\n")
            .unwrap();
        let args = ServeArgs { config: Some(file.clone()), ..ServeArgs::default() };
        let files = args.resolve().unwrap().0.tls.unwrap();
        assert_eq!(
            (files.cert.to_str(), files.key.to_str()),
            (Some("file-cert.pem"), Some("file-key.pem"))
        );
        let args = ServeArgs {
            config: Some(file),
            tls_cert: Some("flag-cert.pem".into()),
            ..ServeArgs::default()
        };
        let files = args.resolve().unwrap().0.tls.unwrap();
        assert_eq!(
            (files.cert.to_str(), files.key.to_str()),
            (Some("flag-cert.pem"), Some("file-key.pem"))
        );
        let alone = ServeArgs { tls_key: Some("key.pem".into()), ..ServeArgs::default() };
        assert!(matches!(alone.resolve(), Err(ConfigError::Invalid(_))), "a key without a cert");
        assert_eq!(ServeArgs::default().resolve().unwrap().0.tls, None, "off by default");
        let _ = std::fs::remove_dir_all(dir);
    }
}
