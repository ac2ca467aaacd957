//! A `redis-server` of the test run's own (Debian's, installed by `setup`): on a free port of
//! 127.0.0.1, no persistence, its directory removed and the process killed when dropped. The
//! transport suites run once more against it on the Redis engine (`cargo xtask test`); the
//! Redis engine's own tests (native/tests/redis.rs) start Redis servers of their own.

use std::{
    io::{BufRead as _, BufReader},
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use crate::sh::{Failed, Result};

/// A running `redis-server`.
pub(crate) struct Redis {
    port: u16,
    dir: PathBuf,
    child: Child,
}

impl Redis {
    /// Starts one and waits until it accepts connections.
    pub(crate) fn start() -> Result<Redis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Failed(format!("no free port for redis-server: {e}")))?
            .port();
        let dir = std::env::temp_dir().join(format!("enchufe-xtask-redis-{port}"));
        std::fs::create_dir_all(&dir).map_err(|e| Failed(format!("{}: {e}", dir.display())))?;
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Failed(format!("cannot start redis-server: {e}")))?;
        let stdout = child.stdout.take().ok_or_else(|| Failed("redis-server's output".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines.by_ref().map_while(|l| l.ok()).any(|l| l.contains("Ready to accept"));
        if !ready {
            let _ = child.kill();
            return Err(Failed("redis-server ended before it was ready".into()));
        }
        // Its log goes on being read so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(|l| l.ok()).for_each(drop));
        Ok(Redis { port, dir, child })
    }

    /// Its URL.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
