//! [`Server`]: binds the listeners, runs them on one hub, and shuts down gracefully.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    net::{TcpListener, UdpSocket},
    sync::mpsc,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    admission::Admission,
    auth::{Anonymous, Auth},
    clock,
    config::Config,
    engine::EngineKind,
    hub::{Command, EngineLink, Hub},
    metrics::Metrics,
    tls::ServerTls,
};

/// A bound server, not yet running. Binding and running are separate so that a caller (a test,
/// the CLI) learns the real addresses — port 0 picks a free one — before any client connects.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use enchufe::{config::Config, server::Server};
/// let server = Server::bind(Config::ephemeral()).await?;
/// let addrs = server.addrs();
/// let shutdown = server.shutdown_handle();
/// let running = tokio::spawn(server.run());
/// // … connect to addrs.http / addrs.tcp …
/// shutdown.trigger();
/// running.await.expect("server task")?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Server {
    hub: Hub,
    /// The shared engine's command queue, for its driver (Redis engine only).
    engine: Option<mpsc::Receiver<Command>>,
    config: Arc<Config>,
    admission: Arc<Admission>,
    http: Option<TcpListener>,
    tcp: Option<TcpListener>,
    udp: Option<UdpSocket>,
    tls: Option<ServerTls>,
    addrs: Addrs,
    shutdown: Shutdown,
}

/// The addresses the listeners are bound to (`None`: turned off).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Addrs {
    /// HTTP + WebSocket + SSE.
    pub http: Option<SocketAddr>,
    /// TCP.
    pub tcp: Option<SocketAddr>,
    /// UDP.
    pub udp: Option<SocketAddr>,
    /// Whether HTTP and TCP speak TLS (`https://`, `wss://`, `tls://`; UDP stays plain).
    pub tls: bool,
}

/// Triggers a graceful shutdown of a running [`Server`]. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Shutdown(CancellationToken);

/// What connection tasks share: the hub, the configuration, and the shutdown machinery.
///
/// One pointer, so that every connection task (and HTTP request) carries 8 bytes of it rather
/// than a copy of every field: idle connections are counted in bytes (docs/PERFORMANCE.md).
#[derive(Clone, Debug)]
pub(crate) struct Context(Arc<Shared>);

/// The fields of a [`Context`].
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) hub: Hub,
    pub(crate) config: Arc<Config>,
    /// The connection budgets every listener asks before it serves a connection.
    pub(crate) admission: Arc<Admission>,
    /// The bound listener addresses (`GET /api/info` reports them).
    pub(crate) addrs: Addrs,
    /// TLS for the HTTP and TCP listeners, if configured.
    pub(crate) tls: Option<ServerTls>,
    /// Every connection task, so shutdown can wait for them to flush.
    pub(crate) tracker: TaskTracker,
    /// Cancelled when shutdown begins: accept loops stop.
    pub(crate) stop: CancellationToken,
    /// Cancelled when the shutdown deadline passes: connections drop what they still hold.
    pub(crate) abort: CancellationToken,
}

