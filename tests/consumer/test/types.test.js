// The package's TypeScript declarations, as a TypeScript user's compiler sees them: types.ts
// must compile under `strict` (and its deliberate mistakes must be reported).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function tsc(project) {
  const run = spawnSync(
    process.execPath,
    [path.join(app, "node_modules/typescript/bin/tsc"), "-p", path.join(app, project)],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, `tsc found errors:\n${run.stdout}${run.stderr}`);
}

test("the .d.ts types a user's code precisely", () => tsc("tsconfig.json"));

test("the .d.ts compiles without esnext.disposable in lib and without skipLibCheck", () =>
  tsc("tsconfig.nolib.json"));
