//! `enchufe bench fanout|rtt|idle --url URL`: the load tool (see [`crate::bench`]).

use std::{io::Write as _, process::ExitCode, time::Duration};

use clap::{Args, Subcommand};
use enchufe_core::{RoomName, codec::json::to_text};

use crate::bench::{self, BenchError, FanoutOptions, Target};

/// Flags of `enchufe bench`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct BenchArgs {
    /// The workload.
    #[command(subcommand)]
    pub workload: Workload,
}

/// The workloads.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Workload {
    /// S subscribers in one room, one publisher: deliveries/s, latency, messages lost.
    Fanout(FanoutArgs),
    /// Publish and wait for your own message, N times: round-trip latency.
    Rtt(RttArgs),
    /// C idle connections joined to rooms: the server's resident memory per connection.
    Idle(IdleArgs),
}

/// Flags every workload takes.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct Common {
    /// The server: ws://, tcp://, udp:// (enchufe), nats://, nats+ws:// (NATS); loopback only.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `enchufe bench fanout`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct FanoutArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: Common,
    /// Subscribers.
    #[arg(long, default_value_t = 100)]
    pub subs: usize,
    /// Payload bytes (at least 16: a send time and an index).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Messages per second; without it, as fast as the publisher can write (see `--window`).
    #[arg(long)]
    pub rate: Option<f64>,
    /// When not paced: messages the slowest subscriber may lag behind the publisher (at most
    /// window × subs deliveries in flight). Off by default: the publisher is held back only by
    /// the server's flow control. UDP has none: unpaced UDP runs need `--rate` or `--window`.
    #[arg(long, value_name = "N")]
    pub window: Option<u64>,
    /// Messages to publish at most.
    #[arg(long, default_value_t = 200_000)]
    pub messages: u64,
    /// Seconds to publish at most.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds without a delivery, once publishing stopped, after which the rest count as lost
    /// (the wait goes on while deliveries keep coming, up to 20 times this).
    #[arg(long, default_value_t = 3.0)]
    pub drain: f64,
    /// The room (NATS subject).
    #[arg(long, default_value = "bench")]
    pub room: String,
    /// The publisher connects here instead of `--url`: another node of the same deployment
    /// (enchufe nodes on one Redis), so that every message crosses from one node to the other.
    #[arg(long, value_name = "URL")]
    pub publish_url: Option<String>,
}

/// Flags of `enchufe bench rtt`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct RttArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: Common,
    /// Round trips.
    #[arg(long, default_value_t = 10_000)]
    pub count: u64,
    /// Payload bytes (at least 16).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// The room (NATS subject).
    #[arg(long, default_value = "bench-rtt")]
    pub room: String,
}

/// Flags of `enchufe bench idle`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct IdleArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: Common,
    /// Connections.
    #[arg(long, default_value_t = 1000)]
    pub conns: usize,
    /// Rooms they are spread over (each connection joins one).
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    /// The server's process id, to read its resident memory (Linux /proc).
    #[arg(long)]
    pub pid: Option<u32>,
    /// Seconds to wait, all joined, before reading the memory again.
    #[arg(long, default_value_t = 1.0)]
    pub settle: f64,
}

/// Runs `enchufe bench`.
pub async fn run(args: BenchArgs, log: Option<String>) -> ExitCode {
    super::init_logging(log.as_deref(), "warn");
    let (json, output) = match args.workload {
        Workload::Fanout(a) => (a.common.json, fanout(a).await),
        Workload::Rtt(a) => (a.common.json, rtt(a).await),
        Workload::Idle(a) => (a.common.json, idle(a).await),
    };
    match output {
        Ok((json_text, text)) => {
            let _ = writeln!(std::io::stdout(), "{}", if json { json_text } else { text });
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("enchufe bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A report as (JSON, text).
type Output = Result<(String, String), BenchError>;

async fn fanout(a: FanoutArgs) -> Output {
    let target: Target = a.common.url.parse()?;
    let options = FanoutOptions {
        subs: a.subs,
        size: a.size,
        rate: a.rate.filter(|r| *r > 0.0),
        window: a.window,
        messages: a.messages,
        duration: seconds(a.duration),
        drain: seconds(a.drain),
        room: room(a.room)?,
        publish_to: a.publish_url.as_deref().map(str::parse).transpose()?,
    };
    let report = bench::fanout::run(&target, &options).await?;
    Ok((to_text(&report), report.text()))
}

async fn rtt(a: RttArgs) -> Output {
    let target: Target = a.common.url.parse()?;
    let report = bench::rtt::run(&target, a.count, a.size, &room(a.room)?).await?;
    Ok((to_text(&report), report.text()))
}

async fn idle(a: IdleArgs) -> Output {
    let target: Target = a.common.url.parse()?;
    let report = bench::idle::run(&target, a.conns, a.rooms, a.pid, seconds(a.settle)).await?;
    Ok((to_text(&report), report.text()))
}

fn room(name: String) -> Result<RoomName, BenchError> {
    RoomName::new(name).map_err(|e| BenchError::Url(format!("room: {e}")))
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}
