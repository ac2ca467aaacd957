//! What an idle TCP connection costs in a tokio server before the server keeps anything of its
//! own: the floor under `enchufe bench idle`'s figure (docs/PERFORMANCE.md, "Memory per idle
//! connection").
//!
//! ```text
//! cargo run --release -p enchufe --example idle_floor -- socket 9000
//! cargo run --release -p enchufe --example idle_floor -- task 9000
//! ```
//!
//! It accepts N loopback connections on a multi-threaded runtime, as the server does, and keeps
//! each one either as a bare socket registered with tokio's reactor for read readiness and no
//! task (`socket`: what a connection table without a task per connection would hold at least),
//! or as one task per connection that awaits one read (`task`: the least a task per connection
//! holds). It prints the resident memory per connection: (RSS after − RSS at the 100th) / the
//! rest, from /proc/self/status, as `bench idle` measures the server. The clients are plain
//! blocking sockets on a thread of this process (kernel memory, not in RSS).

use std::{
    sync::Arc,
    task::{Context, Wake, Waker},
};

use tokio::{io::AsyncReadExt, net::TcpStream};

/// A waker that does nothing: readiness is registered, nothing is woken.
struct Ignore;

impl Wake for Ignore {
    fn wake(self: Arc<Self>) {}
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "socket".to_owned());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(9_000);
    if !(mode == "socket" || mode == "task") || n <= 1_000 {
        return Err("usage: idle_floor socket|task [N over 1000]".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let per_connection = runtime.block_on(accept(&mode, n))?;
    println!("{mode}: {per_connection} bytes of RSS per idle connection ({n} connections)");
    // Exit without dropping the connections and the runtime: nothing more to measure.
    std::process::exit(0);
}

async fn accept(mode: &str, n: usize) -> Result<u64> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (done, wait) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        // In the RSS measured too: 4 bytes each (a file descriptor).
        let clients: std::io::Result<Vec<_>> =
            (0..n).map(|_| std::net::TcpStream::connect(addr)).collect();
        let _ = wait.recv();
        drop(clients);
    });
    let waker = Waker::from(Arc::new(Ignore));
    let mut sockets: Vec<Box<TcpStream>> = Vec::with_capacity(n);
    let mut first = 0;
    for i in 0..n {
        let (socket, _) = listener.accept().await?;
        if i == 100 {
            first = rss()?;
        }
        if mode == "task" {
            tokio::spawn(async move {
                let mut socket = socket;
                let _ = socket.read(&mut [0u8; 1]).await;
            });
        } else {
            let _ = socket.poll_read_ready(&mut Context::from_waker(&waker));
            sockets.push(Box::new(socket));
        }
    }
    let per_connection = (rss()? - first) / (n as u64 - 100);
    drop(done);
    Ok(per_connection)
}

/// The process's resident set, in bytes.
fn rss() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or("no VmRSS")?;
    let kib = line.split_whitespace().nth(1).ok_or("no VmRSS value")?;
    Ok(kib.parse::<u64>()? * 1024)
}
