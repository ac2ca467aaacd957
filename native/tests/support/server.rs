//! The in-process server every integration test binary starts: one definition, included by
//! both helper modules (`common`, for the transport tests, and `client_support`, for the
//! client tests), which differ only in the listeners and admin token they turn on by default.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use enchufe::{
    config::Config,
    hub::Hub,
    server::{Addrs, Server, Shutdown},
};
use tokio::task::JoinHandle;

/// Set to a `redis://` URL to run a test process's servers on the Redis engine (`cargo xtask
/// test` runs the transport suites so once, against a `redis-server` it starts).
pub const REDIS_ENV: &str = "ENCHUFE_TEST_REDIS_URL";

/// Whether this process's test servers run on the Redis engine ([`REDIS_ENV`]).
pub fn on_redis() -> bool {
    std::env::var(REDIS_ENV).is_ok_and(|url| !url.is_empty())
}

/// With [`REDIS_ENV`] set, puts a memory-engine `config` on Redis; returns whether it did.
fn put_on_redis(config: &mut Config) -> bool {
    static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if !on_redis() {
        return false;
    }
    let url = std::env::var(REDIS_ENV).unwrap_or_default();
    if config.engine.kind != enchufe::engine::EngineKind::Memory {
        return false;
    }
    let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    config.engine = enchufe::engine::EngineConfig {
        prefix: format!("test-{}-{n}", std::process::id()),
        ..enchufe::engine::EngineConfig::redis(url)
    };
    true
}

/// A running server and the handles a test needs. Each `#[tokio::test]` has its own runtime,
/// so a server a failing test leaves behind ends with it.
pub struct TestServer {
    pub addrs: Addrs,
    pub shutdown: Shutdown,
    pub task: JoinHandle<std::io::Result<()>>,
    pub hub: Hub,
}

impl TestServer {
    /// Every listener on 127.0.0.1 port 0 and no web app directory: the base of each helper
    /// module's `start`.
    pub fn config() -> Config {
        let mut config = Config::ephemeral();
        config.www = PathBuf::from("/nonexistent/enchufe-www");
        config
    }

    /// Binds `config` and runs the server in the background. With [`REDIS_ENV`] set, a server
    /// configured with the memory engine gets the Redis engine at that URL instead, under a key
    /// prefix of its own (so that tests sharing the Redis never share a room), and this returns
    /// once it has reached Redis.
    pub async fn bind(mut config: Config) -> TestServer {
        let redis = put_on_redis(&mut config);
        let server = Self::spawn(Server::bind(config).await.expect("bind"));
        if redis {
            let ready = async {
                while !server.hub.engine().is_some_and(|e| e.is_ready()) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(10), ready).await.expect("Redis reached");
        }
        server
    }

    /// Runs an already bound server in the background.
    pub fn spawn(server: Server) -> TestServer {
        let addrs = server.addrs();
        let shutdown = server.shutdown_handle();
        let hub = server.hub().clone();
        let task = tokio::spawn(server.run());
        TestServer { addrs, shutdown, task, hub }
    }

    /// The address of the listener for `scheme` (`ws`, `tcp`, `udp`, `http`).
    pub fn addr(&self, scheme: &str) -> SocketAddr {
        match scheme {
            "ws" | "http" => self.addrs.http,
            "tcp" => self.addrs.tcp,
            "udp" => self.addrs.udp,
            other => panic!("no listener for {other}"),
        }
        .unwrap_or_else(|| panic!("{scheme} listener is off"))
    }

    pub fn http(&self) -> SocketAddr {
        self.addr("http")
    }

    pub fn tcp(&self) -> SocketAddr {
        self.addr("tcp")
    }

    /// Shuts down and waits (at most `deadline`) for `run` to return.
    pub async fn stop_within(self, deadline: Duration) {
        self.shutdown.trigger();
        tokio::time::timeout(deadline, self.task)
            .await
            .expect("server stops within the deadline")
            .expect("server task")
            .expect("server run");
    }
}
