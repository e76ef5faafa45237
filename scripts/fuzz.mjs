#!/usr/bin/env node
// npm run fuzz -- [--runs N] [--runtime bun|deno|node] [--seed N] [--path P] [--survey]
// The long version of the fuzz suite (test/fuzz.test.ts): N generated connections per
// runtime (100000 for the documented runs), with progress every 1000. --seed replays a
// run, --path with it the failing case fast-check reported; --survey goes on after a
// failure and lists every kind of problem found instead of stopping at the first.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNTIMES = ["bun", "deno", "node"];
const usage = "usage: npm run fuzz -- [--runs N] [--runtime bun|deno|node] [--seed N] [--path P] [--survey]";

function fail(message) {
  console.error(`fuzz: ${message}\n${usage}`);
  process.exit(2);
}

const env = { ...process.env, MHTTPD_FUZZ_PROGRESS: "1" };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  if (flag === "--survey") {
    env.MHTTPD_FUZZ_SURVEY = "1";
    continue;
  }
  const value = args[++i];
  if (value === undefined) fail(`${flag} needs a value`);
  switch (flag) {
    case "--runs":
      if (!/^[1-9][0-9]*$/.test(value)) fail(`invalid --runs "${value}": expected a positive integer (connections per runtime)`);
      env.MHTTPD_FUZZ_RUNS = value;
      break;
    case "--runtime":
      for (const r of value.split(",")) if (!RUNTIMES.includes(r)) fail(`invalid --runtime "${value}": expected ${RUNTIMES.join(", ")} (or a comma-separated list)`);
      env.MHTTPD_TEST_RUNTIMES = value;
      break;
    case "--seed":
      if (!/^-?[0-9]+$/.test(value)) fail(`invalid --seed "${value}": expected an integer, as printed by a run`);
      env.MHTTPD_FUZZ_SEED = value;
      break;
    case "--path":
      if (!/^[0-9]+(:[0-9]+)*$/.test(value)) fail(`invalid --path "${value}": expected the path fast-check printed (digits and colons)`);
      env.MHTTPD_FUZZ_PATH = value;
      break;
    default:
      fail(`unknown argument "${flag}"`);
  }
}

const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-timeout=0", path.join(root, "test", "fuzz.test.ts")], {
  cwd: root,
  env,
  stdio: "inherit",
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
