// The web app's build: the browser client crate (../wasm) is compiled by wasm-pack through
// @wasm-tool/wasm-pack-plugin into ./pkg — the `enchufe` npm package — and the app imports it
// as `enchufe`, exactly as a user of the published package would.
//
//   npx webpack --mode production   → dist/ (what `enchufe serve --www www/dist` serves)
//
// wasm-pack runs with `--mode no-install`: it must not download wasm-bindgen, binaryen or
// chromedriver (see ../docs/TOOLCHAIN.md); `cargo xtask serve` and `cargo xtask test`
// install the tools first.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import HtmlWebpackPlugin from "html-webpack-plugin";
import MiniCssExtractPlugin from "mini-css-extract-plugin";
import WasmPackPlugin from "@wasm-tool/wasm-pack-plugin";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, "pkg");

/**
 * Shrinks the wasm-pack output with binaryen's wasm-opt from npm, once, right after the
 * wasm-pack plugin built it and before webpack reads it. (wasm-pack's own wasm-opt step is off
 * in wasm/Cargo.toml: Debian's binaryen breaks the module; see ../docs/TOOLCHAIN.md.)
 */
class WasmOptPlugin {
  apply(compiler) {
    let done = false;
    compiler.hooks.beforeCompile.tap("WasmOptPlugin", () => {
      const wasm = path.join(pkg, "enchufe_bg.wasm");
      if (done || !existsSync(wasm)) return;
      done = true;
      const wasmOpt = path.resolve(here, "node_modules/.bin/wasm-opt");
      execFileSync(wasmOpt, ["-Oz", "--converge", "--strip-producers", wasm, "-o", wasm], { stdio: "inherit" });
    });
  }
}

/**
 * Writes `NAME.br` and `NAME.gz` next to each text and wasm asset, compressed as hard as the
 * formats go, once at build time: the server sends them to browsers that accept them
 * (native/src/http/static_files.rs) and never compresses per request.
 */
class PrecompressPlugin {
  apply(compiler) {
    const { Compilation, sources } = compiler.webpack;
    compiler.hooks.thisCompilation.tap("PrecompressPlugin", (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: "PrecompressPlugin", stage: Compilation.PROCESS_ASSETS_STAGE_OPTIMIZE_TRANSFER },
        (assets) => {
          for (const name of Object.keys(assets)) {
            if (!/\.(js|css|html|wasm|svg|json)$/.test(name)) continue;
            const bytes = assets[name].buffer();
            const br = brotliCompressSync(bytes, {
              params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length },
            });
            compilation.emitAsset(`${name}.br`, new sources.RawSource(br));
            compilation.emitAsset(`${name}.gz`, new sources.RawSource(gzipSync(bytes, { level: 9 })));
          }
        },
      );
    });
  }
}

export default (_env, argv) => {
  const production = argv.mode !== "development";
  return {
    entry: path.resolve(here, "src/main.js"),
    output: {
      path: path.resolve(here, "dist"),
      // Hashed names: the server sends them with an immutable cache header; index.html is no-cache.
      filename: production ? "[name].[contenthash].js" : "[name].js",
      // A name part besides the hash: the server recognises `NAME.HASH.EXT` as immutable.
      webassemblyModuleFilename: production ? "enchufe.[hash].wasm" : "[id].wasm",
      clean: true,
    },
    resolve: {
      alias: { enchufe: pkg },
    },
    experiments: { asyncWebAssembly: true },
    module: {
      rules: [{ test: /\.css$/, use: [MiniCssExtractPlugin.loader, "css-loader"] }],
    },
    plugins: [
      new WasmPackPlugin({
        crateDirectory: path.resolve(here, "../wasm"),
        outDir: pkg,
        outName: "enchufe",
        // The workspace's size-optimised profile (opt-level z, LTO, no debug info); development
        // builds get the plugin's `--dev`.
        extraArgs: `--target bundler --mode no-install${production ? " --profile wasm-release" : ""}`,
        forceMode: production ? "production" : "development",
      }),
      ...(production ? [new WasmOptPlugin(), new PrecompressPlugin()] : []),
      new HtmlWebpackPlugin({ template: path.resolve(here, "src/index.html") }),
      new MiniCssExtractPlugin({
        filename: production ? "[name].[contenthash].css" : "[name].css",
      }),
    ],
    performance: { hints: false },
    devtool: production ? false : "source-map",
  };
};
