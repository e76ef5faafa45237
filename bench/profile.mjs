#!/usr/bin/env node
// CPU profiles of a server under wrk load, for "Where the time goes" in
// docs/benchmarks.md. Plain Node ESM, no dependency.
//
//   node bench/profile.mjs [--runtimes bun,deno,node] [--variants bare,mhttpd] [--workloads hello50]
//                          [--duration 8] [--top 25]
//
// Node and Bun: --cpu-prof (a .cpuprofile written at exit). Deno 2.9 has no
// --cpu-prof for `deno run`: it runs with --inspect and bench/cdp-profile.ts
// records the same kind of profile through the inspector while wrk runs.
// Profiles go to bench/profiles/ (gitignored); the summary is printed.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { summarize, formatSummary } from "./profile-summary.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = path.join(ROOT, "bench");
const BIN = path.join(ROOT, "node_modules", ".bin");
const OUT = path.join(BENCH, "profiles");

const o = { runtimes: ["bun", "deno", "node"], variants: ["bare", "mhttpd"], workloads: ["hello50"], duration: 8, top: 25 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = process.argv[++i];
  if (a === "--runtimes") o.runtimes = v.split(",");
  else if (a === "--variants") o.variants = v.split(",");
  else if (a === "--workloads") o.workloads = v.split(",");
  else if (a === "--duration") o.duration = Number(v);
  else if (a === "--top") o.top = Number(v);
  else {
    console.error(`unknown option ${a}`);
    process.exit(2);
  }
}
const WL = {
  hello50: { server: "hello", c: 50 },
  hello1: { server: "hello", c: 1 },
  post50: { server: "post", c: 50, script: "post.lua" },
  headers50: { server: "headers", c: 50, script: "headers.lua" },
};

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function command(runtime, variant, wl, port, dir, iport) {
  const file = variant === "bare" ? path.join(BENCH, "servers", `bare-${runtime}.${runtime === "node" ? "mjs" : "ts"}`)
    : variant === "floor" ? path.join(BENCH, "servers", "floor-node.mjs")
    : variant === "hono" ? path.join(BENCH, "servers", `hono-${runtime}.ts`)
    : path.join(ROOT, "adapters", `${runtime}.ts`);
  const args = variant.startsWith("mhttpd")
    ? [path.join(BENCH, "routes", `${wl.server}.${variant === "mhttpd-cfg" ? "cfg" : "ts"}`), "--listen-addr", "127.0.0.1", "--listen-port", String(port)]
    : [String(port), wl.server];
  // Node: mhttpd as it runs (dist/node.mjs, built below); Hono's server through tsx
  const tsx = variant === "hono" ? ["--import", "tsx"] : [];
  const nodeFile = variant.startsWith("mhttpd") ? path.join(ROOT, "dist", "node.mjs") : file;
  if (runtime === "node") return [process.execPath, "--cpu-prof", `--cpu-prof-dir=${dir}`, ...tsx, nodeFile, ...args];
  if (runtime === "bun") return [path.join(BIN, "bun"), "--cpu-prof", `--cpu-prof-dir=${dir}`, file, ...args];
  return [path.join(BIN, "deno"), "run", "--allow-net", "--allow-read", "--allow-env", `--inspect=127.0.0.1:${iport}`, file, ...args];
}

async function profile(runtime, variant, workload) {
  const wl = WL[workload];
  const dir = path.join(OUT, `${runtime}-${variant}-${workload}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const iport = await freePort(); // Deno's inspector
  const cmd = command(runtime, variant, wl, port, dir, iport);
  const proc = spawn("taskset", ["-c", "0", ...cmd], { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] });
  const exited = new Promise((r) => proc.on("exit", r));
  await new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`${runtime} ${variant}: no listening line`)), 30000);
    proc.stdout.on("data", (d) => {
      out += d;
      if (out.includes("listening on")) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const wrkArgs = ["-c", "1", "wrk", "-t1", `-c${wl.c}`, `-d${o.duration}s`, "--latency", ...(wl.script ? ["-s", path.join(BENCH, wl.script)] : []), `http://127.0.0.1:${port}/`];
  // Deno: the inspector client records while wrk runs (both on CPU 1)
  let cdp;
  if (runtime === "deno") {
    cdp = spawn("taskset", ["-c", "1", path.join(BIN, "deno"), "run", "-A", path.join(BENCH, "cdp-profile.ts"), String(iport), String(o.duration + 1), path.join(dir, "deno.cpuprofile")], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise((r) => cdp.stdout.once("data", r));
  }
  const w = spawnSync("taskset", wrkArgs, { encoding: "utf8" });
  if (cdp) await new Promise((r) => cdp.on("exit", r));
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(w.stdout)?.[1];
  const requests = Number(/(\d+) requests in/.exec(w.stdout)?.[1]) || undefined;
  proc.kill("SIGTERM"); // every server here exits normally on SIGTERM, which writes the profile
  const t = setTimeout(() => proc.kill("SIGKILL"), 15000);
  await exited;
  clearTimeout(t);
  // the main thread's profile (Node also writes one for tsx's loader thread: ...0.001 is the main one)
  const f = readdirSync(dir).filter((n) => n.endsWith(".cpuprofile")).sort()[0];
  if (!f) throw new Error(`${runtime} ${variant}: no .cpuprofile written in ${dir}`);
  // the last `duration` seconds before the exit: the load, not the start-up
  // (Deno's inspector profile covers exactly the wrk run, and a second of idle after it)
  const whole = runtime === "deno";
  const summary = summarize(JSON.parse(readFileSync(path.join(dir, f), "utf8")), o.top, whole ? Infinity : (o.duration - 0.5) * 1e6);
  console.log(`\n===== ${runtime} ${variant} ${workload}: ${rps} req/s under the profiler`);
  console.log(formatSummary(summary, requests && (whole ? requests : Math.round((requests * (o.duration - 0.5)) / o.duration))));
}

if (o.runtimes.includes("node") && spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-node.mjs")], { stdio: "inherit" }).status !== 0) process.exit(1);
for (const workload of o.workloads) for (const runtime of o.runtimes) for (const variant of o.variants) await profile(runtime, variant, workload);
