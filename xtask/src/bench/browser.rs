//! The browser benchmark: how many messages per second one headless Chromium tab receives
//! through the npm package `enchufe` (which speaks the binary encoding), and through nats.ws from
//! nats-server, the same 64-byte payloads published by the load tool.
//!
//! The page and its driver are bench/browser/ (its run.js says how the tab is fed: bursts of
//! the native publisher that keep a bounded backlog waiting for the tab, so that the tab sets
//! the pace and neither server cuts it as a slow consumer). Here: the package is packed and
//! installed as a user's app would have it, the page built with Vite, both servers started
//! (pinned to CPU 0, the publishers there too), and the driver run with Chromium on CPU 1; its
//! JSON lines become [`Run`]s and a table in the report.

use std::{
    fmt::Write as _,
    io::{BufRead as _, BufReader},
    path::Path,
    process::Stdio,
};

use serde_json::{Value, json};

use super::{
    Plan, Server, Transport,
    load::LOAD_CPU,
    out_dir,
    report::{Spread, rate},
    server::{Running, SERVER_CPU},
};
use crate::{
    browser::installed,
    pack,
    setup::{self, CHROMIUM},
    sh::{Failed, Result, cmd, root},
};

/// Where the page and its driver live.
const APP: &str = "bench/browser";

/// The room (NATS subject) the page subscribes to.
const ROOM: &str = "browserbench";

/// Messages each run of the publisher sends.
const BURST: u32 = 50_000;

/// The most messages published and not yet received by the page (a new burst starts below
/// `BACKLOG − BURST`): at most about 40 MB queued for the tab in either server (at most about
/// 200 bytes a message), far under their 64 MiB bound.
const BACKLOG: u32 = 200_000;

/// The clients the page can subscribe with, in the report's order: the page's `?client=`
/// and the server behind it.
const CLIENTS: [(&str, Server); 2] = [("enchufe", Server::Enchufe), ("nats", Server::Nats)];

/// What one run of the page measured (or why it failed).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Run {
    pub(super) client: String,
    /// Messages per second over the window; `None` if the run failed.
    pub(super) per_sec: Option<f64>,
    /// Polls of the page, inside the window, that found nothing waiting for it.
    pub(super) dry_polls: u64,
    pub(super) error: Option<String>,
}

