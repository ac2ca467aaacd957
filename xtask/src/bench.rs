//! `cargo xtask bench`: enchufe against NATS on this machine, in one command.
//!
//! Installs nats-server (Debian's) if missing, builds the release server, then for each server
//! (enchufe, NATS) and transport (TCP, WebSocket) runs `enchufe bench` (docs/PERFORMANCE.md, "The load tool") —
//! saturation fan-out, fan-out paced at half of that saturation, round trips, idle memory —
//! with the server pinned to CPU 0 and the load to CPU 1; then the browser benchmark
//! (bench/browser.rs: one Chromium tab receiving through the npm package, and through nats.ws).
//! Every run's JSON line goes to target/bench/results.jsonl; the tables go between the `bench`
//! markers of docs/PERFORMANCE.md.
//!
//! Servers: per transport, both servers are started once and serve its fan-out and round-trip
//! runs, which leave nothing behind but the room; the repetitions alternate (enchufe, NATS,
//! enchufe, …) so that whatever else loads the machine falls on both alike. Every idle run gets
//! a fresh server, because the memory a previous run freed would be reused by the idle
//! connections and hide their cost.
//!
//! `--quick`: one repetition, short runs, 100 subscribers only — a smoke check of the whole
//! pipeline, not numbers to quote: it writes target/bench/PERFORMANCE.quick.md (never the doc)
//! and fails if a run failed or lost a message. `cargo xtask test` runs it, so it runs under a
//! CPU hog (bench/hog.rs) that keeps every core busy: CI must not depend on a quiet machine.
//! The full comparison never starts the hog.

mod browser;
mod cpu;
mod engines;
pub(crate) mod hog;
mod load;
mod nats;
mod report;
mod server;

use std::{
    fmt,
    fs::{self, File},
    io::Write as _,
    path::PathBuf,
    time::Instant,
};

use crate::sh::{Failed, Result, cmd, root, step};

use load::{Load, Slots};
use report::Sample;
use server::Running;

/// The servers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Enchufe,
    Nats,
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Server::Enchufe => "enchufe",
            Server::Nats => "NATS",
        })
    }
}

/// The transports both servers speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Ws,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Ws => "ws",
        })
    }
}

const SERVERS: [Server; 2] = [Server::Enchufe, Server::Nats];
const TRANSPORTS: [Transport; 2] = [Transport::Tcp, Transport::Ws];

/// How much to run: the full comparison or the smoke check.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    quick: bool,
    /// Whether a CPU hog keeps every core busy for the whole run (the smoke check only: the
    /// full comparison needs a quiet machine).
    hog: bool,
    /// Repetitions of every measurement.
    reps: usize,
    /// Subscriber counts of the fan-out runs.
    subs: Vec<u32>,
    /// Seconds each fan-out run publishes for (`--duration`).
    duration: u32,
    /// Round trips per rtt run (`--count`); `None` keeps the tool's default.
    rtt_count: Option<u32>,
    /// Connections of an idle run (`--conns`).
    idle_conns: u32,
    /// Rooms they are spread over (`--rooms`): 100 connections per room.
    idle_rooms: u32,
}

impl Plan {
    fn from_args(args: &[String]) -> Result<Plan> {
        match args {
            [] => Ok(Plan {
                quick: false,
                hog: false,
                reps: 3,
                subs: vec![100, 1000],
                duration: 5,
                rtt_count: None,
                idle_conns: 10_000,
                idle_rooms: 100,
            }),
            [flag] if flag == "--quick" => Ok(Plan {
                quick: true,
                hog: true,
                reps: 1,
                subs: vec![100],
                duration: 2,
                rtt_count: Some(2000),
                idle_conns: 1000,
                idle_rooms: 10,
            }),
            _ => Err(Failed(format!("usage: cargo xtask bench [--quick], got {args:?}"))),
        }
    }

    /// How many load runs the plan makes (for the progress counter).
    fn runs(&self) -> usize {
        let per_group = self.subs.len() * 2 * self.reps + self.reps + self.reps;
        per_group * SERVERS.len() * TRANSPORTS.len()
    }
}

