//! The generated part of docs/PERFORMANCE.md: the machine, the versions, the commands, and one
//! table per workload with the median and spread over the repetitions and the ratio
//! enchufe/NATS. Everything here is pure (text in, text out) except [`Meta::collect`] and
//! [`write_doc`].

use std::{fmt::Write as _, path::Path, time::Duration};

use serde_json::Value;

use super::{
    Plan, SERVERS, Server, TRANSPORTS, Transport,
    cpu::CpuUse,
    load::{LOAD_CPU, Load},
    nats,
    server::{ENCHUFE_ARGS, SERVER_CPU},
};
use crate::sh::{Failed, Result, cmd, output, root};

/// The line before the generated part.
const BEGIN: &str = "<!-- bench:begin -->";
/// The line after the generated part.
const END: &str = "<!-- bench:end -->";

/// One successful load run.
#[derive(Debug, Clone)]
pub(super) struct Sample {
    pub(super) server: Server,
    pub(super) transport: Transport,
    pub(super) load: Load,
    /// The CPU the server and the load used during the run.
    pub(super) cpu: Option<CpuUse>,
    /// The load tool's JSON object.
    pub(super) json: Value,
}

impl Sample {
    /// Whether this sample belongs to a cell (`subs` only for fan-out loads).
    pub(super) fn is(
        &self,
        server: Server,
        transport: Transport,
        load: Load,
        subs: Option<u32>,
    ) -> bool {
        self.server == server
            && self.transport == transport
            && self.load == load
            && (subs.is_none() || self.number("/subs") == subs.map(f64::from))
    }

    /// A number at a JSON pointer, e.g. `/latency_us/p99`.
    pub(super) fn number(&self, pointer: &str) -> Option<f64> {
        self.json.pointer(pointer).and_then(Value::as_f64)
    }

    /// The errors the load tool reported (a subscriber the server disconnected, …).
    pub(super) fn errors(&self) -> Vec<&str> {
        let errors = self.json.get("errors").and_then(Value::as_array);
        errors.map_or_else(Vec::new, |e| e.iter().filter_map(Value::as_str).collect())
    }

    /// The cell this sample belongs to, e.g. `enchufe tcp fanout S=100 unpaced`.
    pub(super) fn cell(&self) -> String {
        let subs = self.number("/subs").map_or_else(String::new, |s| format!(" S={s}"));
        let load = match self.load {
            Load::Saturation => format!("fanout{subs} unpaced"),
            Load::Paced => format!("fanout{subs} paced"),
            Load::Rtt => "rtt".into(),
            Load::Idle => "idle".into(),
        };
        format!("{} {} {load}", self.server, self.transport)
    }

    /// One line for the progress output.
    pub(super) fn summary(&self) -> String {
        let n = |p: &str| self.number(p).map_or_else(|| "?".to_owned(), rate);
        let us = |p: &str| self.number(p).map_or_else(|| "?".to_owned(), |v| format!("{v:.0}"));
        let cpu = self.cpu.map_or_else(String::new, |c| {
            format!(
                "; CPU: server {:.0}% of CPU {SERVER_CPU} ({:.0}% busy), load {:.0}% of CPU {LOAD_CPU} ({:.0}% busy)",
                c.server * 100.0,
                c.server_core * 100.0,
                c.load * 100.0,
                c.load_core * 100.0,
            )
        });
        let line = match self.load {
            Load::Saturation | Load::Paced => format!(
                "{} deliveries/s ({} msg/s), p50 {} µs, p99 {} µs, lost {}{cpu}",
                n("/deliveries_per_sec"),
                n("/messages_per_sec"),
                us("/latency_us/p50"),
                us("/latency_us/p99"),
                us("/lost"),
            ),
            Load::Rtt => format!(
                "p50 {} µs, p99 {} µs, p999 {} µs, lost {}{cpu}",
                us("/latency_us/p50"),
                us("/latency_us/p99"),
                us("/latency_us/p999"),
                us("/lost"),
            ),
            Load::Idle => format!("{} B per idle connection", us("/rss_per_conn")),
        };
        match self.errors().as_slice() {
            [] => line,
            errors => format!("{line}; errors: {}", errors.join("; ")),
        }
    }
}

