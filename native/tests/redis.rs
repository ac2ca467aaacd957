//! The Redis engine on real sockets: two enchufe nodes on one real `redis-server` (Debian's,
//! installed by `cargo xtask test`), each test with a Redis of its own on a free port and no
//! files left behind. Order and loss across nodes, presence of both nodes, a client moving
//! between nodes, a node killed with SIGKILL, a node restarted, Redis killed and restarted
//! under load.

#![allow(clippy::unwrap_used)]

mod common;

use std::{
    net::{SocketAddr, TcpListener},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{TcpClient, TestServer, lines_of};
use enchufe::engine::EngineConfig;
use serde_json::{Value, json};

/// The longest a test waits for something that involves Redis's timers (presence expiry).
const SLOW: Duration = Duration::from_secs(20);

/// A `redis-server` of the test's own, killed (and its directory removed) on drop.
struct Redis {
    port: u16,
    dir: PathBuf,
    aof: bool,
    child: Child,
}

impl Redis {
    /// Starts one on a free port: no persistence, or AOF with an fsync per write (`aof`).
    fn start(aof: bool) -> Redis {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("enchufe-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for Redis");
        let child = spawn_redis(port, &dir, aof);
        Redis { port, dir, aof, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it with SIGKILL (no chance to flush anything) and starts it again on the same port
    /// and directory.
    fn crash_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_redis(self.port, &self.dir, self.aof);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn_redis(port: u16, dir: &std::path::Path, aof: bool) -> Child {
    let mut command = Command::new("redis-server");
    command.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""]);
    command.arg("--dir").arg(dir);
    if aof {
        command.args(["--appendonly", "yes", "--appendfsync", "always"]);
    } else {
        command.args(["--appendonly", "no"]);
    }
    let mut child =
        command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect(
            "redis-server runs (cargo xtask test installs it: apt-get install redis-server)",
        );
    let lines = lines_of(child.stdout.take().expect("stdout"));
    loop {
        let line = lines.recv_timeout(SLOW).expect("redis-server says it is ready");
        if line.contains("Ready to accept connections") {
            break;
        }
    }
    // Its log goes on being read (and dropped) so that it never blocks on a full pipe.
    std::thread::spawn(move || while lines.recv().is_ok() {});
    child
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its port").port()
}

/// An in-process node on `redis`, with a short presence TTL.
async fn node(redis: &Redis) -> TestServer {
    let mut config = TestServer::config();
    config.udp = None;
    config.engine = EngineConfig {
        presence_ttl_secs: 2,
        timeout_ms: 1_000,
        ..EngineConfig::redis(redis.url())
    };
    TestServer::bind(config).await
}

/// A TCP client that said hello (as `name`).
async fn client(addr: SocketAddr, name: &str) -> TcpClient {
    let mut client = TcpClient::connect(addr).await;
    client.hello(json!({"type":"hello","v":1,"name":name})).await;
    client
}

/// Publishes `body` with `id` and waits for its answer: the ack's seq, or the error's code.
async fn publish(client: &mut TcpClient, room: &str, id: u64, body: Value) -> Result<u64, u64> {
    client.send(json!({"type":"publish","room":room,"id":id,"body":body})).await;
    loop {
        let frame = client.recv().await;
        match frame["type"].as_str() {
            Some("ack") if frame["id"] == id => return Ok(frame["seq"].as_u64().unwrap()),
            Some("error") if frame["id"] == id => return Err(frame["code"].as_u64().unwrap()),
            _ => {}
        }
    }
}

/// The next `n` messages `client` receives (other frames skipped), as (seq, body).
async fn messages(client: &mut TcpClient, n: usize) -> Vec<(u64, Value)> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let frame = client.recv_kind("message").await;
        got.push((frame["seq"].as_u64().unwrap(), frame["body"].clone()));
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_node_gets_what_both_nodes_publish_in_one_order() {
    let redis = Redis::start(false);
    let (a, b) = (node(&redis).await, node(&redis).await);
    let mut on_a = client(a.tcp(), "on-a").await;
    let mut on_b = client(b.tcp(), "on-b").await;
    on_a.join("order", None).await;
    on_b.join("order", None).await;

    const EACH: u64 = 200;
    let publisher = |addr: SocketAddr, who: &'static str| async move {
        let mut client = client(addr, who).await;
        let mut seqs = Vec::new();
        for i in 1..=EACH {
            seqs.push(publish(&mut client, "order", i, json!([who, i])).await.expect("acked"));
        }
        seqs
    };
    let (from_a, from_b) = tokio::join!(
        tokio::spawn(publisher(a.tcp(), "pa")),
        tokio::spawn(publisher(b.tcp(), "pb"))
    );
    let mut acked: Vec<u64> = from_a.unwrap().into_iter().chain(from_b.unwrap()).collect();
    acked.sort_unstable();
    assert_eq!(acked, (1..=2 * EACH).collect::<Vec<_>>(), "every publish got its own seq");

    let got_a = messages(&mut on_a, 2 * EACH as usize).await;
    let got_b = messages(&mut on_b, 2 * EACH as usize).await;
    let seqs: Vec<u64> = got_a.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=2 * EACH).collect::<Vec<_>>(), "in seq order, none lost");
    assert_eq!(got_a, got_b, "both nodes deliver the same messages in the same order");
    for who in ["pa", "pb"] {
        let own: Vec<u64> = got_a
            .iter()
            .filter(|(_, b)| b[0] == who)
            .map(|(_, b)| b[1].as_u64().unwrap())
            .collect();
        assert_eq!(own, (1..=EACH).collect::<Vec<_>>(), "{who}'s messages in the order sent");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_lists_and_announces_the_members_of_both_nodes() {
    let redis = Redis::start(false);
    let (a, b) = (node(&redis).await, node(&redis).await);
    let mut alice = client(a.tcp(), "alice").await;
    alice.join("lobby", None).await;
    let mut bob = client(b.tcp(), "bob").await;
    let joined = bob.join("lobby", None).await;
    let mut names: Vec<&str> =
        joined["members"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["alice", "bob"], "{joined}");

    let came = alice.recv_kind("presence").await;
    assert_eq!((&came["action"], &came["member"]["name"]), (&json!("join"), &json!("bob")));
    bob.send(json!({"type":"leave","room":"lobby"})).await;
    bob.recv_kind("left").await;
    let went = alice.recv_kind("presence").await;
    assert_eq!((&went["action"], &went["member"]["name"]), (&json!("leave"), &json!("bob")));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_moves_to_the_other_node_with_since_misses_nothing() {
    let redis = Redis::start(false);
    let (a, b) = (node(&redis).await, node(&redis).await);
    let mut publisher = client(b.tcp(), "pub").await;
    let mut reader = client(a.tcp(), "reader").await;
    let joined = reader.join("moves", None).await;
    let epoch = joined["epoch"].as_str().unwrap().to_owned();
    for i in 1..=5 {
        publish(&mut publisher, "moves", i, json!(i)).await.expect("acked");
    }
    let seen = messages(&mut reader, 5).await;
    drop(reader);
    for i in 6..=10 {
        publish(&mut publisher, "moves", i, json!(i)).await.expect("acked");
    }

    let mut moved = client(b.tcp(), "reader").await;
    moved.send(json!({"type":"join","room":"moves","since":seen[4].0,"epoch":epoch})).await;
    let joined = moved.recv_kind("joined").await;
    assert_eq!((&joined["recovered"], &joined["epoch"]), (&json!(true), &json!(epoch)));
    let missed = messages(&mut moved, 5).await;
    assert_eq!(missed, (6..=10).map(|i| (i, json!(i))).collect::<Vec<_>>());
    a.stop().await;
    b.stop().await;
}

/// `enchufe serve` on the Redis engine, as a child process (so that it can be killed -9).
fn serve(redis: &Redis) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_enchufe"))
        .args(["serve", "--http", "off", "--udp", "off", "--tcp", "127.0.0.1:0"])
        .args(["--engine", "redis", "--redis-url", &redis.url(), "--redis-presence-ttl", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("enchufe serve");
    let lines = lines_of(child.stdout.take().expect("stdout"));
    let line = lines.recv_timeout(SLOW).expect("the startup line");
    let addr = line.rsplit("tcp://").next().and_then(|a| a.parse().ok()).expect(&line);
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_leaves_presence_and_its_clients_recover_every_acked_message_elsewhere() {
    let redis = Redis::start(false);
    let (mut doomed, addr_a) = serve(&redis);
    let b = node(&redis).await;
    let mut publisher = client(b.tcp(), "pub").await;
    let mut watcher = client(b.tcp(), "watcher").await;
    watcher.join("crash", None).await;

    // The engine is reached in the background: the first join may be refused (4023) while
    // the child connects.
    let mut victim = client(addr_a, "victim").await;
    let joined = loop {
        victim.send(json!({"type":"join","room":"crash","id":1})).await;
        let frame = victim.recv().await;
        if frame["type"] == "joined" {
            break frame;
        }
        assert_eq!(frame["code"], 4023, "{frame}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let epoch = joined["epoch"].as_str().unwrap().to_owned();
    let came = watcher.recv_kind("presence").await;
    assert_eq!((&came["action"], &came["member"]["name"]), (&json!("join"), &json!("victim")));
    for i in 1..=10 {
        publish(&mut publisher, "crash", i, json!(i)).await.expect("acked");
    }
    let before = messages(&mut victim, 10).await;

    doomed.kill().expect("kill -9");
    doomed.wait().expect("reaped");
    for i in 11..=20 {
        publish(&mut publisher, "crash", i, json!(i)).await.expect("acked");
    }
    // Its member leaves the lists within the presence TTL (2 s) and a refresh period.
    let went = tokio::time::timeout(SLOW, watcher.recv_kind("presence")).await.expect("in time");
    assert_eq!((&went["action"], &went["member"]["name"]), (&json!("leave"), &json!("victim")));
    let mut again = client(b.tcp(), "watcher-2").await;
    let listed = again.join("crash", None).await;
    let names: Vec<&str> =
        listed["members"].as_array().unwrap().iter().filter_map(|m| m["name"].as_str()).collect();
    assert!(!names.contains(&"victim"), "{listed}");

    // Its client reconnects to the other node and recovers what it missed.
    let mut victim = client(b.tcp(), "victim").await;
    let since = before.last().unwrap().0;
    victim.send(json!({"type":"join","room":"crash","since":since,"epoch":epoch})).await;
    assert_eq!(victim.recv_kind("joined").await["recovered"], true);
    let missed = messages(&mut victim, 10).await;
    assert_eq!(missed, (11..=20).map(|i| (i, json!(i))).collect::<Vec<_>>());
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_keeps_each_rooms_epoch_and_seq() {
    let redis = Redis::start(false);
    let first = node(&redis).await;
    let mut publisher = client(first.tcp(), "pub").await;
    for i in 1..=3 {
        publish(&mut publisher, "kept", i, json!(i)).await.expect("acked");
    }
    let epoch = client(first.tcp(), "r").await.join("kept", None).await["epoch"].clone();
    drop(publisher);
    first.stop().await;

    let second = node(&redis).await;
    let mut reader = client(second.tcp(), "r").await;
    let joined = reader.join("kept", Some(1)).await;
    assert_eq!(
        (&joined["epoch"], &joined["seq"], &joined["recovered"]),
        (&epoch, &json!(3), &json!(true))
    );
    assert_eq!(messages(&mut reader, 2).await, [(2, json!(2)), (3, json!(3))]);
    let mut publisher = client(second.tcp(), "pub").await;
    assert_eq!(publish(&mut publisher, "kept", 4, json!(4)).await, Ok(4), "numbering goes on");
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_publishes_are_refused_at_once_and_healthz_says_not_ready() {
    let mut redis = Redis::start(false);
    let node = node(&redis).await;
    let mut publisher = client(node.tcp(), "pub").await;
    assert_eq!(publish(&mut publisher, "down", 1, json!(1)).await, Ok(1));
    assert_eq!(common::get(node.http(), "/healthz").await.status, 200);

    let _ = redis.child.kill();
    let _ = redis.child.wait();
    // The node notices within its timeout (1 s here) and answers 503 until Redis is back.
    tokio::time::timeout(SLOW, async {
        while common::get(node.http(), "/healthz").await.status != 503 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("healthz says not ready");
    let refused =
        tokio::time::timeout(Duration::from_secs(3), publish(&mut publisher, "down", 2, json!(2)))
            .await
            .expect("answered, not left hanging");
    assert_eq!(refused, Err(4023));

    redis.child = spawn_redis(redis.port, &redis.dir, false);
    tokio::time::timeout(SLOW, async {
        while common::get(node.http(), "/healthz").await.status != 200 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("ready again by itself");
    // Without persistence Redis forgot the room: it starts over under a new epoch.
    assert_eq!(publish(&mut publisher, "down", 3, json!(3)).await, Ok(1));
    node.stop().await;
}

/// The load tool's two-node fan-out (`cargo xtask bench`'s engine table): publisher on one
/// node, subscribers on the other, nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_tool_fans_out_from_one_node_to_the_other_without_loss() {
    use enchufe::bench::{self, FanoutOptions, Target};
    let redis = Redis::start(false);
    let (a, b) = (node(&redis).await, node(&redis).await);
    let target: Target = format!("tcp://{}", b.tcp()).parse().unwrap();
    let options = FanoutOptions {
        subs: 20,
        size: 64,
        rate: None,
        window: None,
        messages: 2_000,
        duration: Duration::from_secs(20),
        drain: Duration::from_secs(5),
        room: enchufe_core::RoomName::new("bench-2").unwrap(),
        publish_to: Some(format!("tcp://{}", a.tcp()).parse().unwrap()),
    };
    let report = bench::fanout::run(&target, &options).await.unwrap();
    assert_eq!((report.published, report.expected, report.lost), (2_000, 40_000, 0));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_crashing_under_load_loses_no_acked_message_and_the_nodes_recover() {
    let mut redis = Redis::start(true);
    let (a, b) = (node(&redis).await, node(&redis).await);
    let mut reader = client(a.tcp(), "reader").await;
    reader.join("load", None).await;
    let mut publisher = client(b.tcp(), "pub").await;

    const TOTAL: u64 = 300;
    let mut acked = Vec::new();
    let mut refused = 0;
    for id in 1..=TOTAL {
        if id == TOTAL / 3 {
            redis.crash_and_restart();
        }
        // A refused publish (4023: Redis out of reach) is sent again with the same id, as a
        // client does; de-duplication makes a retry of one that did happen harmless.
        let seq = tokio::time::timeout(SLOW, async {
            loop {
                match publish(&mut publisher, "load", id, json!(id)).await {
                    Ok(seq) => return seq,
                    Err(code) => {
                        assert_eq!(code, 4023);
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        })
        .await
        .expect("Redis came back");
        acked.push((seq, json!(id)));
    }
    assert!(refused > 0, "the crash was noticed");
    let seqs: Vec<u64> = acked.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=TOTAL).collect::<Vec<_>>(), "each message stored once");
    // The reader's node lost its pub/sub connection too; it resubscribed and fetched the gap.
    let got = tokio::time::timeout(SLOW, messages(&mut reader, TOTAL as usize)).await.expect("all");
    assert_eq!(got, acked, "every acked message, in order, once");
    for node in [&a, &b] {
        assert!(node.hub.engine().unwrap().is_ready());
    }
    a.stop().await;
    b.stop().await;
}
