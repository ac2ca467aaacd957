//! The engines side by side, on TCP: enchufe on its memory engine (one node: the publisher and
//! the subscribers on it) and on its Redis engine (two nodes on one `redis-server`: the publisher
//! on one node, the subscribers on the other, so every message crosses Redis). Both nodes and
//! Redis run on the servers' core (CPU 0), as the one node does, and the load on CPU 1: the same
//! CPU for the server side either way. Fan-out with the publisher windowed ([`WINDOW`]):
//! deliveries per second, p99, and who used the server core (the nodes, and Redis).

use std::{fmt::Write as _, io::Write as _, path::Path, process::Child};

use super::{
    Bench, Plan, Server, Transport, cpu,
    load::{self, Load, Slots},
    report,
    server::Running,
};
use crate::sh::{Failed, Result};

/// How far (messages) the publisher may be ahead of the slowest subscriber, for both engines.
/// On Redis nothing else holds a publisher back: its node only runs a script per message, while
/// the subscribers' node fans out; unpaced, the subscribers' node falls behind until it
/// resynchronises (docs/DECISIONS.md, "A Redis engine"). With the window both rows measure a
/// rate the deployment sustains.
const WINDOW: u32 = 1000;

/// One fan-out run of one engine.
pub(super) struct EngineSample {
    engine: &'static str,
    subs: u32,
    deliveries: f64,
    p99_us: f64,
    lost: f64,
    /// Shares of one core: the enchufe nodes together, Redis, and the load tool.
    nodes: f64,
    redis: Option<f64>,
    load: f64,
}

impl Bench<'_> {
    /// The memory engine's runs, then the Redis engine's, for each subscriber count.
    pub(super) fn engines(&mut self) -> Result {
        eprintln!("\n==> engines: memory (one node) and Redis (two nodes), tcp");
        for &subs in &self.plan.subs.clone() {
            {
                let node = Running::start(Server::Enchufe, &self.binary)?;
                for rep in 0..self.plan.reps {
                    self.engine_run(Engine::Memory, subs, rep, &node, None);
                }
            }
            let redis = RedisOnServerCore::start()?;
            let url = redis.url();
            let extra = ["--engine", "redis", "--redis-url", &url];
            let publishing = Running::enchufe_with(&self.binary, &extra)?;
            let subscribed = Running::enchufe_with(&self.binary, &extra)?;
            for node in [&publishing, &subscribed] {
                ready(node)?;
            }
            let across = Across { publishing: &publishing, redis: redis.pid() };
            for rep in 0..self.plan.reps {
                self.engine_run(Engine::Redis, subs, rep, &subscribed, Some(&across));
            }
        }
        Ok(())
    }

    /// One saturation fan-out with its subscribers on `node`; `across`: the publisher on
    /// another node, through Redis (whose CPU, and the other node's, are counted too).
    fn engine_run(
        &mut self,
        engine: Engine,
        subs: u32,
        rep: usize,
        node: &Running,
        across: Option<&Across<'_>>,
    ) {
        self.done += 1;
        let engine = engine.name();
        let label = format!(
            "[engines] {engine} tcp fanout S={subs} --window {WINDOW}, rep {}/{}",
            rep + 1,
            self.plan.reps
        );
        let slots = Slots::new(&node.url(Transport::Tcp)).subs(subs);
        let mut args = Load::Saturation.args(self.plan, &slots);
        // Before the trailing `--json`: the window, and for Redis the publisher's node.
        let at = args.len() - 1;
        args.splice(at..at, ["--window".to_owned(), WINDOW.to_string()]);
        let (others, redis) = match across {
            Some(across) => {
                let at = args.len() - 1;
                let publish = ["--publish-url".to_owned(), across.publishing.url(Transport::Tcp)];
                args.splice(at..at, publish);
                (vec![across.publishing.pid()], Some(across.redis))
            }
            None => (Vec::new(), None),
        };
        let limit = Load::Saturation.time_limit(self.plan);
        let before = Ticks::take(&others, redis);
        let outcome = load::run(&self.binary, &args, node.pid(), limit);
        let after = Ticks::take(&others, redis);
        match outcome {
            Ok(outcome) => {
                let _ = writeln!(self.jsonl, "{}", outcome.line);
                let number = |at: &str| outcome.json.pointer(at).and_then(|v| v.as_f64());
                let (extra_nodes, redis_share) =
                    after.zip(before).map_or((0.0, None), |(a, b)| a.since(&b));
                let sample = EngineSample {
                    engine,
                    subs,
                    deliveries: number("/deliveries_per_sec").unwrap_or(0.0),
                    p99_us: number("/latency_us/p99").unwrap_or(0.0),
                    lost: number("/lost").unwrap_or(0.0),
                    nodes: outcome.cpu.map_or(0.0, |c| c.server) + extra_nodes,
                    redis: redis.and(redis_share),
                    load: outcome.cpu.map_or(0.0, |c| c.load),
                };
                eprintln!(
                    "{label}: {:.0} deliveries/s, p99 {:.0} µs, lost {}",
                    sample.deliveries, sample.p99_us, sample.lost
                );
                self.engine_samples.push(sample);
            }
            Err(Failed(error)) => self.fail(format!("{label}: {error}")),
        }
    }
}