/// The machine and the versions, read before the run.
#[derive(Debug, Clone, Default)]
pub(super) struct Meta {
    pub(super) cpu: String,
    pub(super) cores: String,
    pub(super) kernel: String,
    pub(super) ram: String,
    pub(super) enchufe: String,
    pub(super) nats: String,
    pub(super) rustc: String,
    pub(super) date: String,
}

impl Meta {
    pub(super) fn collect(_plan: &Plan) -> Meta {
        let run = |program: &str, args: &[&str]| {
            output(cmd(program, args)).unwrap_or_else(|| format!("({program} failed)"))
        };
        let lscpu = run("lscpu", &[]);
        let field = |name: &str| {
            lscpu
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
                .unwrap_or_else(|| "?".into())
        };
        let binary = root().join("target/release/enchufe");
        Meta {
            cpu: field("Model name:"),
            cores: field("CPU(s):"),
            kernel: run("uname", &["-r"]),
            ram: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| ram(&m))
                .unwrap_or_else(|| "?".into()),
            enchufe: run(&binary.to_string_lossy(), &["--version"]),
            nats: run(nats::PROGRAM, &["--version"]),
            rustc: run("rustc", &["--version"]),
            date: run("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        }
    }
}

/// `MemTotal` of /proc/meminfo in GiB.
fn ram(meminfo: &str) -> Option<String> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} GiB", kib / 1024.0 / 1024.0))
}

/// Median and range of a cell's repetitions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Spread {
    pub(super) median: f64,
    pub(super) min: f64,
    pub(super) max: f64,
    pub(super) count: usize,
}

impl Spread {
    pub(super) fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        values.sort_by(f64::total_cmp);
        let (min, max) = (*values.first()?, *values.last()?);
        Some(Spread { median: median_of_sorted(&values), min, max, count: values.len() })
    }

    /// `median (min–max)`, or just the median of a single value.
    pub(super) fn show(&self, format: fn(f64) -> String) -> String {
        if self.count < 2 {
            format(self.median)
        } else {
            format!("{} ({}–{})", format(self.median), format(self.min), format(self.max))
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count); `None` if empty.
pub(super) fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    Spread::of(values).map(|s| s.median)
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 }
}

/// A rate with a unit prefix: `4.75 M`, `47.5 k`, `950`.
pub(super) fn rate(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.1} k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// A whole number with thousands separators: `12,345`.
fn whole(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < -0.5 { format!("-{grouped}") } else { grouped }
}

/// The tables, for the samples of one run.
struct Tables<'a> {
    samples: &'a [Sample],
}

