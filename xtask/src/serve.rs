//! `cargo xtask serve`: builds the web app (the wasm package through webpack) and the server,
//! then runs `enchufe serve --www www/dist` and prints the URL to open.

use std::{
    io::{BufRead as _, BufReader, Write as _},
    path::PathBuf,
    process::{Command, Stdio},
    thread,
};

use crate::{
    setup,
    sh::{Failed, Result, cmd, root, step},
};

/// Builds everything and runs the server in the foreground; `args` go to `enchufe serve`.
pub(crate) fn run(args: &[String]) -> Result {
    setup::run()?;
    build_www()?;
    step(cmd("cargo", &["build", "--release", "--locked", "--package", "enchufe"]))?;

    let mut server = Command::new(root().join("target/release/enchufe"));
    server.current_dir(root()).arg("serve");
    if !args.iter().any(|a| a == "--www" || a.starts_with("--www=")) {
        server.arg("--www").arg(dist());
    }
    server.args(args).stdout(Stdio::piped());
    let mut child =
        server.spawn().map_err(|e| Failed(format!("could not start the server: {e}")))?;

    // stdout carries only the startup lines (`enchufe: http listening on http://…`); logs go
    // to stderr, which the server keeps. Echo the lines and point at the page. Ctrl-C reaches
    // the server directly (same process group): it drains and exits, and so does this loop.
    if let Some(stdout) = child.stdout.take() {
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(std::io::Result::ok) {
                println!("{line}");
                if let Some(url) = line.strip_prefix("enchufe: http listening on ") {
                    println!(
                        "\n    open {} in a browser (Ctrl-C stops the server)\n",
                        page_url(url)
                    );
                }
                let _ = std::io::stdout().flush();
            }
        });
    }
    let status = child.wait().map_err(|e| Failed(format!("waiting for the server: {e}")))?;
    if status.success() { Ok(()) } else { Err(Failed(format!("the server exited: {status}"))) }
}

/// The web app's build output, what the server serves.
pub(crate) fn dist() -> PathBuf {
    root().join("www/dist")
}

/// The `enchufe` package (`cargo xtask pack`, into target/npm/enchufe), `npm ci`, then the
/// production webpack build, which bundles the app with that package into www/dist.
pub(crate) fn build_www() -> Result {
    crate::pack::run()?;
    step(npm(&["ci", "--no-audit", "--no-fund"]))?;
    step(npm(&["run", "build"]))
}

/// An npm command in www/.
fn npm(args: &[&str]) -> Command {
    let mut command = cmd("npm", args);
    command.current_dir(root().join("www"));
    command
}

/// A page URL for a listening address: a server bound to every interface is opened locally.
fn page_url(listening: &str) -> String {
    let url = listening.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:");
    format!("{}/", url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::page_url;

    #[test]
    fn page_url_opens_a_wildcard_address_locally() {
        assert_eq!(page_url("http://127.0.0.1:8480"), "http://127.0.0.1:8480/");
        assert_eq!(page_url("http://0.0.0.0:80"), "http://127.0.0.1:80/");
        assert_eq!(page_url("http://[::]:8480"), "http://[::1]:8480/");
    }
}
