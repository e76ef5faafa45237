#!/usr/bin/env node
// The mhttpd command. It serves under the runtime that runs it, in this process:
//   npx mhttpd route.cfg                   Node
//   bunx --bun mhttpd route.cfg            Bun (plain `bunx` follows the #! line above: Node)
//   bun node_modules/.bin/mhttpd ...       Bun
//   deno run -A npm:mhttpd route.cfg       Deno
// `--runtime bun|deno|node` (or MHTTPD_RUNTIME) asks for another runtime than the one
// running this file: the command then runs itself under that one, as a child process.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const RUNTIMES = ["bun", "deno", "node"];
const running = typeof globalThis.Bun !== "undefined" ? "bun" : typeof globalThis.Deno !== "undefined" ? "deno" : "node";
const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), "..");
const args = running === "deno" ? [...globalThis.Deno.args] : process.argv.slice(2);

/** MHTTPD_RUNTIME, where the environment may be read (Deno asks for --allow-env) */
function envRuntime() {
  try {
    return process.env.MHTTPD_RUNTIME || undefined;
  } catch {
    return undefined;
  }
}

let wanted = envRuntime();
const at = args.findIndex((a) => a === "--runtime" || a.startsWith("--runtime="));
if (at >= 0) {
  wanted = args[at].includes("=") ? args[at].slice(args[at].indexOf("=") + 1) : args[at + 1];
  args.splice(at, args[at].includes("=") ? 1 : 2);
}
if (wanted !== undefined && !RUNTIMES.includes(wanted)) {
  console.error(`mhttpd: invalid runtime ${JSON.stringify(wanted)}: expected bun, deno or node`);
  process.exit(78);
}

if (wanted === undefined || wanted === running) {
  if (running === "node" && process.env.npm_lifecycle_event === "bunx") {
    console.error("mhttpd: bunx started this under Node, as the command's #!/usr/bin/env node line asks; `bunx --bun mhttpd` serves under Bun");
  }
  await (await adapter(running)).startMhttpd(args);
} else {
  runUnder(wanted);
}

/** The adapter of this runtime, as it can load it. */
async function adapter(runtime) {
  if (runtime === "bun") return import("../adapters/bun.ts");
  // Deno runs no TypeScript from an npm package: the package ships the adapter built as
  // JavaScript only, a clone has its source
  if (runtime === "deno") return import(existsSync(join(root, "adapters/deno.ts")) ? "../adapters/deno.ts" : "../dist/deno.mjs");
  // Node 20 runs no TypeScript: built by npm ci (prepare), npm run build or npm pack
  const built = join(root, "dist/node.mjs");
  if (!existsSync(built)) {
    console.error(`mhttpd: ${built} is missing: run npm ci (or npm run build) in ${root}`);
    process.exit(1);
  }
  return import("../dist/node.mjs");
}

/** The runtime's executable: this package's, the project's beside it, else on PATH. */
function executable(name) {
  for (const dir of [join(root, "node_modules/.bin"), join(root, "../.bin")]) if (existsSync(join(dir, name))) return join(dir, name);
  return name;
}

/** Run this command under `runtime` with the same arguments; its exit is ours. */
function runUnder(runtime) {
  const cmd = executable(runtime);
  // Deno: what mhttpd needs, and running deno itself for workers > 1
  const pre = runtime === "deno" ? ["run", "--allow-net", "--allow-read", "--allow-env", `--allow-run=${cmd === "deno" ? "deno" : cmd}`] : [];
  const child = spawn(cmd, [...pre, self, ...args], { stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("error", (e) => {
    console.error(`mhttpd: cannot start ${runtime} (${cmd}): ${e.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
