//! `cargo xtask pack`: the npm package `enchufe`, as `target/npm/enchufe-VERSION.tgz`.
//!
//! 1. wasm-pack builds wasm/ with the `wasm-release` profile (opt-level z, LTO, panic=abort)
//!    for its `web` target, into `web/` (also `enchufe/web`, for a plain
//!    `<script type="module">`).
//! 2. binaryen's `wasm-opt -Oz` from npm shrinks the module (never Debian's binaryen: its
//!    output breaks in the browser, see docs/TOOLCHAIN.md).
//! 3. The module's imports get the short names its loader gives them, and its imports and
//!    exports are checked against what the loader (wasm/js/enchufe.js) provides and calls
//!    (`imports.rs`). wasm-bindgen's own glue is not shipped.
//! 4. The entries around it ([`ENTRIES`]: browsers and bundlers, Node) and the package.json
//!    are written here — name `enchufe`, the workspace's version, the entries in `exports` —
//!    next to wasm/README.md, and `npm pack` makes the tarball.

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
    wasm_pack_build("web", &web)?;
    let web_in_package = package.join("web");
    fs::create_dir_all(&web_in_package).map_err(io(&web_in_package))?;
    // The module only: the API and its loader are the hand-written `enchufe.js` (wasm/js,
    // wasm/src/machine.rs), not wasm-bindgen's glue (imports.rs says why).
    let wasm = web_in_package.join("enchufe_bg.wasm");
    copy(&web.join("enchufe_bg.wasm"), &wasm)?;
    remove_dir(&web)?;
    for file in ["enchufe.js", "enchufe.d.ts"] {
        copy(&root().join("wasm/js").join(file), &web_in_package.join(file))?;
    }
    // Bound first: wasm-opt then removes what only the exports the loader does not call used.
    bind(&wasm)?;
    optimize(&wasm)?;
    let optimized = fs::read(&wasm).map_err(io(&wasm))?;
    crate::imports::check_no_table(&optimized)
        .map_err(|e| Failed(format!("{}: {e}", wasm.display())))?;
    for (file, text) in ENTRIES {
        let path = package.join(file);
        fs::write(&path, text).map_err(io(&path))?;
    }
    let dev = package.join("dev.js");
    let module = fs::read(&wasm).map_err(io(&wasm))?;
    fs::write(&dev, dev_entry(&module)).map_err(io(&dev))?;
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
    report_sizes(&web_in_package, &tarball);
    Ok(tarball)
}

