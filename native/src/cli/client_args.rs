//! The flags every client subcommand (`pub`, `sub`, `chat`) shares.

use clap::Args;

use crate::client::{self, Client, Options};

/// `eprintln!` that never panics: a closed stderr (`2>&-`, a reader that went away) must not
/// take the client down.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use note;

/// Where to connect and as whom.
#[derive(Clone, Debug, Args)]
#[non_exhaustive]
pub struct ClientArgs {
    /// The server: ws://HOST:PORT/ws, tcp://HOST:PORT or udp://HOST:PORT; over TLS
    /// wss://HOST:PORT/ws or tls://HOST:PORT.
    #[arg(long, env = "ENCHUFE_URL", default_value = "tcp://127.0.0.1:8481")]
    pub url: String,
    /// Your display name (others see it as the sender and in presence).
    #[arg(long, env = "ENCHUFE_NAME")]
    pub name: Option<String>,
    /// Auth token (a JWT) for servers that require one; `enchufe token` makes development ones.
    #[arg(long, env = "ENCHUFE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Read the auth token from this file (surrounding whitespace ignored): keeps it out of the
    /// process list and the shell history.
    #[arg(long, env = "ENCHUFE_TOKEN_FILE", value_name = "PATH", conflicts_with = "token")]
    pub token_file: Option<std::path::PathBuf>,
    /// Speak the compact binary encoding instead of JSON.
    #[arg(long)]
    pub binary: bool,
    /// For wss:// and tls://: trust the certificates in this PEM file (a private CA, a
    /// self-signed server) instead of Mozilla's roots.
    #[arg(long, env = "ENCHUFE_CA_FILE", value_name = "PATH")]
    pub ca_file: Option<std::path::PathBuf>,
}

impl ClientArgs {
    /// Connects, or prints why not (the caller exits with failure).
    pub(crate) async fn connect(&self) -> Option<Client> {
        let mut options = Options::default().binary(self.binary);
        options.name.clone_from(&self.name);
        options.token.clone_from(&self.token);
        options.ca_file.clone_from(&self.ca_file);
        if let Some(path) = &self.token_file {
            match std::fs::read_to_string(path) {
                Ok(token) => options.token = Some(token.trim().to_owned()),
                Err(error) => {
                    note!("enchufe: cannot read the token file {}: {error}", path.display());
                    return None;
                }
            }
        }
        match client::connect(&self.url, options).await {
            Ok(client) => Some(client),
            Err(error) => {
                note!("enchufe: {error}");
                None
            }
        }
    }
}
