// What a production build ships, weighed as a browser downloads it: every .js and .wasm file
// under a directory, each gzipped (-9) on its own.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

/** `{ js, wasm, total }`: gzipped bytes of the JavaScript and wasm files under `dir`. */
export function weigh(dir) {
  const sizes = { js: 0, wasm: 0 };
  for (const entry of readdirSync(dir, { recursive: true })) {
    const kind = path.extname(entry).slice(1);
    if (kind === "js" || kind === "wasm") {
      sizes[kind] += gzipSync(readFileSync(path.join(dir, entry)), { level: 9 }).length;
    }
  }
  return { ...sizes, total: sizes.js + sizes.wasm };
}
