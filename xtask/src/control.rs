//! The browser tests' control endpoint: a tiny HTTP server on a free loopback port through
//! which a test page asks the harness for what a page cannot do itself.
//!
//! - `POST /publish/{room}?from=NAME` (body: JSON) — a REST publish (`POST /api/rooms/{room}/messages`).
//! - `POST /kick/{session}` — the admin disconnect (`DELETE /api/sessions/{session}` with the
//!   admin token, which so never reaches the page).
//! - `POST /restart` — kills the server and starts it again on the same port.
//!
//! The page runs on wasm-bindgen-test-runner's origin and the server sends no CORS headers, so
//! the page cannot call the server's REST API itself; this endpoint answers with
//! `Access-Control-Allow-Origin: *` to simple requests (a POST with a text body needs no
//! preflight). Requests are handled one at a time, which also orders them.

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::{self, JoinHandle},
    time::Duration,
};

use crate::{
    live_server::LiveServer,
    sh::{Failed, Result},
};

/// A running control endpoint; dropping it stops it.
/// The HS256 secret of the live server that verifies tokens (`ENCHUFE_TEST_AUTH_URL`); the
/// control endpoint mints tokens with it (`/token?sub=…&ttl=…`).
pub(crate) const TEST_AUTH_SECRET: &str = "xtask-browser-tests-auth-secret";

pub(crate) struct Control {
    addr: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Control {
    /// Serves the control endpoint for `server` on a free port.
    pub(crate) fn start(server: Arc<Mutex<LiveServer>>) -> Result<Control> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Failed(format!("control endpoint: cannot bind: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failed(format!("control endpoint: no address: {e}")))?
            .to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Err(error) = stream.and_then(|stream| handle(stream, &server)) {
                    eprintln!("control endpoint: {error}");
                }
            }
        });
        Ok(Control { addr, stop, thread: Some(thread) })
    }

    /// The endpoint's base URL, e.g. `http://127.0.0.1:40001`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(&self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request: read it, act, answer.
fn handle(stream: TcpStream, server: &Mutex<LiveServer>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut content_length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;

    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, answer) = if method == "OPTIONS" {
        (204, String::new())
    } else if method != "POST" {
        (405, "POST only".to_owned())
    } else {
        act(target, &body, server)
    };
    respond(stream, status, &answer)
}

/// Does what `target` asks; returns the status and body to answer with.
fn act(target: &str, body: &[u8], server: &Mutex<LiveServer>) -> (u16, String) {
    let mut server = server.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let result = match Action::parse(target) {
        Some(Action::Restart) => {
            server.restart().map(|()| (200, format!("restarted on {}", server.http_addr())))
        }
        Some(Action::Kick { path }) => {
            let auth = format!("Bearer {}", server.admin_token());
            request(server.http_addr(), "DELETE", &path, &[("Authorization", &auth)], b"")
        }
        Some(Action::Publish { path }) => {
            let json = [("Content-Type", "application/json")];
            request(server.http_addr(), "POST", &path, &json, body)
        }
        Some(Action::Token { sub, ttl }) => mint(&sub, &ttl),
        None => Ok((404, format!("unknown control action {target}"))),
    };
    result.unwrap_or_else(|Failed(error)| (502, error))
}

/// What a control request asks for, with the server path it maps to.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    Restart,
    Kick {
        path: String,
    },
    Publish {
        path: String,
    },
    /// A token for the auth server, from `enchufe token`.
    Token {
        sub: String,
        ttl: String,
    },
}

impl Action {
    fn parse(target: &str) -> Option<Action> {
        if target == "/restart" {
            return Some(Action::Restart);
        }
        if let Some(query) = target.strip_prefix("/token?") {
            let mut sub = "browser".to_owned();
            let mut ttl = "60".to_owned();
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some(("sub", value)) => value.clone_into(&mut sub),
                    Some(("ttl", value)) if value.bytes().all(|b| b.is_ascii_digit()) => {
                        value.clone_into(&mut ttl);
                    }
                    _ => {}
                }
            }
            return Some(Action::Token { sub, ttl });
        }
        if let Some(session) = target.strip_prefix("/kick/") {
            return Some(Action::Kick { path: format!("/api/sessions/{session}") });
        }
        let rest = target.strip_prefix("/publish/")?;
        let (room, query) = rest.split_once('?').unwrap_or((rest, ""));
        let query = if query.is_empty() { String::new() } else { format!("?{query}") };
        Some(Action::Publish { path: format!("/api/rooms/{room}/messages{query}") })
    }
}

/// A development token for `sub`, valid `ttl` seconds, signed with [`TEST_AUTH_SECRET`] by the
/// server's own `enchufe token`.
fn mint(sub: &str, ttl: &str) -> Result<(u16, String)> {
    let output = std::process::Command::new(LiveServer::debug_binary())
        .args(["token", "--secret", TEST_AUTH_SECRET, "--sub", sub, "--ttl", ttl])
        .output()
        .map_err(|e| Failed(format!("enchufe token: {e}")))?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr).into_owned();
        return Ok((502, format!("enchufe token failed: {why}")));
    }
    Ok((200, String::from_utf8_lossy(&output.stdout).trim().to_owned()))
}

fn respond(mut stream: TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200..=299 => "OK",
        404 => "Not Found",
        _ => "Error",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Access-Control-Allow-Methods: POST\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// A plain HTTP/1.1 request to the server; returns its status and body. The server's status
/// is passed through (a 2xx is a 2xx for the page too).
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, String)> {
    let failed = |e: std::io::Error| Failed(format!("{method} {path} on {addr}: {e}"));
    let mut stream = TcpStream::connect(addr).map_err(failed)?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(failed)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).map_err(failed)?;
    stream.write_all(body).map_err(failed)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(failed)?;
    let response = String::from_utf8_lossy(&response);
    let status =
        response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| {
            Failed(format!("{method} {path}: not an HTTP response: {response:?}"))
        })?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn control_paths_map_to_the_server_api() {
        assert_eq!(Action::parse("/restart"), Some(Action::Restart));
        assert_eq!(
            Action::parse("/kick/s-12ab"),
            Some(Action::Kick { path: "/api/sessions/s-12ab".into() })
        );
        assert_eq!(
            Action::parse("/publish/lobby?from=curl"),
            Some(Action::Publish { path: "/api/rooms/lobby/messages?from=curl".into() })
        );
        assert_eq!(
            Action::parse("/publish/lobby"),
            Some(Action::Publish { path: "/api/rooms/lobby/messages".into() })
        );
        assert_eq!(Action::parse("/nothing"), None);
    }
}
