// The consumer app's bundle: a webpack 5 config with nothing for `enchufe` (the package's
// entry instantiates its .wasm itself, started at import, and webpack emits the .wasm as an
// asset).

import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  entry: path.resolve(here, "src/index.js"),
  output: { path: path.resolve(here, "dist"), filename: "main.js", clean: true },
  performance: { hints: false },
};