impl Tables<'_> {
    fn spread(
        &self,
        server: Server,
        transport: Transport,
        load: Load,
        subs: Option<u32>,
        pointer: &str,
    ) -> Option<Spread> {
        Spread::of(self.values(server, transport, load, subs, pointer))
    }

    /// A field of every repetition of a cell.
    fn values(
        &self,
        server: Server,
        transport: Transport,
        load: Load,
        subs: Option<u32>,
        pointer: &str,
    ) -> Vec<f64> {
        self.samples
            .iter()
            .filter(|s| s.is(server, transport, load, subs))
            .filter_map(|s| s.number(pointer))
            .collect()
    }

    fn cell(
        &self,
        server: Server,
        transport: Transport,
        load: Load,
        subs: Option<u32>,
        pointer: &str,
        format: fn(f64) -> String,
    ) -> String {
        self.spread(server, transport, load, subs, pointer)
            .map_or_else(|| "—".into(), |s| s.show(format))
    }

    /// enchufe's median over NATS's, e.g. `1.23×`.
    fn ratio(&self, transport: Transport, load: Load, subs: Option<u32>, pointer: &str) -> String {
        let median = |server| self.spread(server, transport, load, subs, pointer).map(|s| s.median);
        match (median(Server::Enchufe), median(Server::Nats)) {
            (Some(ours), Some(theirs)) if theirs > 0.0 => format!("**{:.2}×**", ours / theirs),
            _ => "—".into(),
        }
    }

    /// The sum of a field over a cell's repetitions.
    fn sum(
        &self,
        server: Server,
        transport: Transport,
        load: Load,
        subs: Option<u32>,
        pointer: &str,
    ) -> Option<f64> {
        let values = self.values(server, transport, load, subs, pointer);
        (!values.is_empty()).then(|| values.iter().sum())
    }

    /// `lost / expected` summed over the repetitions of a fan-out cell.
    fn lost(&self, server: Server, transport: Transport, load: Load, subs: Option<u32>) -> String {
        match (
            self.sum(server, transport, load, subs, "/lost"),
            self.sum(server, transport, load, subs, "/expected"),
        ) {
            (Some(lost), Some(expected)) => format!("{} of {}", whole(lost), rate(expected)),
            (Some(lost), None) => whole(lost),
            _ => "—".into(),
        }
    }

    /// Median CPU shares: `server / load (server's core / load's core busy)`.
    fn cpu(&self, server: Server, transport: Transport, load: Load, subs: Option<u32>) -> String {
        let uses: Vec<CpuUse> = self
            .samples
            .iter()
            .filter(|s| s.is(server, transport, load, subs))
            .filter_map(|s| s.cpu)
            .collect();
        let share = |part: fn(&CpuUse) -> f64| median(uses.iter().map(|c| part(c) * 100.0));
        match (
            share(|c| c.server),
            share(|c| c.load),
            share(|c| c.server_core),
            share(|c| c.load_core),
        ) {
            (Some(server), Some(load), Some(server_core), Some(load_core)) => {
                format!("{server:.0}% / {load:.0}% ({server_core:.0}% / {load_core:.0}%)")
            }
            _ => "—".into(),
        }
    }

    /// Median CPU time the load tool spent per delivery, in nanoseconds: its share of a core over
    /// the deliveries per second. Comparable across servers: the higher it is, the more each
    /// delivery costs a client of that server (and a cell whose load is near 100 % is the tool's
    /// limit, not the server's).
    fn load_per_delivery(
        &self,
        server: Server,
        transport: Transport,
        load: Load,
        subs: Option<u32>,
    ) -> String {
        let per_delivery =
            self.samples.iter().filter(|s| s.is(server, transport, load, subs)).filter_map(|s| {
                let rate = s.number("/deliveries_per_sec").filter(|r| *r > 0.0)?;
                Some(s.cpu?.load * 1e9 / rate)
            });
        median(per_delivery).map_or_else(|| "—".into(), |ns| format!("{ns:.0}"))
    }

    fn saturation(&self, out: &mut String, subs: &[u32]) {
        let load = Load::Saturation;
        out.push_str("| subscribers | transport | server | deliveries/s | messages/s | lost (all reps) | CPU server / load (cores busy) | load CPU per delivery, ns |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for &s in subs {
            for transport in TRANSPORTS {
                for server in SERVERS {
                    let _ = writeln!(
                        out,
                        "| {s} | {transport} | {server} | {} | {} | {} | {} | {} |",
                        self.cell(server, transport, load, Some(s), "/deliveries_per_sec", rate),
                        self.cell(server, transport, load, Some(s), "/messages_per_sec", rate),
                        self.lost(server, transport, load, Some(s)),
                        self.cpu(server, transport, load, Some(s)),
                        self.load_per_delivery(server, transport, load, Some(s)),
                    );
                }
                let _ = writeln!(
                    out,
                    "| {s} | {transport} | enchufe/NATS | {} | {} | | | |",
                    self.ratio(transport, load, Some(s), "/deliveries_per_sec"),
                    self.ratio(transport, load, Some(s), "/messages_per_sec"),
                );
            }
        }
    }

    fn paced(&self, out: &mut String, subs: &[u32]) {
        let load = Load::Paced;
        out.push_str("| subscribers | transport | server | rate msg/s | p50 µs | p99 µs | p999 µs | lost (all reps) | CPU server / load (cores busy) |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|\n");
        for &s in subs {
            for transport in TRANSPORTS {
                for server in SERVERS {
                    let _ = writeln!(
                        out,
                        "| {s} | {transport} | {server} | {} | {} | {} | {} | {} | {} |",
                        self.cell(server, transport, load, Some(s), "/rate", rate),
                        self.cell(server, transport, load, Some(s), "/latency_us/p50", whole),
                        self.cell(server, transport, load, Some(s), "/latency_us/p99", whole),
                        self.cell(server, transport, load, Some(s), "/latency_us/p999", whole),
                        self.lost(server, transport, load, Some(s)),
                        self.cpu(server, transport, load, Some(s)),
                    );
                }
                let _ = writeln!(
                    out,
                    "| {s} | {transport} | enchufe/NATS | {} | {} | {} | {} | | |",
                    self.ratio(transport, load, Some(s), "/rate"),
                    self.ratio(transport, load, Some(s), "/latency_us/p50"),
                    self.ratio(transport, load, Some(s), "/latency_us/p99"),
                    self.ratio(transport, load, Some(s), "/latency_us/p999"),
                );
            }
        }
    }

    fn rtt(&self, out: &mut String) {
        let load = Load::Rtt;
        out.push_str("| transport | server | p50 µs | p99 µs | p999 µs | lost (all reps) |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for transport in TRANSPORTS {
            for server in SERVERS {
                let _ = writeln!(
                    out,
                    "| {transport} | {server} | {} | {} | {} | {} |",
                    self.cell(server, transport, load, None, "/latency_us/p50", whole),
                    self.cell(server, transport, load, None, "/latency_us/p99", whole),
                    self.cell(server, transport, load, None, "/latency_us/p999", whole),
                    self.lost(server, transport, load, None),
                );
            }
            let _ = writeln!(
                out,
                "| {transport} | enchufe/NATS | {} | {} | {} | |",
                self.ratio(transport, load, None, "/latency_us/p50"),
                self.ratio(transport, load, None, "/latency_us/p99"),
                self.ratio(transport, load, None, "/latency_us/p999"),
            );
        }
    }

    fn idle(&self, out: &mut String) {
        let load = Load::Idle;
        let mib = |bytes: f64| format!("{:.1}", bytes / 1024.0 / 1024.0);
        out.push_str("| transport | server | RSS bytes per idle connection | RSS MiB before | RSS MiB after |\n");
        out.push_str("|---|---|---|---|---|\n");
        for transport in TRANSPORTS {
            for server in SERVERS {
                let _ = writeln!(
                    out,
                    "| {transport} | {server} | {} | {} | {} |",
                    self.cell(server, transport, load, None, "/rss_per_conn", whole),
                    self.spread(server, transport, load, None, "/rss_before")
                        .map_or_else(|| "—".into(), |s| mib(s.median)),
                    self.spread(server, transport, load, None, "/rss_after")
                        .map_or_else(|| "—".into(), |s| mib(s.median)),
                );
            }
            let _ = writeln!(
                out,
                "| {transport} | enchufe/NATS | {} | | |",
                self.ratio(transport, load, None, "/rss_per_conn"),
            );
        }
    }
}

