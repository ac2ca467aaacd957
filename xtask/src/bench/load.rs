//! One run of the load tool: `taskset -c 1 enchufe bench … --json`, bounded in time, its
//! single JSON object parsed, and how busy CPU 0 (the server) and CPU 1 (the load) were.

use std::{
    io::Read as _,
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{
    Plan,
    cpu::{CpuUse, Snapshot},
};
use crate::sh::{Failed, Result, root};

/// The CPU the load runs on (the servers run on CPU 0).
pub(super) const LOAD_CPU: &str = "1";

/// Payload bytes of every fan-out and round trip.
pub(super) const SIZE: u32 = 64;

/// A fan-out run's message cap, far above what `--duration` lets through, so that the
/// duration alone ends publishing.
const MESSAGES: u64 = 100_000_000;

/// The kinds of measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Load {
    /// `fanout`, unpaced: the publisher writes as fast as it can, held back only by the server's
    /// own flow control (no `--window`: the load tool does not spare the server).
    Saturation,
    /// `fanout --rate R`: latency below saturation.
    Paced,
    /// `rtt`: one message at a time, there and back.
    Rtt,
    /// `idle --pid`: the server's memory per idle connection.
    Idle,
}

/// The values a load's command line is filled with: real ones for a run, placeholders
/// (`URL`, `S`, `R`, `PID`) for the commands shown in the doc.
#[derive(Debug, Clone)]
pub(super) struct Slots {
    url: String,
    subs: String,
    rate: String,
    pid: String,
}

impl Slots {
    pub(super) fn new(url: &str) -> Slots {
        Slots { url: url.to_owned(), subs: "S".into(), rate: "R".into(), pid: "PID".into() }
    }

    pub(super) fn subs(mut self, subs: u32) -> Slots {
        self.subs = subs.to_string();
        self
    }

    pub(super) fn rate(mut self, rate: u64) -> Slots {
        self.rate = rate.to_string();
        self
    }

    pub(super) fn pid(mut self, pid: u32) -> Slots {
        self.pid = pid.to_string();
        self
    }
}

impl Load {
    /// The arguments of `enchufe` for this load (after `taskset -c 1 enchufe`).
    pub(super) fn args(self, plan: &Plan, slots: &Slots) -> Vec<String> {
        let mut args: Vec<String> = vec!["bench".into()];
        let mut push = |more: &[&str]| args.extend(more.iter().map(|a| (*a).to_owned()));
        let size = SIZE.to_string();
        match self {
            Load::Saturation | Load::Paced => {
                let duration = plan.duration.to_string();
                let messages = MESSAGES.to_string();
                push(&["fanout", "--url", &slots.url, "--subs", &slots.subs, "--size", &size]);
                if self == Load::Paced {
                    push(&["--rate", &slots.rate]);
                }
                push(&["--duration", &duration, "--messages", &messages]);
            }
            Load::Rtt => {
                push(&["rtt", "--url", &slots.url, "--size", &size]);
                if let Some(count) = plan.rtt_count {
                    push(&["--count", &count.to_string()]);
                }
            }
            Load::Idle => {
                let (conns, rooms) = (plan.idle_conns.to_string(), plan.idle_rooms.to_string());
                push(&["idle", "--url", &slots.url, "--conns", &conns, "--rooms", &rooms]);
                push(&["--pid", &slots.pid]);
            }
        }
        push(&["--json"]);
        args
    }

    /// The command line as shown in the doc: placeholders for the URL, S, R and PID.
    pub(super) fn shown(self, plan: &Plan) -> String {
        let args = self.args(plan, &Slots::new("URL"));
        format!("taskset -c {LOAD_CPU} target/release/enchufe {}", args.join(" "))
    }

    /// A short description for progress lines.
    pub(super) fn describe(self, slots: &Slots) -> String {
        match self {
            Load::Saturation => format!("fanout S={} unpaced", slots.subs),
            Load::Paced => format!("fanout S={} at {}/s", slots.subs, slots.rate),
            Load::Rtt => "rtt".into(),
            Load::Idle => "idle".into(),
        }
    }

    /// How long a run may take before it is killed as hung: connecting 1000 clients, the
    /// publishing, the drain, and a generous margin.
    pub(super) fn time_limit(self, plan: &Plan) -> Duration {
        match self {
            Load::Saturation | Load::Paced => Duration::from_secs(u64::from(plan.duration) + 120),
            Load::Rtt | Load::Idle => Duration::from_secs(180),
        }
    }
}

/// What a successful run gives.
pub(super) struct Outcome {
    /// The JSON object exactly as printed.
    pub(super) line: String,
    pub(super) json: Value,
    /// The CPU the server and the load used (`None` if /proc could not be read).
    pub(super) cpu: Option<CpuUse>,
}

/// Runs `taskset -c 1 binary args…` against the server `server_pid`, killing it after `limit`;
/// parses its stdout.
pub(super) fn run(
    binary: &Path,
    args: &[String],
    server_pid: u32,
    limit: Duration,
) -> Result<Outcome> {
    let mut command = Command::new("taskset");
    command
        .current_dir(root())
        .args(["-c", LOAD_CPU])
        .arg(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let before = Snapshot::take(server_pid);
    let mut child = command.spawn().map_err(|e| Failed(format!("cannot start taskset: {e}")))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let read_all = |mut pipe: Box<dyn std::io::Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let (stdout, stderr) = (read_all(Box::new(stdout)), read_all(Box::new(stderr)));

    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failed(format!("killed after {limit:?}: it did not finish")));
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(Failed(format!("waiting for the load: {e}"))),
        }
    };
    let cpu = Snapshot::take(server_pid).zip(before).map(|(after, before)| after.since(&before));
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(Failed(format!("{status}: {}", last_line(&stderr))));
    }
    let line = stdout.trim().to_owned();
    let json: Value = serde_json::from_str(&line)
        .map_err(|e| Failed(format!("not one JSON object on stdout ({e}): {line:?}")))?;
    if !json.is_object() {
        return Err(Failed(format!("not a JSON object: {line}")));
    }
    Ok(Outcome { line, json, cpu })
}

fn last_line(text: &str) -> &str {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::{Load, Slots};
    use crate::bench::Plan;

    #[test]
    fn paced_fanout_command_carries_the_rate_and_the_duration() {
        let plan = Plan::from_args(&[]).unwrap();
        let slots = Slots::new("tcp://127.0.0.1:9000").subs(1000).rate(25_000);
        let args = Load::Paced.args(&plan, &slots).join(" ");
        assert_eq!(
            args,
            "bench fanout --url tcp://127.0.0.1:9000 --subs 1000 --size 64 --rate 25000 \
             --duration 5 --messages 100000000 --json"
        );
        let idle = Load::Idle.args(&plan, &Slots::new("ws://h/ws").pid(42)).join(" ");
        assert_eq!(idle, "bench idle --url ws://h/ws --conns 10000 --rooms 100 --pid 42 --json");
        assert_eq!(
            Load::Rtt.shown(&plan),
            "taskset -c 1 target/release/enchufe bench rtt --url URL --size 64 --json"
        );
    }
}