/// The entry for development builds (the `development` condition: Vite's dev server, webpack's
/// development mode): the module inlined as base64. Vite 7's dev server pre-bundles
/// dependencies into `node_modules/.vite/deps/` with esbuild, which leaves
/// `new URL("…wasm", import.meta.url)` pointing where the module is not (the server answers
/// with its index.html); inlined, there is no URL to get wrong. Production builds take
/// `enchufe.js` and ship the module as its own file.
fn dev_entry(module: &[u8]) -> String {
    format!(
        "// The entry for development servers: the module inlined (see the package's README).\n\
         import init from \"./web/enchufe.js\";\n\
         const module = \"{}\";\n\
         init({{ module_or_path: Uint8Array.from(atob(module), (c) => c.charCodeAt(0)) }});\n\
         export * from \"./web/enchufe.js\";\n",
        base64(module)
    )
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(DIGITS[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// The package's entry points around the one `web` build (wasm/README.md, "Install").
/// wasm-pack's `bundler` target imports the `.wasm` as an ES module (the "ESM
/// integration" proposal), which Vite 7 cannot build, Vite 8's dev server mis-bundles and
/// webpack needs `experiments.asyncWebAssembly` for; the `web` target fetches
/// `new URL("enchufe_bg.wasm", import.meta.url)`, which every bundler turns into an asset. So
/// the browser entry is the web build, its instantiation started at import (no top-level
/// `await`, whose runtime webpack adds to every app: ~560 B gzipped), and Node (which
/// cannot `fetch` a `file:` URL) reads the same module from disk and instantiates it at once.
const ENTRIES: &[(&str, &str)] = &[
    (
        "enchufe.js",
        "// The entry for browsers and bundlers: the web build, its instantiation started at import\n\
         // (no top-level await: clients made before it is done wait for it). Bundlers emit the\n\
         // .wasm as an asset: the loader's default, `new URL(\"enchufe_bg.wasm\", import.meta.url)`.\n\
         import init from \"./web/enchufe.js\";\n\
         init();\n\
         export * from \"./web/enchufe.js\";\n",
    ),
    (
        "node.js",
        "// The entry for Node (and server-side rendering): the same module, read from disk.\n\
         import { readFileSync } from \"node:fs\";\n\
         import { initSync } from \"./web/enchufe.js\";\n\
         initSync({ module: readFileSync(new URL(\"./web/enchufe_bg.wasm\", import.meta.url)) });\n\
         export * from \"./web/enchufe.js\";\n",
    ),
    ("enchufe.d.ts", "export * from \"./web/enchufe.js\";\n"),
];

/// `wasm-pack build` of wasm/ for `target` into `out_dir`, with no wasm-opt (done after) and
/// no downloads.
fn wasm_pack_build(target: &str, out_dir: &Path) -> Result {
    let mut build =
        cmd("wasm-pack", &["build", "--mode", "no-install", "--no-opt", "--no-gitignore"]);
    build.args(["--target", target, "--profile", "wasm-release", "--out-name", "enchufe"]);
    build.arg("--out-dir").arg(out_dir).arg(root().join("wasm"));
    // No std in the module: the package's own panic handler (wasm/src/lib.rs).
    build.args(["--features", "panic-handler"]);
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
    // `--converge` repeats -Oz until it stops shrinking the module (~1 KB gzipped more).
    // `--low-memory-unused` lets it fold constant offsets into loads and stores (~300 B
    // gzipped): the first KB of memory is the bottom of the stack (rustc links wasm32 with the
    // stack first, growing down from 1 MB), reached only by a stack about to overflow.
    // The custom sections are for tools, not browsers: `producers`, and `target_features`
    // (~150 B, read by linkers).
    opt.current_dir(root()).args(["-Oz", "--converge", "--low-memory-unused"]);
    opt.args(["--strip-producers", "--strip-target-features"]).arg(wasm);
    opt.arg("-o").arg(wasm);
    step(opt)
}

/// Renames the module's imports for the loader, after checking its contract (`imports.rs`).
fn bind(wasm: &Path) -> Result {
    let module = fs::read(wasm).map_err(io(wasm))?;
    let bound =
        crate::imports::bind(&module).map_err(|e| Failed(format!("{}: {e}", wasm.display())))?;
    fs::write(wasm, bound).map_err(io(wasm))
}

/// The package's manifest. `exports` maps `enchufe` to the browser entry (the `node`
/// condition to Node's) and `enchufe/web` to the bare web build; `sideEffects` keeps bundlers
/// from dropping the modules that instantiate the wasm.
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
  "main": "node.js",
  "module": "enchufe.js",
  "browser": "enchufe.js",
  "types": "enchufe.d.ts",
  "exports": {{
    ".": {{
      "types": "./enchufe.d.ts",
      "node": "./node.js",
      "development": "./dev.js",
      "default": "./enchufe.js"
    }},
    "./web": {{ "types": "./web/enchufe.d.ts", "default": "./web/enchufe.js" }},
    "./package.json": "./package.json"
  }},
  "files": [
    "enchufe.js",
    "node.js",
    "dev.js",
    "enchufe.d.ts",
    "web/",
    "README.md"
  ],
  "engines": {{ "node": ">=20" }},
  "sideEffects": ["./enchufe.js", "./node.js", "./dev.js", "./web/enchufe.js"]
}}
"#
    )
}

/// Prints the module's and the JavaScript's sizes, raw and gzipped (what a browser downloads), and
/// the tarball's.
fn report_sizes(web: &Path, tarball: &Path) {
    let size = |path: &Path| fs::metadata(path).map(|m| m.len()).unwrap_or_default();
    for file in ["enchufe_bg.wasm", "enchufe.js"] {
        let path = web.join(file);
        eprintln!("web/{file}: {} bytes, {} bytes gzipped (-9)", size(&path), gzipped(&path));
    }
    eprintln!("{}: {} bytes", tarball.display(), size(tarball));
}

/// `path`'s size after `gzip -9`, as text ("?" when gzip fails).
pub(crate) fn gzipped(path: &Path) -> String {
    let mut gzip = Command::new("sh");
    gzip.arg("-c").arg("gzip -9 -c \"$0\" | wc -c").arg(path);
    output(gzip).unwrap_or_else(|| "?".into())
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

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads_like_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }
}