/// The generated part of the doc (without the markers).
pub(super) fn render(
    meta: &Meta,
    plan: &Plan,
    samples: &[Sample],
    browser: &[super::browser::Run],
    failures: &[String],
    elapsed: Duration,
) -> String {
    let tables = Tables { samples };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "_Generated by `cargo xtask bench{}` on {} in {:.0} s; edits between the `bench` markers are overwritten._\n",
        if plan.quick { " --quick" } else { "" },
        meta.date,
        elapsed.as_secs_f64()
    );
    if plan.quick {
        out.push_str("**A `--quick` smoke run: one short repetition, not numbers to quote.**\n\n");
    }
    if plan.hog {
        out.push_str(
            "**Run under a CPU hog**: another process kept every core busy for the whole run \
             (one busy-looping thread per core, normal priority), so the CPU column's cores are \
             busy with it and every number is lower than on a quiet machine.\n\n",
        );
    }
    let _ = writeln!(
        out,
        "- Machine: {}, {} CPUs, {} RAM, Linux {}.\n\
         - Versions: {}; {}; {}.\n\
         - Each server is pinned to CPU {SERVER_CPU} and the load tool to CPU {LOAD_CPU} (`taskset`). \
         {} repetition(s) per cell: a cell shows the median and, in parentheses, the min–max over them. \
         The **enchufe/NATS** rows divide enchufe's median by NATS's: for throughput higher favours \
         enchufe, for latency and memory lower does.\n\
         - Payloads are {} bytes. Fan-out publishes for {} s per run, then waits for the backlog \
         while deliveries keep coming (the run ends when none came for the tool's default 3 s); \
         the paced runs publish at R = half of that server's own median saturation \
         messages/s for the same transport and subscriber count, so each server is measured at 50% \
         of its own capacity.\n\
         - Per transport, both servers are started once and serve its fan-out and rtt runs, each \
         idle while the other is measured; the repetitions alternate enchufe, NATS, enchufe, … so \
         that whatever else loads the machine falls on both alike. Every idle run gets a fresh \
         server, so that memory freed by earlier runs does not hide the idle connections' cost. Raw results, one JSON object per run: `target/bench/results.jsonl`.\n\
         - The CPU column: the share of its own core that the server process and the load tool \
         used (/proc/PID/stat), then in parentheses how busy the two cores were with anything (the \
         gap is other processes on the machine). A load at 100% beside a server below 100% means \
         the load tool, not the server, set the pace.\n",
        meta.cpu,
        meta.cores,
        meta.ram,
        meta.kernel,
        meta.enchufe,
        meta.nats,
        meta.rustc,
        plan.reps,
        super::load::SIZE,
        plan.duration,
    );
    let enchufe = ENCHUFE_ARGS.join(" ");
    let _ = writeln!(
        out,
        "Commands (URL is `tcp://127.0.0.1:P`, `ws://127.0.0.1:P/ws`, `nats://127.0.0.1:P` or \
         `nats+ws://127.0.0.1:P`; S the subscribers; PID the server's):\n\n```sh\n\
         taskset -c {SERVER_CPU} target/release/enchufe {enchufe}\n\
         taskset -c {SERVER_CPU} nats-server -c target/bench/nats.conf\n\
         {}\n{}\n{}\n{}\n```\n",
        Load::Saturation.shown(plan),
        Load::Paced.shown(plan),
        Load::Rtt.shown(plan),
        Load::Idle.shown(plan),
    );
    let _ = writeln!(
        out,
        "target/bench/nats.conf (free ports; everything else at the defaults of {}, among them \
         max_pending 64 MiB and write_deadline 10 s per connection, as enchufe's defaults are: a \
         hard bound of 64 MiB per outbound queue, and 10 s over its 1 MiB high-water mark with \
         nothing written, before a subscriber is disconnected as too slow, error 4011):\n\n\
         ```\n{}```\n",
        meta.nats,
        nats::config("127.0.0.1:PORT", "127.0.0.1:PORT2"),
    );

    out.push_str("### Fan-out throughput, unpaced (higher is better)\n\n");
    tables.saturation(&mut out, &plan.subs);
    out.push_str("\n### Fan-out latency, paced at half of saturation (lower is better)\n\n");
    out.push_str("Latency is publish → delivery at each subscriber.\n\n");
    tables.paced(&mut out, &plan.subs);
    out.push_str("\n### Round trip, one message at a time (lower is better)\n\n");
    tables.rtt(&mut out);
    let _ = writeln!(
        out,
        "\n### Memory per idle connection, {} connections in {} rooms (lower is better)\n",
        plan.idle_conns, plan.idle_rooms
    );
    out.push_str("(RSS after all joined − RSS before) / connections, from /proc/PID/status.\n\n");
    tables.idle(&mut out);
    out.push_str("\n### Messages one browser tab receives (higher is better)\n\n");
    super::browser::table(&mut out, plan, browser);
    let mut errors: Vec<(String, usize)> = Vec::new();
    for sample in samples {
        for error in sample.errors() {
            let line = format!("{}: {error}", sample.cell());
            match errors.iter_mut().find(|(seen, _)| *seen == line) {
                Some((_, count)) => *count += 1,
                None => errors.push((line, 1)),
            }
        }
    }
    if !errors.is_empty() {
        out.push_str("\n### Errors the load tool reported\n\n");
        for (error, count) in errors {
            let times = if count > 1 { format!(" (×{count})") } else { String::new() };
            let _ = writeln!(out, "- {error}{times}");
        }
    }
    if !failures.is_empty() {
        out.push_str("\n### Runs that failed\n\n");
        for failure in failures {
            let _ = writeln!(out, "- {failure}");
        }
    }
    out
}

