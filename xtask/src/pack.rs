//! `cargo xtask pack`: the npm package `enchufe`, as `target/npm/enchufe-VERSION.tgz`.
//!
//! 1. wasm-pack builds wasm/ twice with the `wasm-release` profile (opt-level z, LTO,
//!    panic=abort): the `bundler` target (the package's main entry, for webpack & co.) and the
//!    `web` target (`enchufe/web`, for a plain `<script type="module">`).
//! 2. binaryen's `wasm-opt -Oz` from npm shrinks both modules (never Debian's binaryen: its
//!    output breaks in the browser, see docs/TOOLCHAIN.md).
//! 3. The package.json is written here — name `enchufe`, the workspace's version, both entry
//!    points in `exports` — next to wasm/README.md, and `npm pack` makes the tarball.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use crate::sh::{Failed, Result, cmd, output, root, step};

/// The package's name on npm.
const NAME: &str = "enchufe";

/// Where the package is assembled and the tarball written.
pub(crate) fn out_dir() -> PathBuf {
    root().join("target/npm")
}

/// The tarball `run` produces.
pub(crate) fn tarball() -> PathBuf {
    out_dir().join(format!("{NAME}-{}.tgz", env!("CARGO_PKG_VERSION")))
}

/// Builds the package and the tarball; returns the tarball's path.
pub(crate) fn run() -> Result<PathBuf> {
    let out = out_dir();
    let package = out.join(NAME);
    let web = out.join("web-build");
    for dir in [&package, &web] {
        remove_dir(dir)?;
    }
    wasm_pack_build("bundler", &package)?;
    wasm_pack_build("web", &web)?;
    let web_in_package = package.join("web");
    fs::create_dir_all(&web_in_package).map_err(io(&web_in_package))?;
    for file in ["enchufe.js", "enchufe.d.ts", "enchufe_bg.wasm", "enchufe_bg.wasm.d.ts"] {
        copy(&web.join(file), &web_in_package.join(file))?;
    }
    remove_dir(&web)?;

    // The two targets differ in their JavaScript glue; their modules are usually the same
    // bytes, and then one wasm-opt run (~20 s) serves both.
    let (bundler_wasm, web_wasm) =
        (package.join("enchufe_bg.wasm"), web_in_package.join("enchufe_bg.wasm"));
    let same = fs::read(&bundler_wasm).ok() == fs::read(&web_wasm).ok();
    optimize(&bundler_wasm)?;
    if same {
        copy(&bundler_wasm, &web_wasm)?;
    } else {
        optimize(&web_wasm)?;
    }
    copy(&root().join("wasm/README.md"), &package.join("README.md"))?;
    let manifest = package.join("package.json");
    fs::write(&manifest, package_json()).map_err(io(&manifest))?;

    let tarball = tarball();
    let _ = fs::remove_file(&tarball);
    let mut pack = cmd("npm", &["pack", "--silent", "--pack-destination"]);
    pack.arg(&out).current_dir(&package);
    step(pack)?;
    if !tarball.is_file() {
        return Err(Failed(format!("npm pack did not write {}", tarball.display())));
    }
    report_sizes(&package.join("enchufe_bg.wasm"), &tarball);
    Ok(tarball)
}

/// `wasm-pack build` of wasm/ for `target` into `out_dir`, with no wasm-opt (done after) and
/// no downloads.
fn wasm_pack_build(target: &str, out_dir: &Path) -> Result {
    let mut build =
        cmd("wasm-pack", &["build", "--mode", "no-install", "--no-opt", "--no-gitignore"]);
    build.args(["--target", target, "--profile", "wasm-release", "--out-name", "enchufe"]);
    build.arg("--out-dir").arg(out_dir).arg(root().join("wasm"));
    build.env("WASM_PACK_CACHE", wasm_pack_cache()?);
    step(build)
}

/// wasm-pack's cache directory, created (wasm-pack fails with a bare "No such file or
/// directory" when it is missing).
pub(crate) fn wasm_pack_cache() -> Result<PathBuf> {
    let cache = root().join("target/wasm-pack-cache");
    fs::create_dir_all(&cache).map_err(io(&cache))?;
    Ok(cache)
}

/// `wasm-opt -Oz` in place, with binaryen from wasm/tools (npm).
fn optimize(wasm: &Path) -> Result {
    let tools = root().join("wasm/tools");
    let wasm_opt = tools.join("node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        let mut ci = cmd("npm", &["ci", "--no-audit", "--no-fund"]);
        ci.current_dir(&tools);
        step(ci)?;
    }
    let mut opt = Command::new(&wasm_opt);
    opt.current_dir(root()).arg("-Oz").arg(wasm).arg("-o").arg(wasm);
    step(opt)
}

/// The package's manifest. `exports` maps `enchufe` to the bundler build and `enchufe/web` to
/// the web build; `sideEffects` keeps bundlers from dropping the module that instantiates
/// the wasm.
fn package_json() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let license = env!("CARGO_PKG_LICENSE");
    let repository = env!("CARGO_PKG_REPOSITORY");
    format!(
        r#"{{
  "name": "{NAME}",
  "version": "{version}",
  "description": "Real-time messaging client for the browser: rooms, presence, history, acknowledged publishes and automatic reconnect with recovery, over WebSocket to an enchufe server.",
  "license": "{license}",
  "repository": {{ "type": "git", "url": "{repository}" }},
  "keywords": ["websocket", "realtime", "pubsub", "chat", "wasm"],
  "type": "module",
  "main": "enchufe.js",
  "module": "enchufe.js",
  "types": "enchufe.d.ts",
  "exports": {{
    ".": {{ "types": "./enchufe.d.ts", "default": "./enchufe.js" }},
    "./web": {{ "types": "./web/enchufe.d.ts", "default": "./web/enchufe.js" }},
    "./package.json": "./package.json"
  }},
  "files": [
    "enchufe.js",
    "enchufe_bg.js",
    "enchufe_bg.wasm",
    "enchufe.d.ts",
    "enchufe_bg.wasm.d.ts",
    "web/",
    "README.md"
  ],
  "sideEffects": ["./enchufe.js", "./snippets/*"]
}}
"#
    )
}

/// Prints the module's size, raw and gzipped (what a browser downloads), and the tarball's.
fn report_sizes(wasm: &Path, tarball: &Path) {
    let size = |path: &Path| fs::metadata(path).map(|m| m.len()).unwrap_or_default();
    let mut gzip = Command::new("sh");
    gzip.arg("-c").arg("gzip -9 -c \"$0\" | wc -c").arg(wasm);
    let gzipped = output(gzip).unwrap_or_else(|| "?".into());
    eprintln!(
        "enchufe_bg.wasm: {} bytes, {gzipped} bytes gzipped (-9); {}: {} bytes",
        size(wasm),
        tarball.display(),
        size(tarball)
    );
}

fn remove_dir(dir: &Path) -> Result {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(dir)(e)),
        _ => Ok(()),
    }
}

fn copy(from: &Path, to: &Path) -> Result {
    fs::copy(from, to).map(drop).map_err(io(from))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Failed + '_ {
    move |e| Failed(format!("{}: {e}", path.display()))
}
