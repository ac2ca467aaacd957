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

    /// Binds `config` and runs the server in the background.
    pub async fn bind(config: Config) -> TestServer {
        Self::spawn(Server::bind(config).await.expect("bind"))
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
