//! `cargo xtask test`: every check and test of the workspace, in the order that fails fastest,
//! ending with the benchmark pipeline's smoke run (`cargo xtask bench --quick`).

use crate::{
    setup,
    sh::{Result, cmd, step},
};

/// Installs what is missing, then runs formatting, lints (native and wasm32) and all tests.
pub(crate) fn run(args: &[String]) -> Result {
    if !args.is_empty() {
        return Err(crate::sh::Failed(format!(
            "`cargo xtask test` takes no arguments, got {args:?}"
        )));
    }
    setup::run()?;
    step(cmd("cargo", &["fmt", "--all", "--check"]))?;
    step(cmd(
        "cargo",
        &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"],
    ))?;
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
    crate::browser::run()?;
    crate::e2e::run()?;
    // The load tool against the release server and a real nats-server, briefly.
    crate::bench::run(&["--quick".to_owned()])?;
    Ok(())
}

/// The packages that must build for the browser. (Never the whole workspace: native-only
/// dependencies do not build for wasm32.)
const WASM_PACKAGES: &[&str] = &["enchufe-core", "enchufe-wasm"];
