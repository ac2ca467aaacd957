//! `cargo xtask …`: the project's two commands and their helpers.
//!
//! - `cargo xtask test`: installs what a fresh machine lacks, then runs every check and test.
//! - `cargo xtask bench [--quick]`: enchufe against NATS, written into docs/PERFORMANCE.md.
//! - `cargo xtask serve [ARGS…]`: builds what the server needs and runs it (ARGS go to
//!   `enchufe serve`).
//!
//! Written with the standard library (and serde_json, to read the load tool's output) only, so
//! that the first `cargo xtask` on a fresh clone compiles in seconds.

mod bench;
mod browser;
mod control;
mod e2e;
mod imports;
mod live_server;
mod pack;
mod redis;
mod serve;
mod setup;
mod sh;
mod test;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("serve") => serve::run(&args[1..]),
        Some("setup") => setup::run(),
        Some("e2e") => setup::run().and_then(|()| e2e::run()),
        Some("browser") => setup::run().and_then(|()| browser::run()),
        Some("pack") => setup::run().and_then(|()| pack::run()).map(drop),
        // Hidden: the CPU hog `bench --quick` runs beside itself (bench/hog.rs).
        Some("hog") => bench::hog::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 test    install what is missing, then run every check and test\n  \
                 serve   build the server (and the web app) and run it; extra args go to `enchufe serve`\n  \
                 setup   only install what is missing\n  \
                 e2e     only the web app's tests (unit, and end to end in headless Chromium)\n  \
                 browser only the browser client's tests (wasm in headless Chromium, npm consumer)\n  \
                 pack    build the npm package `enchufe` into target/npm/enchufe-VERSION.tgz\n  \
                 bench   enchufe against NATS (installs nats-server), also in a browser tab against\n          \
                 nats.ws: tables into docs/PERFORMANCE.md,\n          \
                 raw runs into target/bench/results.jsonl (about 7 minutes)\n  \
                 bench --quick  the same, one short repetition at 100 subscribers (a smoke check)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}