/// Runs `cargo xtask bench [--quick]`.
pub(crate) fn run(args: &[String]) -> Result {
    let plan = Plan::from_args(args)?;
    nats::install()?;
    crate::setup::redis_server()?;
    step(cmd("cargo", &["build", "--release", "--locked", "--package", "enchufe"]))?;
    let dir = out_dir();
    fs::create_dir_all(&dir)
        .map_err(|e| Failed(format!("cannot create {}: {e}", dir.display())))?;

    let started = Instant::now();
    let meta = report::Meta::collect(&plan);
    let mut bench = Bench::new(&plan)?;
    // Killed when the runs end, or on an early return (its Drop).
    let hog = if plan.hog { Some(start_hog()?) } else { None };
    for transport in TRANSPORTS {
        bench.transport(transport)?;
    }
    bench.engines()?;
    bench.browser();
    drop(hog);
    let elapsed = started.elapsed();
    eprintln!("\nbench: {} runs in {:.0}s", bench.done, elapsed.as_secs_f64());

    let mut generated =
        report::render(&meta, &plan, &bench.samples, &bench.browser, &bench.failures, elapsed);
    generated.push_str(&engines::render(&plan, &bench.engine_samples));
    bench.failures.extend(engines::lossy(&bench.engine_samples));
    if plan.quick {
        // A smoke check (part of `cargo xtask test`): the whole pipeline must work, against a
        // real nats-server too, and lose nothing; its numbers are not worth a document.
        let report = dir.join("PERFORMANCE.quick.md");
        fs::write(&report, &generated)
            .map_err(|e| Failed(format!("cannot write {}: {e}", report.display())))?;
        eprintln!("bench: wrote {} and {}", report.display(), bench.jsonl_path.display());
        return smoke_verdict(&bench.samples, &bench.failures);
    }
    let doc = root().join("docs/PERFORMANCE.md");
    report::write_doc(&doc, &generated)?;
    eprintln!("bench: wrote {} and {}", doc.display(), bench.jsonl_path.display());
    eprintln!("\n{generated}");
    Ok(())
}

/// Starts the CPU hog: one busy thread per core, in another process.
fn start_hog() -> Result<hog::Hog> {
    let threads = hog::threads_per_core();
    let hog = hog::Hog::start(threads)?;
    eprintln!(
        "bench --quick: {threads} busy threads in process {} keep every core busy for the run",
        hog.pid()
    );
    Ok(hog)
}

/// The smoke check's verdict: every run completed, and no fan-out or round trip lost a message.
fn smoke_verdict(samples: &[Sample], failures: &[String]) -> Result {
    let lossy: Vec<String> = samples
        .iter()
        .filter(|s| s.number("/lost").is_some_and(|lost| lost > 0.0))
        .map(|s| format!("{}: {}", s.cell(), s.summary()))
        .collect();
    if failures.is_empty() && lossy.is_empty() {
        return Ok(());
    }
    Err(Failed(format!(
        "bench --quick: {} run(s) failed, {} lost messages:\n{}",
        failures.len(),
        lossy.len(),
        failures.iter().chain(&lossy).cloned().collect::<Vec<_>>().join("\n")
    )))
}

/// Where the run's files go: target/bench/.
fn out_dir() -> PathBuf {
    root().join("target/bench")
}

/// The run in progress: its samples, failures and the raw results file.
struct Bench<'p> {
    plan: &'p Plan,
    binary: PathBuf,
    samples: Vec<Sample>,
    /// The engines' runs (`bench/engines.rs`).
    engine_samples: Vec<engines::EngineSample>,
    /// The browser benchmark's runs (bench/browser.rs).
    browser: Vec<browser::Run>,
    failures: Vec<String>,
    jsonl: File,
    jsonl_path: PathBuf,
    done: usize,
}

