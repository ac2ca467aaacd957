// The package's TypeScript declarations, as a TypeScript user's compiler sees them: types.ts
// must compile under `strict` (and its deliberate mistakes must be reported).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

test("the .d.ts types a user's code precisely", () => {
  const tsc = spawnSync(process.execPath, [path.join(app, "node_modules/typescript/bin/tsc"), "-p", app], {
    encoding: "utf8",
  });
  assert.equal(tsc.status, 0, `tsc found errors:\n${tsc.stdout}${tsc.stderr}`);
});
