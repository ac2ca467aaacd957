//! `enchufe token --sub alice`: prints a development token (HS256, signed with the server's
//! secret), like Centrifugo's `gentoken`. A real application's backend mints its tokens with
//! any JWT library (docs/DECISIONS.md, "Identity"); this is for trying a server out and for
//! scripts.

use std::{io::Write as _, path::PathBuf, process::ExitCode};

use clap::Args;

use crate::{auth, config::FileConfig};

/// Flags of `enchufe token`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct TokenArgs {
    /// The HS256 secret the server verifies with (its `--auth-secret`).
    #[arg(long, env = "ENCHUFE_AUTH_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Read the secret (and the audience and issuer, unless given) from the server's config
    /// file's `[auth]` table.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The user id: the token's `sub` (the sender of the user's messages).
    #[arg(long)]
    pub sub: String,
    /// Rooms the token allows, comma-separated patterns (`chat:*,lobby`); every room without it.
    #[arg(long, value_name = "PATTERN,…", value_delimiter = ',')]
    pub rooms: Vec<String>,
    /// Seconds until the token expires; 0 for a token without `exp`.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub ttl: u64,
    /// The `aud` claim.
    #[arg(long)]
    pub aud: Option<String>,
    /// The `iss` claim.
    #[arg(long)]
    pub iss: Option<String>,
}

/// Runs `enchufe token`: the token on stdout.
pub fn run(args: TokenArgs) -> ExitCode {
    let file = match &args.config {
        Some(path) => match FileConfig::load(path) {
            Ok(file) => file.auth.unwrap_or_default(),
            Err(error) => {
                eprintln!("enchufe: {error}");
                return ExitCode::from(2);
            }
        },
        None => auth::AuthConfig::default(),
    };
    let Some(secret) = args.secret.clone().or(file.secret).filter(|s| !s.is_empty()) else {
        eprintln!(
            "enchufe: no secret: give --secret, ENCHUFE_AUTH_SECRET or --config with [auth] secret \
             (tokens for RS256/ES256 keys are minted by the application's backend)"
        );
        return ExitCode::from(2);
    };
    if args.sub.is_empty() || args.sub.len() > 128 {
        eprintln!("enchufe: --sub must be 1 to 128 bytes");
        return ExitCode::from(2);
    }
    let now = crate::clock::now().unix_ms / 1000;
    let mut claims = serde_json::json!({ "sub": args.sub, "iat": now });
    if args.ttl > 0 {
        claims["exp"] = now.saturating_add(args.ttl).into();
    }
    let rooms: Vec<&str> = args.rooms.iter().map(|r| r.trim()).filter(|r| !r.is_empty()).collect();
    if !rooms.is_empty() {
        claims["rooms"] = rooms.into();
    }
    if let Some(aud) = args.aud.or(file.audience) {
        claims["aud"] = aud.into();
    }
    if let Some(iss) = args.iss.or(file.issuer) {
        claims["iss"] = iss.into();
    }
    let token = auth::mint(&secret, &claims);
    if writeln!(std::io::stdout(), "{token}").is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
