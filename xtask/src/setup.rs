//! Installs what a fresh machine lacks (see ../shared/TOOLCHAIN.md for why each step is so).
//!
//! A fresh machine has rustup with stable Rust, Node/npm, Python and git. Every step here is
//! skipped when its tool is already present, so later runs cost nothing.

use crate::sh::{self, Result, cmd, has, output, step};

/// Installs everything the test run needs.
pub(crate) fn run() -> Result {
    wasm_target()
}

/// The wasm32 target, for building `core` (and the browser client) for the browser.
pub(crate) fn wasm_target() -> Result {
    let installed = output(cmd("rustup", &["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|t| t == "wasm32-unknown-unknown") {
        return Ok(());
    }
    step(cmd("rustup", &["target", "add", "wasm32-unknown-unknown"]))
}

#[allow(dead_code)] // used by the browser tests once they land
pub(crate) fn need(program: &str) -> Result {
    if has(program) { Ok(()) } else { Err(sh::Failed(format!("{program} is not installed"))) }
}
