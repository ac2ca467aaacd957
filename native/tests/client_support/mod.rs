//! Helpers of the client and UDP tests: an in-process server on 127.0.0.1 port 0, event
//! waiting with bounded timeouts, the admin kick, and a relay that can refuse new connections
//! while letting established ones flow (so a test can hold a client offline deterministically).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use enchufe::{
    client::{Client, ConnState, Event, Message, Options},
    config::Config,
};
use tokio::{
    net::{TcpListener, TcpStream, UdpSocket},
    task::{JoinHandle, JoinSet},
};

/// The longest any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// The admin token of test servers.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// The transports the client speaks, by URL scheme.
pub const SCHEMES: [&str; 3] = ["ws", "tcp", "udp"];

#[path = "../support/server.rs"]
mod server;
#[allow(unused_imports)] // not every test binary asks
pub use server::{TestServer, on_redis};
#[path = "../support/lines.rs"]
mod lines;
#[allow(unused_imports)] // not every test binary starts a child process
pub use lines::lines_of;

impl TestServer {
    /// Every listener (HTTP+WS, TCP, UDP) on port 0, with an admin token.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = TestServer::config();
        config.admin_token = Some(ADMIN_TOKEN.into());
        tweak(&mut config);
        TestServer::bind(config).await
    }

    /// The client URL for `scheme`.
    pub fn url(&self, scheme: &str) -> String {
        url(scheme, self.addr(scheme))
    }

    /// Shuts down and waits for `run` to return.
    pub async fn stop(self) {
        self.stop_within(WAIT).await;
    }
}

/// The client URL for `scheme` at `addr`.
pub fn url(scheme: &str, addr: SocketAddr) -> String {
    match scheme {
        "ws" => format!("ws://{addr}/ws"),
        _ => format!("{scheme}://{addr}"),
    }
}

/// Awaits `f` for at most [`WAIT`].
pub async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(WAIT, f).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Options for test clients: a name and fast reconnects.
pub fn options(name: &str) -> Options {
    let mut options = Options::default().name(name);
    options.backoff_base = Duration::from_millis(20);
    options.backoff_cap = Duration::from_millis(200);
    options.connect_timeout = Duration::from_millis(1000);
    options
}

/// Connects a test client.
pub async fn connect(url: &str, options: Options) -> Client {
    within("connect", enchufe::client::connect(url, options)).await.expect("connect")
}

/// The next event that `pick` maps to something, skipping the others.
pub async fn next_matching<T>(client: &Client, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    within("event", async {
        loop {
            let event = client.next_event().await.expect("the client is not closed");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
}

/// The next message event.
pub async fn next_message(client: &Client) -> Message {
    next_matching(client, |event| match event {
        Event::Message(message) => Some(message),
        _ => None,
    })
    .await
}

/// The next `n` message events, failing on a gap.
pub async fn messages(client: &Client, n: usize) -> Vec<Message> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let message = next_matching(client, |event| match event {
            Event::Message(message) => Some(message),
            Event::Gap { room, from, to } => panic!("unexpected gap {from}..={to} in {room}"),
            _ => None,
        })
        .await;
        out.push(message);
    }
    out
}

/// Waits for a state change matching `want`.
pub async fn state(client: &Client, want: impl Fn(&ConnState) -> bool) -> ConnState {
    next_matching(client, |event| match event {
        Event::State(state) if want(&state) => Some(state),
        _ => None,
    })
    .await
}

/// The JSON text of a message body.
pub fn text(message: &Message) -> &str {
    message.body.as_json_text().expect("a JSON body")
}

/// `DELETE /api/sessions/{session}` with the admin token; returns the HTTP status.
pub async fn kick(http: SocketAddr, session: &str) -> u16 {
    let path = format!("/api/sessions/{session}");
    let authorization = format!("Bearer {ADMIN_TOKEN}");
    enchufe_tests::http::request(http, "DELETE", &path, &[("Authorization", &authorization)], b"")
        .await
        .status
}

/// A relay in front of a server listener. While [`Relay::block`] is set, new connections (TCP)
/// or new client addresses (UDP) get nowhere, and established ones keep flowing both ways.
pub struct Relay {
    pub addr: SocketAddr,
    blocked: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Relay {
    /// A relay for `scheme` (`udp`, or a TCP-based one: `tcp`, `ws`) to `target`.
    pub async fn start(scheme: &str, target: SocketAddr) -> Relay {
        let blocked = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(AtomicBool::new(false));
        let (addr, task) = if scheme == "udp" {
            let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind relay");
            let addr = socket.local_addr().expect("relay addr");
            (addr, tokio::spawn(relay_udp(socket, target, blocked.clone(), cut.clone())))
        } else {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
            let addr = listener.local_addr().expect("relay addr");
            (addr, tokio::spawn(relay_tcp(listener, target, blocked.clone())))
        };
        Relay { addr, blocked, cut, task }
    }

    /// Refuses new connections (`true`) or lets them through again (`false`).
    pub fn block(&self, blocked: bool) {
        self.blocked.store(blocked, Ordering::SeqCst);
    }

    /// UDP only: drops every datagram, both ways (`true`), or forwards them again (`false`).
    pub fn cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay_tcp(listener: TcpListener, target: SocketAddr, blocked: Arc<AtomicBool>) {
    // Aborting the relay drops the set, which aborts every connection's copy.
    let mut copies = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else { return };
        if blocked.load(Ordering::SeqCst) {
            drop(inbound); // the client sees the connection end at once
            continue;
        }
        copies.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

async fn relay_udp(
    socket: UdpSocket,
    target: SocketAddr,
    blocked: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
) {
    let socket = Arc::new(socket);
    let mut upstreams: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut returns = JoinSet::new();
    let mut buf = vec![0; 65_536];
    loop {
        let Ok((len, client)) = socket.recv_from(&mut buf).await else { return };
        if cut.load(Ordering::SeqCst) {
            continue;
        }
        let upstream = match upstreams.get(&client) {
            Some(upstream) => upstream.clone(),
            None if blocked.load(Ordering::SeqCst) => continue,
            None => {
                let upstream = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
                upstream.connect(target).await.expect("connect upstream");
                let (back, up, cut) = (socket.clone(), upstream.clone(), cut.clone());
                returns.spawn(async move {
                    let mut buf = vec![0; 65_536];
                    while let Ok(len) = up.recv(&mut buf).await {
                        if cut.load(Ordering::SeqCst) {
                            continue;
                        }
                        let _ = back.send_to(&buf[..len], client).await;
                    }
                });
                upstreams.insert(client, upstream.clone());
                upstream
            }
        };
        let _ = upstream.send(&buf[..len]).await;
    }
}
