// The README's parameter table is generated from src/params.ts; it must not be stale.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { it } from "node:test";
import { ROOT } from "./_harness.ts";

it("README parameter table matches src/params.ts (npm run docs regenerates it)", () => {
  assert.doesNotThrow(() =>
    execFileSync(process.execPath, ["--import", "tsx", "scripts/gen-docs.ts", "--check"], { cwd: ROOT, stdio: "pipe" }),
  );
});
