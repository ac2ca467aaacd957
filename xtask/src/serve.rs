//! `cargo xtask serve`: builds the server (release) and runs `enchufe serve`.

use crate::sh::{Result, cmd, step};

/// Builds and runs the server; `args` are passed to `enchufe serve`.
pub(crate) fn run(args: &[String]) -> Result {
    let mut command =
        cmd("cargo", &["run", "--release", "--locked", "--package", "enchufe", "--", "serve"]);
    command.args(args);
    step(command)
}
