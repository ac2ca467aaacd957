//! Ten thousand TCP clients join one room, and every one gets `joined`; presence stays linear
//! (docs/DECISIONS.md, "Presence in large rooms"): `presence` frames only while the room has
//! at most `presence_limit` members, and `joined.members` never longer than that.
//!
//! The server runs as the `enchufe serve` binary, so that its sockets and this process's
//! clients each stay under the per-process file limit.

mod common;

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
};

use common::WAIT;
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    task::JoinSet,
};

const CLIENTS: usize = 10_000;
/// The default `presence_limit`.
const PRESENCE_LIMIT: usize = 100;
/// Clients connecting at once.
const AT_ONCE: usize = 200;

/// The server process, killed when the test ends (also when it fails).
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve() -> (Serve, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_enchufe"))
        .args(["serve", "--http", "off", "--udp", "off", "--tcp", "127.0.0.1:0"])
        // Slow machines take a while to open 10,000 connections: no idle close meanwhile.
        .args(["--heartbeat-ms", "600000"])
        // Every client is 127.0.0.1: no per-address budget (budgets.rs tests those).
        .args(["--max-connections-per-address", "0", "--connection-rate", "0"])
        .env_remove("ENCHUFE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start enchufe serve");
    let lines = common::lines_of(child.stdout.take().expect("stdout"));
    let server = Serve(child);
    let line = lines.recv_timeout(WAIT * 4).expect("the listening line");
    let addr = line.strip_prefix("enchufe: tcp listening on tcp://").expect(&line);
    (server, addr.parse().expect("an address"))
}

struct Member {
    lines: tokio::io::Lines<BufReader<OwnedReadHalf>>,
    wr: OwnedWriteHalf,
}

impl Member {
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT * 6, self.lines.next_line())
            .await
            .expect("a frame in time")
            .expect("read")
            .expect("a frame, not the end");
        serde_json::from_str(&line).expect("json")
    }
}

/// Connects, joins, and returns the member with its session id and `joined`.
async fn join(addr: SocketAddr) -> (Member, String, Value) {
    let stream = tokio::time::timeout(WAIT * 6, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let (rd, mut wr) = stream.into_split();
    wr.write_all(b"{\"type\":\"join\",\"room\":\"crowd\"}\n").await.expect("write");
    let mut member = Member { lines: BufReader::with_capacity(1024, rd).lines(), wr };
    let welcome = member.next().await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    let session = welcome["session"].as_str().expect("a session id").to_owned();
    let joined = member.next().await;
    assert_eq!(joined["type"], "joined", "{joined}");
    (member, session, joined)
}

/// Pings and reads until the pong: returns how many `presence` frames came before it (all
/// that were queued for this member, as TCP keeps the order).
async fn presence_until_pong(member: &mut Member) -> usize {
    member.wr.write_all(b"{\"type\":\"ping\",\"id\":1}\n").await.expect("write");
    let mut presence = 0;
    loop {
        let frame = member.next().await;
        match frame["type"].as_str() {
            Some("presence") => presence += 1,
            Some("pong") => return presence,
            _ => panic!("{frame}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_clients_join_one_room() {
    let (_server, addr) = serve();
    let started = std::time::Instant::now();
    let mut members = Vec::with_capacity(CLIENTS);
    let mut longest_list = 0;
    for chunk in 0..CLIENTS.div_ceil(AT_ONCE) {
        let mut joining = JoinSet::new();
        for _ in 0..AT_ONCE.min(CLIENTS - chunk * AT_ONCE) {
            joining.spawn(join(addr));
        }
        while let Some(joined) = joining.join_next().await {
            let (member, session, joined) = joined.expect("a client");
            let listed = joined["members"].as_array().unwrap();
            assert!(listed.len() <= PRESENCE_LIMIT, "{} members listed", listed.len());
            assert!(listed.iter().any(|m| m["session"] == session.as_str()), "itself");
            longest_list = longest_list.max(listed.len());
            members.push(member);
        }
    }
    let joined_in = started.elapsed();
    assert_eq!(members.len(), CLIENTS, "every client got joined");
    assert_eq!(longest_list, PRESENCE_LIMIT);

    let mut presence = 0;
    let mut members = members.into_iter();
    loop {
        let mut chunk: Vec<Member> = members.by_ref().take(AT_ONCE * 4).collect();
        if chunk.is_empty() {
            break;
        }
        let counts =
            futures_util::future::join_all(chunk.iter_mut().map(presence_until_pong)).await;
        presence += counts.iter().sum::<usize>();
    }
    // The k-th joiner is announced to the k - 1 members before it while k <= the limit.
    let expected = PRESENCE_LIMIT * (PRESENCE_LIMIT - 1) / 2;
    println!(
        "{CLIENTS} joins in {joined_in:?}: {presence} presence frames, {:.3} per join \
         (without the limit: {})",
        presence as f64 / CLIENTS as f64,
        CLIENTS * (CLIENTS - 1) / 2
    );
    assert_eq!(presence, expected);
}
