// The web app's build: the app imports `enchufe`, the npm package as `cargo xtask pack`
// assembles it (../target/npm/enchufe: the wasm module and the package's JavaScript API), exactly
// as a user of the published package would; webpack emits the module as an asset.
//
//   cargo xtask pack && npx webpack --mode production   → dist/ (what `enchufe serve --www
//   www/dist` serves; `cargo xtask serve` and `cargo xtask test` do both)

import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import HtmlWebpackPlugin from "html-webpack-plugin";
import MiniCssExtractPlugin from "mini-css-extract-plugin";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, "../target/npm/enchufe");

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
      assetModuleFilename: production ? "[name].[contenthash][ext]" : "[name][ext]",
      clean: true,
    },
    resolve: {
      alias: { enchufe: pkg },
    },
    module: {
      rules: [{ test: /\.css$/, use: [MiniCssExtractPlugin.loader, "css-loader"] }],
    },
    plugins: [
      ...(production ? [new PrecompressPlugin()] : []),
      new HtmlWebpackPlugin({ template: path.resolve(here, "src/index.html") }),
      new MiniCssExtractPlugin({
        filename: production ? "[name].[contenthash].css" : "[name].css",
      }),
    ],
    performance: { hints: false },
    devtool: production ? false : "source-map",
  };
};
