//! The web app's tests: unit tests of its models (`www/test`, Node) and the end-to-end test
//! (`www/e2e`): the production build served by the real server, driven in headless Chromium
//! with playwright-core, next to the CLI, REST and raw TCP clients.
//!
//! The e2e test starts the server binary itself (www/e2e/server.js) rather than through
//! `live_server`: it stops the server, acts on the page while it is down (the page must show
//! the countdown and keep a message pending), then starts it again on the same HTTP, TCP and
//! UDP ports. Screenshots land in target/e2e-artifacts.

use crate::{
    serve::build_www,
    setup,
    sh::{Result, cmd, root, step},
};

/// Builds the app and the server, then runs the web app's unit and end-to-end tests.
pub(crate) fn run() -> Result {
    build_www()?;
    step(cmd("cargo", &["build", "--locked", "--package", "enchufe"]))?;
    let artifacts = root().join("target/e2e-artifacts");
    let mut test = cmd("node", &["--test", "--test-reporter=spec", "test/", "e2e/"]);
    test.current_dir(root().join("www"));
    test.env("ENCHUFE_BIN", root().join("target/debug/enchufe"))
        .env("ENCHUFE_WWW", crate::serve::dist())
        .env("ENCHUFE_E2E_ARTIFACTS", &artifacts)
        .env("CHROMIUM", std::env::var_os("CHROMIUM").unwrap_or_else(|| setup::CHROMIUM.into()));
    step(test)?;
    eprintln!("e2e screenshots: {}", artifacts.display());
    Ok(())
}
