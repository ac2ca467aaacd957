//! A server under test, pinned to CPU 0 (`taskset -c 0`, which execs, so the child's PID is
//! the server's), on free loopback ports; dropping it kills it.

use std::{
    fs::File,
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use super::{Server, Transport, nats, out_dir};
use crate::{
    live_server::listeners,
    sh::{Failed, Result, root},
};

/// The CPU the servers run on (the load runs on CPU 1).
pub(super) const SERVER_CPU: &str = "0";

/// How long a server may take to listen.
const STARTUP: Duration = Duration::from_secs(30);

/// The arguments of `enchufe` for the server under test: port 0 everywhere, the
/// per-connection rate limit off (it would cap the publisher), the per-address connection
/// budget off (every load connection comes from 127.0.0.1; NATS has no such budget), nothing
/// else changed.
pub(super) const ENCHUFE_ARGS: &[&str] = &[
    "serve",
    "--rate",
    "0",
    "--max-connections-per-address",
    "0",
    "--connection-rate",
    "0",
    "--http",
    "127.0.0.1:0",
    "--tcp",
    "127.0.0.1:0",
    "--udp",
    "127.0.0.1:0",
];

/// A running server; dropping it kills the process.
pub(super) struct Running {
    server: Server,
    child: Child,
    /// `host:port` of the TCP listener.
    tcp: String,
    /// `host:port` of the WebSocket listener.
    ws: String,
}

impl Running {
    /// Starts `server` (enchufe from `binary`) and waits until it accepts connections.
    pub(super) fn start(server: Server, binary: &Path) -> Result<Running> {
        match server {
            Server::Enchufe => start_enchufe(binary, &[]),
            Server::Nats => start_nats(),
        }
    }

    /// enchufe with `extra` arguments after [`ENCHUFE_ARGS`] (the Redis engine's).
    pub(super) fn enchufe_with(binary: &Path, extra: &[&str]) -> Result<Running> {
        start_enchufe(binary, extra)
    }

    /// The URL the load tool connects to for `transport`.
    pub(super) fn url(&self, transport: Transport) -> String {
        match (self.server, transport) {
            (Server::Enchufe, Transport::Tcp) => format!("tcp://{}", self.tcp),
            (Server::Enchufe, Transport::Ws) => format!("ws://{}/ws", self.ws),
            (Server::Nats, Transport::Tcp) => format!("nats://{}", self.tcp),
            (Server::Nats, Transport::Ws) => format!("nats+ws://{}", self.ws),
        }
    }

    /// The WebSocket URL a browser client connects to (nats.ws takes `ws://`, not the load
    /// tool's `nats+ws://`).
    pub(super) fn browser_url(&self) -> String {
        match self.server {
            Server::Enchufe => format!("ws://{}/ws", self.ws),
            Server::Nats => format!("ws://{}", self.ws),
        }
    }

    /// Which server this is.
    pub(super) fn server(&self) -> Server {
        self.server
    }

    /// The server's PID (taskset execs into it).
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `taskset -c 0 PROGRAM ARGS…` in the workspace root, stderr appended to target/bench/LOG.
pub(super) fn pinned(program: &Path, args: &[&str], log: &str) -> Result<Command> {
    let path = out_dir().join(log);
    let log = File::options()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Failed(format!("cannot open {}: {e}", path.display())))?;
    let mut command = Command::new("taskset");
    command
        .current_dir(root())
        .args(["-c", SERVER_CPU])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(log);
    Ok(command)
}

/// enchufe on port 0: the addresses come from its `enchufe: … listening on …` lines.
fn start_enchufe(binary: &Path, extra: &[&str]) -> Result<Running> {
    let mut command = pinned(binary, ENCHUFE_ARGS, "enchufe.log")?;
    command.args(extra);
    command.stdout(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| Failed(format!("could not start {}: {e}", binary.display())))?;
    let addresses = listeners(child.stdout.take().expect("stdout is piped"));
    let mut running =
        Running { server: Server::Enchufe, child, tcp: String::new(), ws: String::new() };
    let deadline = Instant::now() + STARTUP;
    while running.tcp.is_empty() || running.ws.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match addresses.recv_timeout(left) {
            Ok((name, addr)) if name == "tcp" => running.tcp = addr,
            Ok((name, addr)) if name == "http" => running.ws = addr,
            Ok(_) => {}
            Err(_) => {
                let status = running.child.try_wait().ok().flatten();
                return Err(Failed(match status {
                    Some(status) => format!(
                        "enchufe exited before listening: {status} (see target/bench/enchufe.log)"
                    ),
                    None => format!("enchufe did not print its addresses within {STARTUP:?}"),
                }));
            }
        }
    }
    Ok(running)
}

/// nats-server with a generated config on free ports; ready once both ports accept. A port
/// found free can be taken before nats-server binds it (by another program's connection: the
/// idle runs leave thousands of ports in use): nats-server then exits, and is started again on
/// other ports, up to three times.
fn start_nats() -> Result<Running> {
    let mut attempt = 1;
    loop {
        match start_nats_once() {
            Err(Failed(why)) if why.contains(EXITED) && attempt < 3 => {
                eprintln!("{why}; again on other ports");
                attempt += 1;
            }
            started => return started,
        }
    }
}

/// What [`start_nats_once`] says when nats-server exits before listening.
const EXITED: &str = "nats-server exited before listening";

fn start_nats_once() -> Result<Running> {
    let [tcp, ws] = free_ports()?;
    let config = out_dir().join("nats.conf");
    std::fs::write(&config, nats::config(&tcp, &ws))
        .map_err(|e| Failed(format!("cannot write {}: {e}", config.display())))?;
    let config = config.to_string_lossy().into_owned();
    let mut command = pinned(Path::new(nats::PROGRAM), &["-c", &config], "nats.log")?;
    command.stdout(Stdio::null());
    let child =
        command.spawn().map_err(|e| Failed(format!("could not start {}: {e}", nats::PROGRAM)))?;
    let mut running = Running { server: Server::Nats, child, tcp, ws };
    let deadline = Instant::now() + STARTUP;
    for addr in [running.tcp.clone(), running.ws.clone()] {
        while TcpStream::connect(&addr).is_err() {
            if let Ok(Some(status)) = running.child.try_wait() {
                return Err(Failed(format!(
                    "{EXITED} on {addr}: {status} (see target/bench/nats.log)"
                )));
            }
            if Instant::now() > deadline {
                return Err(Failed(format!(
                    "nats-server did not listen on {addr} within {STARTUP:?}"
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(running)
}

/// `N` distinct loopback `host:port`s that are free now: bound to port 0 together (so that the
/// kernel cannot hand the same port out twice), then released.
fn free_ports<const N: usize>() -> Result<[String; N]> {
    let listeners = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Failed(format!("cannot bind a free port: {e}")))?;
    let addrs = listeners
        .iter()
        .map(|listener| listener.local_addr().map(|addr| addr.to_string()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Failed(format!("no local address: {e}")))?;
    addrs.try_into().map_err(|_| Failed("free ports: fewer than asked".into()))
}