impl std::ops::Deref for Context {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[cfg(test)]
impl Context {
    /// A context over a fresh hub with the default configuration, for unit tests.
    pub(crate) fn for_tests() -> Context {
        let config = Arc::new(Config::default());
        let metrics = Arc::new(Metrics::default());
        Context(Arc::new(Shared {
            hub: Hub::new(config.hub.clone(), metrics.clone(), crate::mac::Key::random()),
            admission: Arc::new(Admission::new(config.connections.clone(), None, metrics)),
            config,
            addrs: Addrs::default(),
            tls: None,
            tracker: TaskTracker::new(),
            stop: CancellationToken::new(),
            abort: CancellationToken::new(),
        }))
    }
}

impl Server {
    /// Binds every enabled listener, and loads the TLS certificate if one is configured. Fails
    /// if an address cannot be bound or the certificate and key do not load.
    pub async fn bind(config: Config) -> io::Result<Server> {
        let tls = config.tls.clone().map(ServerTls::load).transpose()?;
        let http = match config.http {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let tcp = match config.tcp {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let udp = match config.udp {
            Some(addr) => Some(UdpSocket::bind(addr).await?),
            None => None,
        };
        let addrs = Addrs {
            http: http.as_ref().map(TcpListener::local_addr).transpose()?,
            tcp: tcp.as_ref().map(TcpListener::local_addr).transpose()?,
            udp: udp.as_ref().map(UdpSocket::local_addr).transpose()?,
            tls: tls.is_some(),
        };
        let metrics = Arc::new(Metrics::default());
        let auth = Auth::load(config.auth.clone()).map_err(io::Error::other)?;
        warn_if_open(&addrs, &auth);
        let key = crate::mac::Key::random();
        let (link, engine) = match config.engine.kind {
            EngineKind::Memory => (None, None),
            EngineKind::Redis => {
                let node = format!("n-{}", hex8(&key.mac(b"node")));
                let (link, commands) = EngineLink::new(node.into(), config.engine.queue);
                (Some(link), Some(commands))
            }
        };
        let hub = Hub::with_engine(config.hub.clone(), metrics.clone(), key, Arc::new(auth), link);
        let fds = raise_file_limit();
        let admission = Arc::new(Admission::new(config.connections.clone(), fds, metrics));
        Ok(Server {
            hub,
            engine,
            admission,
            config: Arc::new(config),
            http,
            tcp,
            udp,
            tls,
            addrs,
            shutdown: Shutdown::default(),
        })
    }

    /// The bound addresses.
    pub fn addrs(&self) -> Addrs {
        self.addrs
    }

    /// The hub (to publish or inspect from the embedding program).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The TLS configuration, if any: [`ServerTls::reload`] on it swaps the certificate while
    /// the server runs (the CLI calls it on SIGHUP).
    pub fn tls(&self) -> Option<&ServerTls> {
        self.tls.as_ref()
    }

    /// A handle that makes [`Server::run`] shut down gracefully.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Serves until the [`Shutdown`] handle is triggered, then: stops accepting, tells every
    /// client (`error` 4015 `shutting_down`, WebSocket close 4015), lets connections flush their
    /// queues until the configured deadline, drops what is left, and returns.
    pub async fn run(self) -> io::Result<()> {
        let ctx = Context(Arc::new(Shared {
            hub: self.hub.clone(),
            config: self.config.clone(),
            admission: self.admission.clone(),
            addrs: self.addrs,
            tls: self.tls.clone(),
            tracker: TaskTracker::new(),
            stop: CancellationToken::new(),
            abort: CancellationToken::new(),
        }));
        let mut listeners = Vec::new();
        if let Some(listener) = self.http {
            listeners.push(tokio::spawn(crate::http::serve(listener, ctx.clone())));
        }
        if let Some(listener) = self.tcp {
            listeners.push(tokio::spawn(crate::tcp::serve(listener, ctx.clone())));
        }
        if let Some(socket) = self.udp {
            listeners.push(tokio::spawn(crate::udp::serve(socket, ctx.clone())));
        }
        let engine = self.engine.map(|commands| {
            let (hub, config) = (ctx.hub.clone(), ctx.config.engine.clone());
            tokio::spawn(crate::engine::redis::run(hub, config, commands, ctx.abort.clone()))
        });
        let sweeper = tokio::spawn(sweep(ctx.clone()));
        let timer = tokio::spawn(hub_timer(ctx.hub.clone()));

        self.shutdown.0.cancelled().await;
        tracing::info!(sessions = ctx.hub.session_count(), "shutting down");
        ctx.stop.cancel();
        ctx.hub.shut_down();
        ctx.tracker.close();
        let drained = tokio::time::timeout(ctx.config.shutdown_timeout, async {
            for listener in &mut listeners {
                let _ = listener.await;
            }
            ctx.tracker.wait().await;
        })
        .await;
        if drained.is_err() {
            tracing::warn!("shutdown deadline passed; dropping the connections still open");
            ctx.abort.cancel();
            for listener in &listeners {
                listener.abort();
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), ctx.tracker.wait()).await;
        }
        sweeper.abort();
        timer.abort();
        if let Some(engine) = engine {
            engine.abort();
        }
        tracing::info!("stopped");
        Ok(())
    }
}

impl Addrs {
    /// The startup lines, one per listener, e.g. `enchufe: http listening on http://127.0.0.1:8480`;
    /// with TLS the schemes are `https://` and `tls://` (UDP stays `udp://`).
    ///
    /// The format is stable (docs/DECISIONS.md): scripts and tests that start the server on port
    /// 0 read the real address from the text after `listening on` and the scheme.
    pub fn lines(&self) -> Vec<String> {
        let (http, tcp) = if self.tls { ("https", "tls") } else { ("http", "tcp") };
        [("http", http, self.http), ("tcp", tcp, self.tcp), ("udp", "udp", self.udp)]
            .into_iter()
            .filter_map(|(name, scheme, addr)| {
                addr.map(|addr| format!("enchufe: {name} listening on {scheme}://{addr}"))
            })
            .collect()
    }
}

impl Shutdown {
    /// Starts the graceful shutdown. Calling it again does nothing.
    pub fn trigger(&self) {
        self.0.cancel();
    }

    /// Whether shutdown was triggered.
    pub fn is_triggered(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// The hub's timer: [`Hub::handle_timeout`] every [`Hub::timeout_period`] (silent sessions,
/// unfinished frames, stalled queues), with the time read here — the hub reads no clock.
async fn hub_timer(hub: Hub) {
    let mut tick = tokio::time::interval(hub.timeout_period());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        hub.handle_timeout(clock::now());
    }
}

/// Periodically expires history, forgets idle rooms, and forgets client addresses that no
/// longer hold a connection or a recent one.
async fn sweep(ctx: Context) {
    let mut tick = tokio::time::interval(ctx.hub.sweep_period());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        ctx.hub.sweep(clock::now());
        ctx.admission.sweep();
    }
}

/// Logs a warning when a listener faces more than this machine and anyone may use it: no key is
/// configured, so every connection is anonymous and may do everything.
fn warn_if_open(addrs: &Addrs, auth: &Auth) {
    let public =
        [addrs.http, addrs.tcp, addrs.udp].into_iter().flatten().any(|a| !a.ip().is_loopback());
    if public && !auth.has_keys() && auth.anonymous() == Anonymous::Full {
        tracing::warn!(
            "listening beyond loopback with no auth configured: anyone who reaches this server \
             can publish to and read every room (set --auth-secret, --auth-public-key or \
             --auth-jwks; README, \"Deploying\")"
        );
    }
}

/// The first 8 bytes of `tag` in hex.
fn hex8(tag: &[u8]) -> String {
    tag.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Raises the file-descriptor soft limit to the hard one, as nats-server and other servers do:
/// every connection is a descriptor, and a low soft limit (often 1024) would cap the server far
/// below what it can hold. Returns the limit now in force, if the platform tells it.
fn raise_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::debug!(limit, "file-descriptor limit");
            Some(limit)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the file-descriptor limit");
            None
        }
    }
}
