// The consumer app's bundle: what a user's webpack config needs for `enchufe` is one line,
// `experiments.asyncWebAssembly` (the package imports its .wasm as an ES module).

import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  entry: path.resolve(here, "src/index.js"),
  output: { path: path.resolve(here, "dist"), filename: "main.js", clean: true },
  experiments: { asyncWebAssembly: true },
  performance: { hints: false },
};