/// Waits until a node on Redis has reached it (`/healthz` answers 200; before, joins and
/// publishes are answered 4023): at most 30 s.
fn ready(node: &Running) -> Result {
    use std::io::{Read as _, Write as _};
    let addr = node.url(Transport::Ws);
    let host = addr.trim_start_matches("ws://").trim_end_matches("/ws").to_owned();
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(30) {
        if let Ok(mut stream) = std::net::TcpStream::connect(&host) {
            let request =
                format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read_to_string(&mut answer).is_ok()
                && answer.starts_with("HTTP/1.1 200")
            {
                return Ok(());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(Failed(format!("the node at {host} did not reach Redis within 30 s")))
}

/// The engines compared.
#[derive(Clone, Copy)]
enum Engine {
    Memory,
    Redis,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Memory => "memory",
            Engine::Redis => "redis",
        }
    }
}

/// The Redis engine's run crosses nodes: the publisher's node, and Redis's process.
struct Across<'a> {
    publishing: &'a Running,
    redis: u32,
}

/// CPU ticks of the extra server processes and of the server core, at one instant.
#[derive(Clone, Copy)]
struct Ticks {
    nodes: u64,
    redis: u64,
    core: u64,
}

impl Ticks {
    fn take(nodes: &[u32], redis: Option<u32>) -> Option<Ticks> {
        let nodes = nodes.iter().map(|pid| cpu::process_ticks(*pid)).sum::<Option<u64>>()?;
        let redis = redis.map_or(Some(0), cpu::process_ticks)?;
        Some(Ticks { nodes, redis, core: cpu::server_core_ticks()? })
    }

    /// The shares of the server core the extra nodes and Redis used since `before`.
    fn since(&self, before: &Ticks) -> (f64, Option<f64>) {
        let core = self.core.saturating_sub(before.core);
        if core == 0 {
            return (0.0, None);
        }
        let share = |a: u64, b: u64| a.saturating_sub(b) as f64 / core as f64;
        (share(self.nodes, before.nodes), Some(share(self.redis, before.redis)))
    }
}

/// A `redis-server` on the servers' core, on a free port, without persistence.
struct RedisOnServerCore {
    port: String,
    child: Child,
    dir: std::path::PathBuf,
}

impl RedisOnServerCore {
    fn start() -> Result<Self> {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Failed(format!("no free port: {e}")))?;
        let port = addr.port().to_string();
        let dir = super::out_dir().join(format!("redis-{port}"));
        std::fs::create_dir_all(&dir).map_err(|e| Failed(format!("{}: {e}", dir.display())))?;
        let dir_arg = dir.to_string_lossy().into_owned();
        let log = super::out_dir().join("redis.log").to_string_lossy().into_owned();
        let args = ["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
        let mut command = super::server::pinned(Path::new("redis-server"), &args, "redis.log")?;
        command.args(["--dir", &dir_arg, "--logfile", &log]).stdout(std::process::Stdio::null());
        let child =
            command.spawn().map_err(|e| Failed(format!("cannot start redis-server: {e}")))?;
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if started.elapsed() > std::time::Duration::from_secs(30) {
                return Err(Failed("redis-server did not listen within 30 s".into()));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(RedisOnServerCore { port, child, dir })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RedisOnServerCore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The engines' table, medians of the repetitions.
pub(super) fn render(plan: &Plan, samples: &[EngineSample]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### Engines: one node in memory, two nodes on Redis (tcp fan-out, publisher windowed)\n\n\
         Memory: publisher and subscribers on one node. Redis: the publisher on one node, the \
         subscribers on the other, every message through one `redis-server` (no persistence). \
         The publisher stays at most {WINDOW} messages ahead of the slowest subscriber \
         (`--window {WINDOW}`). The nodes and Redis share CPU 0, the load runs on CPU 1. CPU \
         columns: shares of one \
         core. Median of {} repetition(s).\n",
        plan.reps
    );
    out.push_str("| engine | S | deliveries/s | p99 | lost | nodes CPU | Redis CPU | load CPU |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for &subs in &plan.subs {
        for engine in ["memory", "redis"] {
            let of: Vec<&EngineSample> =
                samples.iter().filter(|s| s.engine == engine && s.subs == subs).collect();
            if of.is_empty() {
                let _ = writeln!(out, "| {engine} | {subs} | (no run succeeded) | | | | | |");
                continue;
            }
            let median = |f: &dyn Fn(&EngineSample) -> f64| {
                report::median(of.iter().map(|s| f(s))).unwrap_or(0.0)
            };
            let redis = if engine == "redis" {
                format!("{:.0}%", 100.0 * median(&|s| s.redis.unwrap_or(0.0)))
            } else {
                "–".into()
            };
            let _ = writeln!(
                out,
                "| {engine} | {subs} | {:.2}M | {:.1} ms | {} | {:.0}% | {redis} | {:.0}% |",
                median(&|s| s.deliveries) / 1e6,
                median(&|s| s.p99_us) / 1e3,
                of.iter().map(|s| s.lost).sum::<f64>(),
                100.0 * median(&|s| s.nodes),
                100.0 * median(&|s| s.load),
            );
        }
    }
    out
}

/// Engine runs that lost messages (the smoke check fails on them).
pub(super) fn lossy(samples: &[EngineSample]) -> Vec<String> {
    samples
        .iter()
        .filter(|s| s.lost > 0.0)
        .map(|s| format!("{} tcp fanout S={}: lost {}", s.engine, s.subs, s.lost))
        .collect()
}
