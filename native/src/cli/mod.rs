//! The `enchufe` command line: one [`Command`] variant and one file per subcommand.
//!
//! Adding a subcommand (`pub`, `sub`, `chat`, `bench`): write `cli/<name>.rs` with an `Args`
//! struct (clap derive) and `async fn run(args) -> ExitCode`, add the variant to [`Command`] and
//! its arm to [`run`].

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod bench;
pub mod chat;
pub mod client_args;
pub mod publish;
pub mod serve;
pub mod subscribe;
pub mod token;

/// enchufe: real-time rooms over WebSocket, TCP, UDP and HTTP.
#[derive(Debug, Parser)]
#[command(name = "enchufe", version, about, propagate_version = true)]
pub struct Cli {
    /// Log filter, `RUST_LOG` syntax (e.g. `info`, `enchufe=debug`); overrides `RUST_LOG`.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server. (Boxed: its flags are most of a parsed command line.)
    Serve(Box<serve::ServeArgs>),
    /// Publish one message; prints its seq once the server acknowledges it.
    Pub(publish::PubArgs),
    /// Print a room's messages as JSON lines (joins, gaps and presence go to stderr).
    Sub(subscribe::SubArgs),
    /// Chat in a room: stdin lines are published, messages printed as `[seq] name: text`.
    Chat(chat::ChatArgs),
    /// Print a development token (HS256, signed with the server's secret) for `--token`.
    Token(token::TokenArgs),
    /// Load a server (enchufe or NATS): fan-out throughput, latency, memory per connection.
    Bench(bench::BenchArgs),
}

/// Parses the command line and runs the subcommand (the whole of `main`).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("enchufe: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve::run(*args, cli.log).await,
        Command::Pub(args) => publish::run(args, cli.log).await,
        Command::Sub(args) => subscribe::run(args, cli.log).await,
        Command::Chat(args) => chat::run(args, cli.log).await,
        Command::Bench(args) => bench::run(args, cli.log).await,
        Command::Token(args) => token::run(args),
    }
}

/// Installs the log subscriber: `--log`, else `RUST_LOG`, else `fallback`. Logs go to stderr;
/// stdout carries only the lines scripts read (the listening addresses).
pub fn init_logging(flag: Option<&str>, fallback: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = flag
        .map(EnvFilter::try_new)
        .or_else(|| std::env::var("RUST_LOG").ok().map(EnvFilter::try_new))
        .and_then(Result::ok)
        .unwrap_or_else(|| EnvFilter::new(fallback));
    // A log line that cannot be written (stderr is a pipe whose reader went away) is dropped:
    // reporting that failure to the same stderr would panic the task that logged, and a task
    // that panics while handling SIGTERM leaves the server running.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .try_init();
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM: how every long-running subcommand is
/// asked to stop (the server drains; `sub` and `chat` leave their rooms first).
pub(crate) async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
