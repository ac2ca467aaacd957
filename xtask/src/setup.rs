//! Installs what a fresh machine lacks (docs/TOOLCHAIN.md says why each step is so).
//!
//! A fresh machine has rustup with stable Rust, Node/npm, Python and git. Every step here is
//! skipped when its tool is already present, so later runs cost nothing. (npm packages are
//! installed with `npm ci` by the step that uses them.)

use std::path::Path;

use crate::sh::{self, Result, cmd, has, output, root, step};

/// Debian's Chromium, which the browser tests drive headless.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver, matching [`CHROMIUM`] (wasm-pack must not download one).
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs everything the test run needs.
pub(crate) fn run() -> Result {
    wasm_target()?;
    wasm_pack()?;
    wasm_bindgen_cli()?;
    chromium()?;
    redis_server()
}

/// The wasm32 target, for building `core` (and the browser client) for the browser.
pub(crate) fn wasm_target() -> Result {
    let installed = output(cmd("rustup", &["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|t| t == "wasm32-unknown-unknown") {
        return Ok(());
    }
    step(cmd("rustup", &["target", "add", "wasm32-unknown-unknown"]))
}

/// wasm-pack, from crates.io (its npm package downloads from GitHub at install time).
fn wasm_pack() -> Result {
    if has("wasm-pack") {
        return Ok(());
    }
    step(cmd("cargo", &["install", "--locked", "wasm-pack"]))
}

/// The wasm-bindgen CLI (and its test runner) of exactly the version in Cargo.lock: the CLI
/// refuses modules built by another version. Installed without `--locked`: its lockfile
/// wants a webpki-roots release the registry does not serve.
fn wasm_bindgen_cli() -> Result {
    let wanted = locked_version("wasm-bindgen")?;
    let installed = output(cmd("wasm-bindgen", &["--version"])).unwrap_or_default();
    if installed.split_whitespace().nth(1) == Some(wanted.as_str()) {
        return Ok(());
    }
    let version = format!("={wanted}");
    step(cmd("cargo", &["install", "--force", "wasm-bindgen-cli", "--version", &version]))
}

/// Chromium and ChromeDriver from Debian (we run as root on these machines).
fn chromium() -> Result {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    step(cmd("apt-get", &["update"]))?;
    let mut install = cmd("apt-get", &["install", "-y", "chromium", "chromium-driver"]);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    step(install)
}

/// Debian's redis-server, for the Redis engine's tests. The package also starts a system
/// instance on port 6379; the tests never use it (they start their own on free ports).
pub(crate) fn redis_server() -> Result {
    if has("redis-server") {
        return Ok(());
    }
    step(cmd("apt-get", &["update"]))?;
    let mut install = cmd("apt-get", &["install", "-y", "redis-server"]);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    step(install)
}

/// The version of `package` in Cargo.lock.
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| sh::Failed(format!("cannot read Cargo.lock: {e}")))?;
    let name = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == name
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err(sh::Failed(format!("{package} is not in Cargo.lock")))
}

/// Fails unless `program` runs (`program --version`).
pub(crate) fn need(program: &str) -> Result {
    if has(program) { Ok(()) } else { Err(sh::Failed(format!("{program} is not installed"))) }
}

#[cfg(test)]
mod tests {
    use super::locked_version;

    /// The pin that `wasm_bindgen_cli` installs the CLI for is found in the lockfile.
    #[test]
    fn reads_the_locked_wasm_bindgen_version() {
        let version = locked_version("wasm-bindgen").unwrap();
        assert!(version.starts_with("0.2."), "{version}");
        assert!(locked_version("no-such-package").is_err());
    }
}