/// Puts `generated` between the markers of `doc`; a doc without them gets them at its end.
pub(super) fn splice(doc: &str, generated: &str) -> String {
    let generated = generated.trim_end();
    let lines: Vec<&str> = doc.lines().collect();
    let begin = lines.iter().position(|l| l.trim() == BEGIN);
    let end = begin.and_then(|b| lines[b..].iter().position(|l| l.trim() == END).map(|e| b + e));
    let mut out = String::new();
    match (begin, end) {
        (Some(begin), Some(end)) => {
            for line in &lines[..=begin] {
                out.push_str(line);
                out.push('\n');
            }
            out.push_str(generated);
            out.push('\n');
            for line in &lines[end..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        _ => {
            out.push_str(doc.trim_end());
            out.push_str(&format!("\n\n{BEGIN}\n{generated}\n{END}\n"));
        }
    }
    out
}

/// Writes `generated` into the doc at `path` (created with a title if absent).
pub(super) fn write_doc(path: &Path, generated: &str) -> Result {
    let doc = match std::fs::read_to_string(path) {
        Ok(doc) => doc,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Performance".to_owned(),
        Err(e) => return Err(Failed(format!("cannot read {}: {e}", path.display()))),
    };
    std::fs::write(path, splice(&doc, generated))
        .map_err(|e| Failed(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::{Meta, Sample, Spread, median, rate, render, splice, whole};
    use crate::bench::{Plan, Server, Transport, cpu::CpuUse, load::Load};

    #[test]
    fn median_and_spread_over_repetitions() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median([]), None);
        let spread = Spread::of([5.0, 9.0, 7.0]).unwrap();
        assert_eq!((spread.median, spread.min, spread.max, spread.count), (7.0, 5.0, 9.0, 3));
        assert_eq!(spread.show(whole), "7 (5–9)");
        assert_eq!(Spread::of([1234.0]).unwrap().show(whole), "1,234");
    }

    #[test]
    fn numbers_read_at_a_glance() {
        assert_eq!(rate(4_750_593.8), "4.75 M");
        assert_eq!(rate(47_505.9), "47.5 k");
        assert_eq!(rate(950.0), "950");
        assert_eq!(whole(1_234_567.0), "1,234,567");
        assert_eq!(whole(999.0), "999");
        assert_eq!(whole(0.0), "0");
    }

    #[test]
    fn splice_replaces_only_the_generated_part() {
        let doc = "# Performance\n\nprose before\n<!-- bench:begin -->\nold\ntable\n<!-- bench:end -->\nprose after\n";
        assert_eq!(
            splice(doc, "new\n"),
            "# Performance\n\nprose before\n<!-- bench:begin -->\nnew\n<!-- bench:end -->\nprose after\n"
        );
        assert_eq!(
            splice("# Performance", "new"),
            "# Performance\n\n<!-- bench:begin -->\nnew\n<!-- bench:end -->\n"
        );
    }

    fn fanout(server: Server, load: Load, deliveries: f64, p99: f64) -> Sample {
        Sample {
            server,
            transport: Transport::Tcp,
            load,
            cpu: Some(CpuUse { server: 0.9, load: 0.5, server_core: 1.0, load_core: 0.6 }),
            json: json!({"workload": "fanout", "subs": 100, "rate": null, "expected": 1000,
                "lost": 1, "errors": ["4011 slow"], "messages_per_sec": deliveries / 100.0, "deliveries_per_sec": deliveries,
                "latency_us": {"p50": 10, "p99": p99, "p999": 300}}),
        }
    }

    #[test]
    fn tables_show_medians_spreads_and_the_ratio() {
        let plan = Plan::from_args(&[]).unwrap();
        let samples = [
            fanout(Server::Enchufe, Load::Saturation, 2e6, 100.0),
            fanout(Server::Enchufe, Load::Saturation, 3e6, 100.0),
            fanout(Server::Enchufe, Load::Saturation, 4e6, 100.0),
            fanout(Server::Nats, Load::Saturation, 1.5e6, 100.0),
            fanout(Server::Enchufe, Load::Paced, 1e6, 200.0),
            fanout(Server::Nats, Load::Paced, 1e6, 400.0),
        ];
        let text = render(
            &Meta::default(),
            &plan,
            &samples,
            &[],
            &["a run failed".into()],
            Duration::ZERO,
        );
        // The load's CPU per delivery: half a core over 2, 3 and 4 M/s is 250, 167 and 125 ns.
        assert!(text.contains("| 100 | tcp | enchufe | 3.00 M (2.00 M–4.00 M) | 30.0 k (20.0 k–40.0 k) | 3 of 3.0 k | 90% / 50% (100% / 60%) | 167 |\n"), "{text}");
        assert!(
            text.contains(
                "| 100 | tcp | NATS | 1.50 M | 15.0 k | 1 of 1.0 k | 90% / 50% (100% / 60%) | 333 |\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("| 100 | tcp | enchufe/NATS | **2.00×** | **2.00×** | | | |\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "| 100 | tcp | enchufe/NATS | — | **1.00×** | **0.50×** | **1.00×** | | |"
            ),
            "{text}"
        );
        assert!(text.contains("| 1000 | ws | enchufe | — |"), "{text}");
        assert!(text.contains("- a run failed"), "{text}");
        assert!(text.contains("- enchufe tcp fanout S=100 unpaced: 4011 slow (×3)"), "{text}");
        assert!(text.contains("bench fanout --url URL --subs S --size 64 --rate R"), "{text}");
    }

    #[test]
    fn only_the_quick_report_says_it_ran_under_a_cpu_hog() {
        let shown = |args: &[String]| {
            let plan = Plan::from_args(args).unwrap();
            render(&Meta::default(), &plan, &[], &[], &[], Duration::ZERO)
                .contains("under a CPU hog")
        };
        assert!(shown(&["--quick".to_owned()]));
        assert!(!shown(&[]));
    }

    #[test]
    fn ram_from_meminfo() {
        assert_eq!(
            super::ram("MemTotal:        8039892 kB\nMemFree: 1 kB\n").as_deref(),
            Some("7.7 GiB")
        );
    }
}