impl Run {
    /// One of the driver's JSON lines.
    fn parse(line: &str) -> Option<Run> {
        let json: Value = serde_json::from_str(line).ok()?;
        Some(Run {
            client: json.get("client")?.as_str()?.to_owned(),
            per_sec: json.get("perSec").and_then(Value::as_f64),
            dry_polls: json.get("dryPolls").and_then(Value::as_u64).unwrap_or(0),
            error: json.get("error").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// Warm-up messages and window length of a plan.
fn window(plan: &Plan) -> (u32, u32) {
    if plan.quick { (5_000, 1_000) } else { (20_000, 3_000) }
}

/// Packs and installs the package, builds the page, and runs every client `plan.reps` times.
pub(super) fn run(plan: &Plan, binary: &Path) -> Result<Vec<Run>> {
    setup::need(CHROMIUM)?;
    let tarball = pack::run()?;
    let npm = installed(APP, &tarball)?;
    crate::sh::step(npm(&["run", "build"]))?;

    let running = [Running::start(Server::Enchufe, binary)?, Running::start(Server::Nats, binary)?];
    let plan_path = out_dir().join("browser-plan.json");
    let json = plan_json(plan, binary, &running);
    std::fs::write(&plan_path, json.to_string())
        .map_err(|e| Failed(format!("cannot write {}: {e}", plan_path.display())))?;

    eprintln!("\n==> browser: one Chromium tab, enchufe (npm) and nats.ws, alternating");
    let mut driver = cmd("taskset", &["-c", LOAD_CPU, "node", "run.js"]);
    driver.arg(&plan_path).current_dir(root().join(APP)).env("CHROMIUM", CHROMIUM);
    let mut child = driver
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Failed(format!("could not start the browser driver: {e}")))?;
    let mut runs = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let Ok(line) = line else { break };
        match Run::parse(&line) {
            Some(run) => {
                eprintln!("browser: {}: {}", run.client, summary(&run));
                runs.push(run);
            }
            None => eprintln!("browser: {line}"),
        }
    }
    // A failed run is in its line; the exit status adds nothing to it.
    let _ = child.wait();
    Ok(runs)
}

/// The driver's plan: every client against its server, fed by the load tool on CPU 0.
fn plan_json(plan: &Plan, binary: &Path, running: &[Running; 2]) -> Value {
    let (warmup, window_ms) = window(plan);
    let cells: Vec<Value> = CLIENTS
        .iter()
        .map(|&(client, server)| {
            let running = running.iter().find(|r| r.server() == server).expect("both run");
            let publisher = [
                "taskset",
                "-c",
                SERVER_CPU,
                &binary.to_string_lossy(),
                "bench",
                "fanout",
                "--url",
                &running.url(Transport::Tcp),
                "--subs",
                "0",
                "--size",
                &super::load::SIZE.to_string(),
                "--messages",
                &BURST.to_string(),
                "--duration",
                "60",
                "--room",
                ROOM,
                "--json",
            ]
            .map(str::to_owned);
            json!({
                "client": client,
                "server": running.browser_url(),
                "room": ROOM,
                "publisher": publisher,
            })
        })
        .collect();
    json!({
        "reps": plan.reps,
        "warmup": warmup,
        "windowMs": window_ms,
        "timeoutMs": 60_000,
        "burst": BURST,
        "backlog": BACKLOG,
        "pollMs": 20,
        "cells": cells,
    })
}

fn summary(run: &Run) -> String {
    match (&run.error, run.per_sec) {
        (Some(error), _) => format!("failed: {error}"),
        (None, Some(per_sec)) => format!("{per_sec:.0} messages/s ({} dry polls)", run.dry_polls),
        (None, None) => "no rate".to_owned(),
    }
}

/// What the report says about the browser runs: the method, then the table.
pub(super) fn table(out: &mut String, plan: &Plan, runs: &[Run]) {
    let (warmup, window_ms) = window(plan);
    let _ = writeln!(
        out,
        "One headless Chromium tab ({CHROMIUM}, on CPU {LOAD_CPU}) subscribes to one room through \
         the npm package `enchufe` (the packed tarball, bundled by Vite; it asks for batches) or \
         through nats.ws 1.30.3 from nats-server's WebSocket listener; the load tool publishes \
         {}-byte payloads over TCP from CPU {SERVER_CPU}, beside the server, in bursts of \
         {BURST} that keep up to {BACKLOG} messages waiting for the tab (bench/browser/run.js), \
         so the tab sets the pace. The page counts messages in its `message` listener (nats.ws: \
         the subscription's callback) and measures the {window_ms} ms after the first {warmup}. \
         A fresh tab per run; the clients alternate.\n",
        super::load::SIZE,
    );
    out.push_str("| client | server | messages/s received | client/nats.ws |\n|---|---|---|---|\n");
    let spread = |client: &str| {
        Spread::of(runs.iter().filter(|r| r.client == client).filter_map(|r| r.per_sec))
    };
    let nats = spread("nats");
    for (client, server) in CLIENTS {
        let Some(cell) = spread(client) else {
            let _ = writeln!(out, "| {} | {server} | failed | |", shown(client));
            continue;
        };
        let ratio = match nats {
            Some(nats) if client != "nats" && nats.median > 0.0 => {
                format!("**{:.2}×**", cell.median / nats.median)
            }
            _ => String::new(),
        };
        let _ = writeln!(out, "| {} | {server} | {} | {ratio} |", shown(client), cell.show(rate));
    }
    let dry: u64 = runs.iter().map(|r| r.dry_polls).sum();
    if dry > 0 {
        let _ = writeln!(
            out,
            "\n{dry} poll(s) inside a window found nothing waiting for the tab: there the supply, \
             not the tab, may have set the pace."
        );
    }
    let failed: Vec<&Run> = runs.iter().filter(|r| r.error.is_some()).collect();
    if !failed.is_empty() {
        out.push('\n');
        for run in failed {
            let _ = writeln!(out, "- {}: {}", shown(&run.client), summary(run));
        }
    }
}

/// A client as the report names it.
fn shown(client: &str) -> &'static str {
    match client {
        "enchufe" => "enchufe (npm)",
        "nats" => "nats.ws",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::{Plan, Run, table};

    fn run(client: &str, per_sec: f64) -> Run {
        Run { client: client.to_owned(), per_sec: Some(per_sec), dry_polls: 0, error: None }
    }

    #[test]
    fn a_driver_line_is_a_run() {
        let ok = r#"{"client":"nats","rep":0,"messages":600000,"ms":3000,"perSec":200000,"total":620000,"bursts":15,"dryPolls":1}"#;
        assert_eq!(
            Run::parse(ok),
            Some(Run {
                client: "nats".into(),
                per_sec: Some(200_000.0),
                dry_polls: 1,
                error: None
            })
        );
        let failed = r#"{"client":"enchufe","rep":1,"error":"subscribing took over 60000 ms"}"#;
        let failed = Run::parse(failed).unwrap();
        assert_eq!(
            (failed.per_sec, failed.error.as_deref()),
            (None, Some("subscribing took over 60000 ms"))
        );
        assert_eq!(Run::parse("not json"), None);
    }

    #[test]
    fn the_table_gives_each_client_its_median_and_ratio_to_nats_ws() {
        let plan = Plan::from_args(&[]).unwrap();
        let runs = [
            run("enchufe", 100_000.0),
            run("enchufe", 120_000.0),
            run("enchufe", 110_000.0),
            run("nats", 200_000.0),
        ];
        let mut out = String::new();
        table(&mut out, &plan, &runs);
        assert!(
            out.contains("| enchufe (npm) | enchufe | 110.0 k (100.0 k–120.0 k) | **0.55×** |"),
            "{out}"
        );
        assert!(out.contains("| nats.ws | NATS | 200.0 k |  |"), "{out}");
    }
}
