//! `enchufe pub ROOM MESSAGE`: publishes one message and prints its seq once acknowledged.

use std::{io::Write as _, process::ExitCode};

use clap::Args;
use enchufe_core::Body;

use super::client_args::{ClientArgs, note};

/// Flags of `enchufe pub`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct PubArgs {
    /// The room.
    pub room: String,
    /// The message: sent as JSON if it parses as JSON (`{"text":"hi"}`, `42`, `"quoted"`),
    /// else as a JSON string (`hello world`).
    pub message: String,
    /// Connection flags.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Runs `enchufe pub`: prints the message's seq on stdout.
pub async fn run(args: PubArgs, log: Option<String>) -> ExitCode {
    super::init_logging(log.as_deref(), "warn");
    let Some(client) = args.client.connect().await else { return ExitCode::FAILURE };
    let published = client.publish(&args.room, body(args.message)).await;
    client.close().await;
    match published {
        Ok(seq) => {
            let _ = writeln!(std::io::stdout(), "{seq}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            note!("enchufe: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `text` as a JSON body if it is JSON, else as a JSON string.
pub(crate) fn body(text: String) -> Body {
    match Body::from_json_text(text.trim()) {
        Ok(body) => body,
        // Serializing a string cannot fail; the empty-bytes fallback is never taken.
        Err(_) => Body::json(&text).unwrap_or(Body::Bytes(Vec::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_stays_json_and_text_becomes_a_string() {
        assert_eq!(body(r#"{"text":"hi"}"#.into()).as_json_text(), Some(r#"{"text":"hi"}"#));
        assert_eq!(body("42".into()).as_json_text(), Some("42"));
        assert_eq!(body("hello world".into()).as_json_text(), Some(r#""hello world""#));
        assert_eq!(body("{broken".into()).as_json_text(), Some(r#""{broken""#));
    }
}
