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

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "socket".to_owned());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(9_000);
    assert!(mode == "socket" || mode == "task", "usage: idle_floor socket|task [N]");
    assert!(n > 1_000, "N must be over 1000");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let per_connection = runtime.block_on(accept(&mode, n));
    println!("{mode}: {per_connection} bytes of RSS per idle connection ({n} connections)");
    // Exit without dropping the connections and the runtime: nothing more to measure.
    std::process::exit(0);
}

async fn accept(mode: &str, n: usize) -> u64 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, wait) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let clients: Vec<_> = (0..n).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
        let _ = wait.recv();
        drop(clients);
    });
    let waker = Waker::from(Arc::new(Ignore));
    let mut sockets: Vec<Box<TcpStream>> = Vec::with_capacity(n);
    let mut first = 0;
    for i in 0..n {
        let (socket, _) = listener.accept().await.unwrap();
        if i == 100 {
            first = rss();
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
    let per_connection = (rss() - first) / (n as u64 - 100);
    drop(done);
    per_connection
}

/// The process's resident set, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}
