//! `enchufe sub ROOM [--since N]`: prints a room's messages as JSON lines on stdout; joins,
//! gaps, presence and connection changes go to stderr, so stdout can be piped to `jq`.

use std::{
    io::{self, Write as _},
    process::ExitCode,
};

use clap::Args;

use super::client_args::{ClientArgs, note};
use crate::client::{ConnState, Event, PresenceAction};

/// Flags of `enchufe sub`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct SubArgs {
    /// The room.
    pub room: String,
    /// Replay every stored message after this seq first (`--since 0`: all of history).
    #[arg(long, value_name = "SEQ")]
    pub since: Option<u64>,
    /// Exit after printing this many messages.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Connection flags.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Runs `enchufe sub` until Ctrl-C or SIGTERM, `--count` messages, or the client is closed.
pub async fn run(args: SubArgs, log: Option<String>) -> ExitCode {
    super::init_logging(log.as_deref(), "warn");
    let Some(client) = args.client.connect().await else { return ExitCode::FAILURE };
    match client.join(&args.room, args.since).await {
        Ok(joined) => {
            note!("joined {} at seq {} ({} members)", joined.room, joined.seq, joined.members.len())
        }
        Err(error) => {
            note!("enchufe: cannot join {}: {error}", args.room);
            client.close().await;
            return ExitCode::FAILURE;
        }
    }
    let mut printed = 0;
    let mut stdout = io::stdout().lock();
    let stop = super::stop_signal();
    tokio::pin!(stop);
    let code = loop {
        if args.count.is_some_and(|count| printed >= count) {
            break ExitCode::SUCCESS;
        }
        let event = tokio::select! {
            event = client.next_event() => event,
            () = &mut stop => break ExitCode::SUCCESS,
        };
        match event {
            None => break ExitCode::FAILURE,
            Some(Event::Message(message)) => {
                let line = enchufe_core::codec::json::to_text(&message);
                if writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_err() {
                    break ExitCode::SUCCESS; // the reader went away (`| head`)
                }
                printed += 1;
            }
            Some(event) => describe(&event),
        }
    };
    drop(stdout);
    client.close().await;
    code
}

/// One stderr line for a non-message event (also used by `chat`).
pub(crate) fn describe(event: &Event) {
    match event {
        Event::Gap { room, from, to } => note!("gap in {room}: messages {from}..={to} missed"),
        Event::Reset { room, .. } => {
            note!("{room} was renumbered (server restart): messages may have been missed")
        }
        Event::Presence(p) => {
            let who = p.member.name.as_deref().unwrap_or(&p.member.session);
            let did = match p.action {
                PresenceAction::Join => "joined",
                PresenceAction::Leave => "left",
            };
            note!("{who} {did} {}", p.room);
        }
        Event::State(ConnState::Waiting { .. }) => note!("disconnected; reconnecting…"),
        Event::State(ConnState::Online { session }) => note!("online as {session}"),
        Event::Error { code, message } => note!("server error {code}: {message}"),
        _ => {}
    }
}
