#!/usr/bin/env node
// `mhttpd` command: runs the adapter of the chosen runtime with the given arguments.
//   mhttpd [--runtime bun|deno|node] [ROUTE_FILE] [options]   (or MHTTPD_RUNTIME=...)
// Bun and Deno come from this package's node_modules when installed there.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let runtime = process.env.MHTTPD_RUNTIME || "node";
const at = args.findIndex((a) => a === "--runtime" || a.startsWith("--runtime="));
if (at >= 0) {
  runtime = args[at].includes("=") ? args[at].split("=")[1] : args[at + 1];
  args.splice(at, args[at].includes("=") ? 1 : 2);
}
const local = (name) => (existsSync(join(root, "node_modules/.bin", name)) ? join(root, "node_modules/.bin", name) : name);
const commands = {
  bun: [local("bun"), join(root, "adapters/bun.ts")],
  deno: [local("deno"), "run", "--allow-net", "--allow-read", "--allow-env", join(root, "adapters/deno.ts")],
  // built by npm ci (prepare) or npm run build: Node 20 runs no TypeScript itself
  node: [process.execPath, join(root, "dist/node.mjs")],
};
if (!commands[runtime]) {
  console.error(`mhttpd: invalid runtime "${runtime}": expected bun, deno or node`);
  process.exit(1);
}
if (runtime === "node" && !existsSync(join(root, "dist/node.mjs"))) {
  console.error(`mhttpd: ${join(root, "dist/node.mjs")} is missing: run npm ci (or npm run build) in ${root}`);
  process.exit(1);
}
const [cmd, ...pre] = commands[runtime];
const child = spawn(cmd, [...pre, ...args], { stdio: "inherit", cwd: process.cwd() });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
