// The webpack 5 build of the fixture app: nothing for `enchufe` (webpack 5 emits its .wasm as
// an asset, which the package instantiates itself). Production mode (minified), as the size
// test weighs it.

import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  mode: "production",
  entry: path.resolve(here, "app/main.js"),
  output: { path: path.resolve(here, "dist-webpack"), filename: "main.js", clean: true },
  performance: { hints: false },
};