impl<'p> Bench<'p> {
    fn new(plan: &'p Plan) -> Result<Bench<'p>> {
        let jsonl_path = out_dir().join("results.jsonl");
        let jsonl = File::create(&jsonl_path)
            .map_err(|e| Failed(format!("cannot create {}: {e}", jsonl_path.display())))?;
        Ok(Bench {
            plan,
            binary: root().join("target/release/enchufe"),
            samples: Vec::new(),
            engine_samples: Vec::new(),
            browser: Vec::new(),
            failures: Vec::new(),
            jsonl,
            jsonl_path,
            done: 0,
        })
    }

    /// Every measurement on one transport, enchufe's and NATS's repetitions alternating.
    fn transport(&mut self, transport: Transport) -> Result {
        eprintln!("\n==> {transport}: enchufe and NATS, alternating");
        {
            let running = [
                Running::start(Server::Enchufe, &self.binary)?,
                Running::start(Server::Nats, &self.binary)?,
            ];
            for &subs in &self.plan.subs.clone() {
                let saturation =
                    running.each_ref().map(|r| Slots::new(&r.url(transport)).subs(subs));
                self.alternate(&running, transport, Load::Saturation, &saturation);
                let mut paced = Vec::new();
                for (server, slots) in running.iter().zip(saturation) {
                    let server = server.server();
                    let saturated = report::median(
                        self.samples
                            .iter()
                            .filter(|s| s.is(server, transport, Load::Saturation, Some(subs)))
                            .filter_map(|s| s.number("/messages_per_sec")),
                    );
                    match saturated {
                        Some(rate) => paced.push(slots.rate((rate / 2.0).round().max(1.0) as u64)),
                        None => self.fail(format!(
                            "{server} {transport} paced S={subs}: skipped, no saturation run succeeded"
                        )),
                    }
                }
                if let Ok(paced) = <[Slots; 2]>::try_from(paced) {
                    self.alternate(&running, transport, Load::Paced, &paced);
                }
            }
            let rtt = running.each_ref().map(|r| Slots::new(&r.url(transport)));
            self.alternate(&running, transport, Load::Rtt, &rtt);
        }
        for rep in 0..self.plan.reps {
            for server in SERVERS {
                let running = Running::start(server, &self.binary)?;
                let slots = Slots::new(&running.url(transport)).pid(running.pid());
                self.measure(&running, transport, Load::Idle, &slots, rep);
            }
        }
        Ok(())
    }

    /// The browser benchmark; a run that failed, or the whole of it, is a failure of the run.
    fn browser(&mut self) {
        match browser::run(self.plan, &self.binary) {
            Ok(runs) => {
                for run in &runs {
                    if let Some(error) = &run.error {
                        self.failures.push(format!("browser {}: {error}", run.client));
                    }
                }
                self.browser = runs;
            }
            Err(Failed(error)) => self.fail(format!("browser benchmark: {error}")),
        }
    }

    /// The repetitions of one load against both servers: enchufe, NATS, enchufe, NATS, …
    fn alternate(
        &mut self,
        running: &[Running; 2],
        transport: Transport,
        load: Load,
        slots: &[Slots; 2],
    ) {
        for rep in 0..self.plan.reps {
            for (server, slots) in running.iter().zip(slots) {
                self.measure(server, transport, load, slots, rep);
            }
        }
    }

    /// One load run: records its sample, or its failure (the run goes on without it).
    fn measure(
        &mut self,
        running: &Running,
        transport: Transport,
        load: Load,
        slots: &Slots,
        rep: usize,
    ) {
        self.done += 1;
        let server = running.server();
        let label = format!(
            "[{}/{}] {server} {transport} {}, rep {}/{}",
            self.done,
            self.plan.runs(),
            load.describe(slots),
            rep + 1,
            self.plan.reps
        );
        let args = load.args(self.plan, slots);
        match load::run(&self.binary, &args, running.pid(), load.time_limit(self.plan)) {
            Ok(outcome) => {
                let _ = writeln!(self.jsonl, "{}", outcome.line);
                let sample =
                    Sample { server, transport, load, cpu: outcome.cpu, json: outcome.json };
                eprintln!("{label}: {}", sample.summary());
                self.samples.push(sample);
            }
            Err(Failed(error)) => self.fail(format!("{label}: {error}")),
        }
    }

    fn fail(&mut self, failure: String) {
        eprintln!("{failure}");
        self.failures.push(failure);
    }
}

#[cfg(test)]
mod tests {
    use super::{Plan, Sample, Server, Transport, load::Load, smoke_verdict};

    fn sample(lost: u64) -> Sample {
        Sample {
            server: Server::Enchufe,
            transport: Transport::Tcp,
            load: Load::Saturation,
            cpu: None,
            json: serde_json::json!({"subs": 100, "lost": lost, "deliveries_per_sec": 1.0}),
        }
    }

    #[test]
    fn the_smoke_check_fails_on_a_lost_message_or_a_failed_run() {
        assert!(smoke_verdict(&[sample(0), sample(0)], &[]).is_ok());
        let lost = smoke_verdict(&[sample(0), sample(3)], &[]).unwrap_err();
        assert!(lost.0.contains("1 lost"), "{lost}");
        assert!(lost.0.contains("enchufe tcp fanout S=100 unpaced: "), "{lost}");
        let failed = smoke_verdict(&[sample(0)], &["enchufe tcp rtt: refused".into()]).unwrap_err();
        assert!(failed.0.contains("refused"), "{failed}");
    }

    #[test]
    fn quick_plan_is_one_short_repetition_at_100_subscribers_under_a_cpu_hog() {
        let quick = Plan::from_args(&["--quick".to_owned()]).unwrap();
        assert_eq!((quick.reps, quick.subs.as_slice(), quick.hog), (1, &[100][..], true));
        assert_eq!(quick.runs(), 4 * (2 + 1 + 1));
        let full = Plan::from_args(&[]).unwrap();
        assert_eq!((full.reps, full.subs.as_slice(), full.hog), (3, &[100, 1000][..], false));
        assert_eq!(full.runs(), 4 * (2 * 2 * 3 + 3 + 3));
        assert!(Plan::from_args(&["--fast".to_owned()]).is_err());
    }
}
