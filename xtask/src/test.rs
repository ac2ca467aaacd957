//! `cargo xtask test`: every check and test of the workspace (the transport suites twice: plain
//! and over TLS), in the order that fails fastest, ending with the benchmark pipeline's smoke
//! run (`cargo xtask bench --quick`).

use crate::{
    setup,
    sh::{Failed, Result, cmd, step},
};

/// Installs what is missing, then runs formatting, lints (native and wasm32) and all tests.
pub(crate) fn run(args: &[String]) -> Result {
    if !args.is_empty() {
        return Err(Failed(format!("`cargo xtask test` takes no arguments, got {args:?}")));
    }
    setup::run()?;
    step(cmd("cargo", &["fmt", "--all", "--check"]))?;
    step(cmd(
        "cargo",
        &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"],
    ))?;
    client_alone()?;
    for package in WASM_PACKAGES {
        step(cmd(
            "cargo",
            &[
                "clippy",
                "--package",
                package,
                "--target",
                "wasm32-unknown-unknown",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ))?;
    }
    step(cmd("cargo", &["test", "--workspace", "--locked"]))?;
    // The transport suites once more, over TLS: their helpers (native/tests/common) give the
    // server a self-signed certificate and connect through it when ENCHUFE_TEST_TLS is set.
    let mut over_tls = cmd("cargo", &["test", "--package", "enchufe", "--locked"]);
    over_tls.args(TLS_SUITES.iter().flat_map(|suite| ["--test", suite]));
    over_tls.env("ENCHUFE_TEST_TLS", "1");
    step(over_tls)?;
    // And once on the Redis engine, against a redis-server of this run's own: their test
    // servers (native/tests/support/server.rs) take it from ENCHUFE_TEST_REDIS_URL.
    let redis = crate::redis::Redis::start()?;
    let mut on_redis = cmd("cargo", &["test", "--package", "enchufe", "--locked"]);
    on_redis.args(REDIS_SUITES.iter().flat_map(|suite| ["--test", suite]));
    on_redis.env("ENCHUFE_TEST_REDIS_URL", redis.url());
    step(on_redis)?;
    drop(redis);
    crate::browser::run()?;
    crate::e2e::run()?;
    // The load tool against the release server and a real nats-server, briefly.
    crate::bench::run(&["--quick".to_owned()])?;
    Ok(())
}

/// The native client builds without the server's and the CLI's dependencies (enchufe's
/// `--no-default-features`), and none of them comes back through another path: an application
/// that embeds `enchufe::client` must not compile an HTTP server or an argument parser.
fn client_alone() -> Result {
    step(cmd("cargo", &["build", "--package", "enchufe", "--no-default-features", "--locked"]))?;
    let tree = ["tree", "--package", "enchufe", "--no-default-features", "--edges", "normal"];
    let shown = format!("cargo {}", tree.join(" "));
    eprintln!("\n==> {shown} (must not list {SERVER_ONLY:?})");
    let out = cmd("cargo", &tree)
        .args(["--prefix", "none", "--locked"])
        .output()
        .map_err(|e| Failed(format!("could not start `{shown}`: {e}")))?;
    if !out.status.success() {
        return Err(Failed(format!("`{shown}` failed: {}", out.status)));
    }
    let found = server_only_in(&String::from_utf8_lossy(&out.stdout));
    if found.is_empty() {
        Ok(())
    } else {
        Err(Failed(format!("the client alone (`{shown}`) still depends on {found:?}")))
    }
}

/// The test binaries (native/tests/*.rs) run a second time over TLS.
const TLS_SUITES: &[&str] = &["tcp", "ws", "sse", "http"];

/// The test binaries run a third time on the Redis engine: the transport suites, identity, and
/// the native client's.
const REDIS_SUITES: &[&str] = &[
    "tcp",
    "ws",
    "sse",
    "http",
    "udp",
    "auth",
    "auth_http",
    "client_transports",
    "client_recovery",
];

/// Crates only the server or the CLI may pull in.
const SERVER_ONLY: &[&str] = &[
    "axum",
    "hyper",
    "hyper-util",
    "tower-http",
    "clap",
    "toml",
    "tracing-subscriber",
    "hdrhistogram",
];

/// The [`SERVER_ONLY`] crates named in a `cargo tree --prefix none` listing (one
/// `name vX.Y.Z …` a line; names compared whole, so `http` is not `hyper`).
fn server_only_in(tree: &str) -> Vec<&'static str> {
    let names: Vec<&str> = tree.lines().filter_map(|line| line.split_whitespace().next()).collect();
    SERVER_ONLY.iter().copied().filter(|crate_name| names.contains(crate_name)).collect()
}

/// The packages that must build for the browser. (Never the whole workspace: native-only
/// dependencies do not build for wasm32.)
const WASM_PACKAGES: &[&str] = &["enchufe-core", "enchufe-wasm"];

#[cfg(test)]
mod tests {
    use super::server_only_in;

    #[test]
    fn server_only_crates_are_found_by_whole_name() {
        let tree = "enchufe v0.1.0 (/w/native)\nhttp v1.5.0\nhyper v1.12.0\ntoml_edit v0.22.0\n";
        assert_eq!(server_only_in(tree), ["hyper"]);
        assert!(server_only_in("tokio v1.54.1\nhttparse v1.10.1\n").is_empty());
    }
}
