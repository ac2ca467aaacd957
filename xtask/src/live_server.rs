//! A live `enchufe serve` for tests that need a real server (the browser tests, the consumer
//! test, the web app's end-to-end test): started on free ports with an admin token, found by
//! the address it prints, killed by its own PID when dropped.

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use crate::sh::{Failed, Result, root};

/// How long the server may take to print its address.
const STARTUP: Duration = Duration::from_secs(30);

/// A running server; dropping it kills the process.
pub(crate) struct LiveServer {
    binary: PathBuf,
    extra: Vec<String>,
    child: Child,
    /// `host:port` of the HTTP (and WebSocket) listener.
    http: String,
    admin_token: String,
}

impl LiveServer {
    /// The debug build of the server (`cargo build -p enchufe` first).
    pub(crate) fn debug_binary() -> PathBuf {
        root().join("target/debug/enchufe")
    }

    /// Starts `binary serve` with HTTP on a free port, TCP and UDP on free ports too, the admin
    /// endpoint on with a token of its own, and `extra` arguments; waits until it listens.
    pub(crate) fn start(binary: &Path, extra: &[&str]) -> Result<LiveServer> {
        let admin_token = format!("xtask-{}-{}", std::process::id(), nanos());
        let extra: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
        let (child, http) = spawn(binary, "127.0.0.1:0", &admin_token, &extra)?;
        Ok(LiveServer { binary: binary.to_owned(), extra, child, http, admin_token })
    }

    /// Kills the server and starts it again on the same HTTP port (its in-memory rooms are
    /// gone, as after a crash). Retries briefly while the old socket lets go of the port.
    pub(crate) fn restart(&mut self) -> Result {
        kill(&mut self.child);
        let mut last = None;
        for _ in 0..50 {
            match spawn(&self.binary, &self.http, &self.admin_token, &self.extra) {
                Ok((child, http)) => {
                    self.child = child;
                    self.http = http;
                    return Ok(());
                }
                Err(error) => last = Some(error),
            }
            thread::sleep(Duration::from_millis(100));
        }
        Err(last.unwrap_or_else(|| Failed("the server did not restart".into())))
    }

    /// `host:port` of the HTTP listener.
    pub(crate) fn http_addr(&self) -> &str {
        &self.http
    }

    /// The base URL of the HTTP listener, e.g. `http://127.0.0.1:41234`.
    #[allow(dead_code)] // for the web app's end-to-end test
    pub(crate) fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The WebSocket endpoint, e.g. `ws://127.0.0.1:41234/ws`.
    pub(crate) fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.http)
    }

    /// The admin token (`Authorization: Bearer …` for `DELETE /api/sessions/{session}`).
    pub(crate) fn admin_token(&self) -> &str {
        &self.admin_token
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// Starts the server on `http` and returns it with the address it printed.
fn spawn(binary: &Path, http: &str, token: &str, extra: &[String]) -> Result<(Child, String)> {
    let mut command = Command::new(binary);
    command
        .current_dir(root())
        .args(["serve", "--http", http, "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
        .args(["--admin-token", token, "--log", "warn"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| Failed(format!("could not start {}: {e}", binary.display())))?;
    let addresses = listeners(child.stdout.take().expect("stdout is piped"));
    let bound = loop {
        match addresses.recv_timeout(STARTUP) {
            Ok((name, addr)) if name == "http" => break Ok(addr),
            Ok(_) => {}
            Err(error) => break Err(error),
        }
    };
    match bound {
        Ok(addr) => Ok((child, addr)),
        Err(_) => {
            let status = child.try_wait().ok().flatten();
            kill(&mut child);
            Err(Failed(match status {
                Some(status) => format!("the server exited before listening on {http}: {status}"),
                None => format!("the server did not print its address within {STARTUP:?}"),
            }))
        }
    }
}

/// Reads the stdout of `enchufe serve` on a thread: sends `(listener, host:port)` for each of
/// its `enchufe: NAME listening on NAME://ADDR` lines, and keeps draining the pipe afterwards
/// so that the server never blocks on it.
pub(crate) fn listeners(stdout: ChildStdout) -> mpsc::Receiver<(String, String)> {
    let (found, addresses) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(std::io::Result::ok) {
            if let Some(listener) = listening(&line) {
                let _ = found.send(listener);
            }
        }
    });
    addresses
}

/// Parses `enchufe: NAME listening on NAME://ADDR` into (NAME, ADDR).
fn listening(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("enchufe: ")?;
    let (name, url) = rest.split_once(" listening on ")?;
    let addr = url.trim().strip_prefix(name)?.strip_prefix("://")?;
    Some((name.to_owned(), addr.to_owned()))
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A few varying digits for the admin token (unguessable enough for a loopback test server).
fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::listening;

    #[test]
    fn reads_the_listening_lines() {
        assert_eq!(
            listening("enchufe: tcp listening on tcp://127.0.0.1:40001"),
            Some(("tcp".into(), "127.0.0.1:40001".into()))
        );
        assert_eq!(
            listening("enchufe: http listening on http://127.0.0.1:40002"),
            Some(("http".into(), "127.0.0.1:40002".into()))
        );
        assert_eq!(listening("something else"), None);
    }
}
