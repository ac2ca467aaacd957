//! `enchufe chat ROOM`: an interactive chat — each stdin line is published, and the room's
//! messages are printed as `[seq] name: text`.

use std::{io::Write as _, process::ExitCode, sync::Arc};

use clap::Args;
use enchufe_core::Body;
use tokio::sync::mpsc;

use super::{
    client_args::{ClientArgs, note},
    publish::body,
    subscribe::describe,
};
use crate::client::{Event, Message};

/// Flags of `enchufe chat`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct ChatArgs {
    /// The room.
    pub room: String,
    /// How many earlier messages to show on joining.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub last: u64,
    /// Connection flags.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Runs `enchufe chat` until stdin ends or Ctrl-C.
pub async fn run(args: ChatArgs, log: Option<String>) -> ExitCode {
    super::init_logging(log.as_deref(), "warn");
    let Some(client) = args.client.connect().await else { return ExitCode::FAILURE };
    let client = Arc::new(client);
    let seq = match client.join(&args.room, None).await {
        Ok(joined) => joined.seq,
        Err(error) => {
            note!("enchufe: cannot join {}: {error}", args.room);
            client.close().await;
            return ExitCode::FAILURE;
        }
    };
    if args.last > 0 && seq > 0 {
        let since = seq.saturating_sub(args.last);
        let limit = u32::try_from(args.last).unwrap_or(u32::MAX);
        if let Ok(messages) = client.history(&args.room, Some(since), Some(limit)).await {
            messages.iter().for_each(print);
        }
    }
    note!("* joined {} — type a line and press Enter to send; Ctrl-D to quit", args.room);

    // Publishes go out one after the other, in typing order, without holding up the display.
    let (lines, mut to_publish) = mpsc::channel::<Body>(64);
    let publisher = tokio::spawn({
        let (client, room) = (client.clone(), args.room.clone());
        async move {
            while let Some(body) = to_publish.recv().await {
                if let Err(error) = client.publish(&room, body).await {
                    note!("* not sent: {error}");
                }
            }
        }
    });
    let mut stdin = stdin_lines();
    let stop = super::stop_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            line = stdin.recv() => match line {
                Some(line) if line.trim().is_empty() => {}
                Some(line) => {
                    if lines.send(body(line)).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            event = client.next_event() => match event {
                Some(Event::Message(message)) => print(&message),
                Some(event) => describe(&event),
                None => break,
            },
            () = &mut stop => break,
        }
    }
    drop(lines);
    // What was typed is sent before leaving (unless interrupted again).
    tokio::select! {
        _ = publisher => {}
        () = super::stop_signal() => {}
    }
    client.close().await;
    ExitCode::SUCCESS
}

/// Stdin's lines, read on a thread of their own (a blocking read has no place on the runtime);
/// the channel closes at end of input.
fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// `[seq] name: text` — a JSON string body as its text, any other body as JSON or a size.
fn print(message: &Message) {
    let text = match message.body.as_json_text() {
        Some(json) => serde_json::from_str::<String>(json).unwrap_or_else(|_| json.to_owned()),
        None => format!("<{} bytes>", message.body.len()),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "[{}] {}: {}", message.seq, message.from, text);
    let _ = stdout.flush();
}
