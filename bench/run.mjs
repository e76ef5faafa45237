#!/usr/bin/env node
// The benchmark of issue 7: mhttpd against the bare runtime server and Hono, on
// Bun, Deno and Node, with wrk. Plain Node ESM, no dependency beyond the repo's
// own runtimes (node_modules/.bin/{bun,deno}, tsx) and Debian's `wrk`.
//
//   node bench/run.mjs [--rounds 3] [--duration 10] [--warmup 3]
//                      [--runtimes bun,deno,node] [--workloads hello50,hello1,post50,headers50]
//                      [--variants bare,hono,mhttpd,mhttpd-cfg] [--control] [--quick] [--out bench/results]
//   node bench/run.mjs --report bench/results/latest.json   (re-print the table of a run)
//
// Each run starts a fresh server pinned to CPU 0 (wrk on CPU 1) with its stderr
// to /dev/null, warms it up with wrk, measures with `wrk -t1 -cN -dS --latency`,
// then reads the server's VmHWM (peak RSS) and stops it. Rounds interleave every
// runtime and variant, so each ratio compares servers measured minutes apart.
// --control adds "bare-again", the bare server started and measured a second time
// in each round: its ratio to bare is what the machine's noise alone does to a
// ratio, the yardstick for every other one (docs/benchmarks.md).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = path.join(ROOT, "bench");
const BIN = path.join(ROOT, "node_modules", ".bin");

// ---------------------------------------------------------------- options
const ALL_RUNTIMES = ["bun", "deno", "node"];
const WORKLOADS = {
  hello50: { server: "hello", connections: 50, script: null, what: "GET /, 50 keep-alive connections" },
  hello1: { server: "hello", connections: 1, script: null, what: "GET /, 1 connection (latency)" },
  post50: { server: "post", connections: 50, script: "post.lua", what: "POST 1 KiB body, route answers its length, 50 connections" },
  headers50: { server: "headers", connections: 50, script: "headers.lua", what: "GET, route reads 3 headers + client IP, 50 connections" },
};
const ALL_VARIANTS = ["bare", "hono", "mhttpd", "mhttpd-cfg"];
/** the same bare server again: the A/A control (--control) */
const CONTROL = "bare-again";

function parseArgs(argv) {
  const o = { rounds: 3, duration: 10, warmup: 3, runtimes: ALL_RUNTIMES, workloads: Object.keys(WORKLOADS), variants: ALL_VARIANTS, out: path.join(BENCH, "results"), quick: false };
  const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) [a, v] = [a.slice(0, eq), a.slice(eq + 1)];
    const val = () => v ?? argv[++i];
    switch (a) {
      case "--rounds": o.rounds = Number(val()); break;
      case "--duration": o.duration = Number(val()); break;
      case "--warmup": o.warmup = Number(val()); break;
      case "--runtimes": o.runtimes = list(val()); break;
      case "--workloads": o.workloads = list(val()); break;
      case "--variants": o.variants = list(val()); break;
      case "--out": o.out = path.resolve(val()); break;
      case "--quick": o.quick = true; break;
      case "--control": o.control = true; break;
      case "--report": o.report = path.resolve(val()); break;
      case "-h": case "--help":
        {
          const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1);
          console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith("//"))).map((l) => l.replace(/^\/\/ ?/, "")).join("\n"));
        }
        process.exit(0);
      default:
        console.error(`unknown option ${a} (see --help)`);
        process.exit(2);
    }
  }
  if (o.quick) {
    o.rounds = Math.min(o.rounds, 1);
    o.duration = Math.min(o.duration, 2);
    o.warmup = Math.min(o.warmup, 1);
  }
  for (const r of o.runtimes) if (!ALL_RUNTIMES.includes(r)) die(`unknown runtime ${r}`);
  for (const w of o.workloads) if (!WORKLOADS[w]) die(`unknown workload ${w} (known: ${Object.keys(WORKLOADS).join(", ")})`);
  for (const v of o.variants) if (!ALL_VARIANTS.includes(v) && v !== CONTROL) die(`unknown variant ${v}`);
  if (!o.variants.includes("bare")) o.variants = ["bare", ...o.variants]; // ratios need it
  if (o.control && !o.variants.includes(CONTROL)) o.variants.splice(o.variants.indexOf("bare") + 1, 0, CONTROL);
  if (!(o.rounds >= 1 && o.duration >= 1 && o.warmup >= 0)) die("bad --rounds / --duration / --warmup");
  return o;
}

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}

/** the commit measured, and whether the working tree differed from it (others edit src/ meanwhile) */
function gitState() {
  const git = (...a) => spawnSync("git", a, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  return { head: git("rev-parse", "--short", "HEAD"), dirty: git("status", "--porcelain", "--", "src", "adapters") !== "" };
}

function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

// ---------------------------------------------------------------- servers
/** The command that starts a server; it prints "... listening on http://..." when ready. */
function serverCommand(runtime, variant, workload, port) {
  const srv = (f) => path.join(BENCH, "servers", f);
  const route = (ext) => path.join(BENCH, "routes", `${workload}.${ext}`);
  const listen = ["--listen-addr", "127.0.0.1", "--listen-port", String(port)];
  const deno = [path.join(BIN, "deno"), "run", "--allow-net", "--allow-read", "--allow-env"];
  const bun = [path.join(BIN, "bun")];
  const node = [process.execPath];
  const tsx = [process.execPath, "--import", "tsx"];
  const mhttpd = (ext) =>
    runtime === "bun" ? [...bun, path.join(ROOT, "adapters/bun.ts"), route(ext), ...listen]
    : runtime === "deno" ? [...deno, path.join(ROOT, "adapters/deno.ts"), route(ext), ...listen]
    : [...node, path.join(ROOT, "dist/node.mjs"), route(ext), ...listen]; // built at start (scripts/build-node.mjs)
  switch (variant) {
    case "bare":
    case CONTROL:
      return runtime === "bun" ? [...bun, srv("bare-bun.ts"), String(port), workload]
        : runtime === "deno" ? [...deno, srv("bare-deno.ts"), String(port), workload]
        : [...node, srv("bare-node.mjs"), String(port), workload];
    case "hono":
      return runtime === "bun" ? [...bun, srv("hono-bun.ts"), String(port), workload]
        : runtime === "deno" ? [...deno, srv("hono-deno.ts"), String(port), workload]
        : [...tsx, srv("hono-node.ts"), String(port), workload];
    case "mhttpd":
      return mhttpd("ts");
    case "mhttpd-cfg":
      return mhttpd("cfg");
  }
  throw new Error(variant);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Start a server pinned to CPU 0; resolves once it printed its listening line. */
async function startServer(runtime, variant, workload, pin, timeoutMs = 30000, keepStderr = false) {
  const port = await freePort();
  const cmd = serverCommand(runtime, variant, workload, port);
  const argv = pin ? ["taskset", "-c", "0", ...cmd] : cmd;
  // stderr to /dev/null, as the C module's figures were taken
  const proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", keepStderr ? "pipe" : "ignore"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  proc.stderr?.on("data", (d) => (out += d));
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  const ready = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    proc.stdout.on("data", (d) => {
      out += d;
      if (/listening on http:\/\//.test(out)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    }
  };
  if (!ready) {
    await stop();
    return { ok: false, cmd, out };
  }
  return { ok: true, cmd, port, pid: proc.pid, stop };
}

function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s) ?? [])[1]) || null;
    return { hwmKiB: kb("VmHWM"), rssKiB: kb("VmRSS") };
  } catch {
    return { hwmKiB: null, rssKiB: null };
  }
}

/** CPU seconds (user + system, all threads) the process has used so far */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime
  } catch {
    return null;
  }
}
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

// ---------------------------------------------------------------- wrk
function wrk(port, wl, seconds, pin) {
  const args = ["-t1", `-c${wl.connections}`, `-d${seconds}s`, "--latency"];
  if (wl.script) args.push("-s", path.join(BENCH, wl.script));
  args.push(`http://127.0.0.1:${port}/`);
  const argv = pin ? ["taskset", "-c", "1", "wrk", ...args] : ["wrk", ...args];
  return new Promise((resolve) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("exit", () => resolve({ argv: argv.join(" "), out }));
  });
}

const UNIT = { us: 1e-3, ms: 1, s: 1000, m: 60000 };
function toMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  return m ? Number(m[1]) * UNIT[m[2]] : null;
}

export function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out);
    return m ? toMs(m[1]) : null;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50ms: pct(50),
    p99ms: pct(99),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) ?? 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

// ---------------------------------------------------------------- stats and report
const median = (xs) => {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

const C_MODULE = { hello50Rps: 77661, hello50P50ms: 0.595, hello50P99ms: 1.27, hello1Rps: 33447, hello1P50ms: 0.028, hello1P99ms: 1.88, peakRssKiB: 6380 };
const TARGETS = { rpsRatio: 0.9, p99Ratio: 1.25, rssDeltaMiB: 15, vsHono: 1.0, fastestVsC: 1.2 };

function summarize(runs, opts) {
  const rows = [];
  for (const workload of opts.workloads) {
    for (const runtime of opts.runtimes) {
      for (const variant of opts.variants) {
        const mine = runs.filter((r) => r.workload === workload && r.runtime === runtime && r.variant === variant && r.ok);
        if (mine.length === 0) continue;
        const ratios = { rps: [], p50: [], p99: [], rssDeltaMiB: [], vsHono: [], eff: [] };
        for (const r of mine) {
          const same = (v) => runs.find((b) => b.round === r.round && b.workload === workload && b.runtime === runtime && b.variant === v && b.ok);
          const bare = same("bare");
          const hono = same("hono");
          if (bare) {
            ratios.rps.push(r.rps / bare.rps);
            ratios.p50.push(r.p50ms / bare.p50ms);
            ratios.p99.push(r.p99ms / bare.p99ms);
            if (r.hwmKiB && bare.hwmKiB) ratios.rssDeltaMiB.push((r.hwmKiB - bare.hwmKiB) / 1024);
            if (r.reqPerCpuSec && bare.reqPerCpuSec) ratios.eff.push(r.reqPerCpuSec / bare.reqPerCpuSec);
          }
          if (hono) ratios.vsHono.push(r.rps / hono.rps);
        }
        const row = {
          workload, runtime, variant, rounds: mine.length,
          rps: median(mine.map((r) => r.rps)),
          p50ms: median(mine.map((r) => r.p50ms)),
          p99ms: median(mine.map((r) => r.p99ms)),
          peakRssMiB: median(mine.map((r) => r.hwmKiB / 1024)),
          errors: mine.reduce((a, r) => a + r.non2xx + r.socketErrors, 0),
          rpsRatio: median(ratios.rps),
          p50Ratio: median(ratios.p50),
          p99Ratio: median(ratios.p99),
          rssDeltaMiB: median(ratios.rssDeltaMiB),
          reqPerCpuSec: median(mine.map((r) => r.reqPerCpuSec)),
          effRatio: median(ratios.eff),
          loadavg1: median(mine.map((r) => r.loadavg1)),
          vsHono: variant === "hono" || variant === "bare" || variant === CONTROL ? null : median(ratios.vsHono),
          // each round's ratio to bare, for the spread (JSON only)
          rpsRatios: ratios.rps.map((x) => Math.round(x * 1000) / 1000),
        };
        if (variant.startsWith("mhttpd")) {
          row.pass = {
            rps: row.rpsRatio !== null ? row.rpsRatio >= TARGETS.rpsRatio : null,
            p99: row.p99Ratio !== null ? row.p99Ratio <= TARGETS.p99Ratio : null,
            rss: row.rssDeltaMiB !== null ? row.rssDeltaMiB <= TARGETS.rssDeltaMiB : null,
            vsHono: row.vsHono !== null ? row.vsHono > TARGETS.vsHono : null,
          };
        }
        rows.push(row);
      }
    }
  }
  // the fastest runtime's mhttpd (TypeScript route) on hello50 against 1.2 x the C module
  const hello = rows.filter((r) => r.workload === "hello50" && r.variant === "mhttpd");
  const best = hello.sort((a, b) => b.rps - a.rps)[0];
  const vsC = best ? { runtime: best.runtime, rps: best.rps, ratio: best.rps / C_MODULE.hello50Rps, pass: best.rps >= TARGETS.fastestVsC * C_MODULE.hello50Rps } : null;
  // the A/A control: how far the same server's ratio to itself strays, per cell and per round
  const control = rows.filter((r) => r.variant === CONTROL && r.rpsRatio !== null);
  const noise = control.length === 0 ? null : {
    cells: control.length,
    medianRatios: control.map((r) => r.rpsRatio),
    roundRatios: control.flatMap((r) => r.rpsRatios),
    medianDeviation: median(control.map((r) => Math.abs(1 - r.rpsRatio))),
    worstMedian: Math.max(...control.map((r) => Math.abs(1 - r.rpsRatio))),
  };
  return { rows, vsC, noise };
}

const f = {
  k: (x) => (x == null ? "–" : `${(x / 1000).toFixed(1)} k`),
  r: (x) => (x == null ? "–" : x.toFixed(2)),
  ms: (x) => (x == null ? "–" : x < 1 ? `${Math.round(x * 1000)} µs` : `${x.toFixed(2)} ms`),
  mib: (x) => (x == null ? "–" : x.toFixed(1)),
  d: (x) => (x == null ? "–" : `${x >= 0 ? "+" : ""}${x.toFixed(1)}`),
  ok: (b) => (b == null ? "" : b ? " ✅" : " ❌"),
};

function markdown(summary, meta) {
  const L = [];
  L.push(`Run ${meta.date} at commit ${meta.commit?.head ?? "?"}${meta.commit?.dirty ? " (src/ or adapters/ modified in the working tree)" : ""}: ${meta.opts.rounds} rounds × ${meta.opts.duration} s per run (warm-up ${meta.opts.warmup} s), ` +
    `wrk -t1, server ${meta.pinned ? "pinned to CPU 0, wrk to CPU 1" : "not pinned"}; server stderr to /dev/null. ` +
    `Load average before the runs: ${meta.loadBefore.map((x) => x.toFixed(2)).join(", ")}; after: ${meta.loadAfter.map((x) => x.toFixed(2)).join(", ")}.`);
  L.push("");
  L.push("Medians over rounds. Ratios are taken per round against the bare server of the same runtime (and Hono for \"vs Hono\"), then the median. " +
    `Targets: rps ≥ ${TARGETS.rpsRatio} × bare, p99 ≤ ${TARGETS.p99Ratio} × bare, peak RSS ≤ bare + ${TARGETS.rssDeltaMiB} MiB, rps > Hono. ` +
    "\"req/CPU-s × bare\" is requests per CPU-second of the server process against bare's: it shows the cost per request even when other load on the machine took CPU time from the server.");
  L.push("");
  L.push("| workload | runtime | server | req/s | × bare | p50 | p99 | p99 × bare | peak RSS MiB | Δ RSS vs bare | × Hono | req/CPU-s × bare | errors |");
  L.push("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of summary.rows) {
    const p = r.pass ?? {};
    const bare = r.variant === "bare";
    L.push(`| ${r.workload} | ${r.runtime} | ${r.variant} | ${f.k(r.rps)} | ${bare ? "1" : f.r(r.rpsRatio) + f.ok(p.rps)} | ${f.ms(r.p50ms)} | ${f.ms(r.p99ms)} | ` +
      `${bare ? "1" : f.r(r.p99Ratio) + f.ok(p.p99)} | ${f.mib(r.peakRssMiB)} | ${bare ? "" : f.d(r.rssDeltaMiB) + f.ok(p.rss)} | ${r.vsHono == null ? "" : f.r(r.vsHono) + f.ok(p.vsHono)} | ${bare ? (r.reqPerCpuSec ? "1" : "–") : f.r(r.effRatio)} | ${r.errors} |`);
  }
  L.push("");
  if (summary.noise) {
    const n = summary.noise;
    const rr = n.roundRatios;
    L.push(`Noise floor (${CONTROL}: the bare server started and measured again in each round, its req/s ÷ bare's): median over rounds ` +
      `${f.r(Math.min(...n.medianRatios))}–${f.r(Math.max(...n.medianRatios))} across the ${n.cells} cells (typically ${(n.medianDeviation * 100).toFixed(0)} % from 1, ` +
      `at worst ${(n.worstMedian * 100).toFixed(0)} %); single rounds ${f.r(Math.min(...rr))}–${f.r(Math.max(...rr))}. ` +
      "A ratio of mhttpd within that band of a target is not told apart from it by this run.");
    L.push("");
  }
  if (summary.vsC) {
    L.push(`Fastest runtime for mhttpd hello50: **${summary.vsC.runtime}**, ${f.k(summary.vsC.rps)} = ${f.r(summary.vsC.ratio)} × the C module's 77.7 k ` +
      `(target ≥ ${TARGETS.fastestVsC} × = ${f.k(TARGETS.fastestVsC * C_MODULE.hello50Rps)})${f.ok(summary.vsC.pass)}.`);
  }
  if (meta.notes.length) {
    L.push("");
    for (const n of meta.notes) L.push(`- ${n}`);
  }
  return L.join("\n") + "\n";
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.report) {
    // re-render the summary and table of an earlier run's JSON
    const prev = JSON.parse(readFileSync(opts.report, "utf8"));
    const o = prev.meta.opts;
    const variants = [...new Set(prev.runs.map((r) => r.variant))];
    const summary = summarize(prev.runs, { ...o, variants: ["bare", CONTROL, ...ALL_VARIANTS.slice(1)].filter((v) => variants.includes(v)) });
    process.stdout.write(markdown(summary, prev.meta));
    return;
  }
  if (!have("wrk")) {
    console.error("bench: wrk not found; install it with: apt-get install wrk");
    process.exit(1);
  }
  // mhttpd on Node runs its JavaScript build, as `npm run start:node` does
  if (opts.runtimes.includes("node") && spawnSync(process.execPath, [path.join(ROOT, "scripts/build-node.mjs")], { stdio: "inherit" }).status !== 0) {
    console.error("bench: scripts/build-node.mjs failed");
    process.exit(1);
  }
  const ncpu = os.availableParallelism?.() ?? os.cpus().length;
  const pinned = ncpu >= 2 && have("taskset");
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const rawDir = path.join(opts.out, "raw", stamp);
  mkdirSync(rawDir, { recursive: true });
  const notes = [];
  const log = (s) => console.log(s);
  if (!pinned) notes.push(`not pinned: ${ncpu} CPU(s)${have("taskset") ? "" : ", no taskset"}; server and wrk share the CPU`);

  // which variants start at all (the .cfg route needs src/cfg and a working loader)
  let variants = [...opts.variants];
  if (variants.includes("mhttpd-cfg")) {
    const why = !existsSync(path.join(ROOT, "src", "cfg")) ? "src/cfg/ does not exist" : null;
    let failed = why;
    if (!failed) {
      const s = await startServer(opts.runtimes[0], "mhttpd-cfg", "hello", pinned, 20000, true);
      if (s.ok) await s.stop();
      else failed = `the .cfg route did not start on ${opts.runtimes[0]} (${s.out.trim().split("\n").pop() || "no listening line"})`;
    }
    if (failed) {
      variants = variants.filter((v) => v !== "mhttpd-cfg");
      notes.push(`mhttpd-cfg skipped: ${failed}`);
      log(`note: mhttpd-cfg skipped: ${failed}`);
    }
  }

  const versions = {
    node: process.version,
    bun: spawnSync(path.join(BIN, "bun"), ["--version"], { encoding: "utf8" }).stdout?.trim(),
    deno: spawnSync(path.join(BIN, "deno"), ["--version"], { encoding: "utf8" }).stdout?.split("\n")[0].trim(),
    wrk: (spawnSync("wrk", ["-v"], { encoding: "utf8" }).stdout || "").split("\n")[0].trim(),
  };
  const cpuModel = (/^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8")) ?? [])[1] ?? os.cpus()[0]?.model;
  const loadBefore = os.loadavg();
  log(`bench: ${ncpu} CPUs (${cpuModel}), ${pinned ? "pinned" : "unpinned"}; load ${loadBefore.map((x) => x.toFixed(2)).join(" ")}`);
  log(`bench: ${opts.rounds} rounds × ${opts.duration} s, warm-up ${opts.warmup} s; runtimes ${opts.runtimes}; workloads ${opts.workloads}; variants ${variants}`);

  const runs = [];
  const total = opts.rounds * opts.workloads.length * opts.runtimes.length * variants.length;
  let n = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    for (const workload of opts.workloads) {
      const wl = WORKLOADS[workload];
      for (const runtime of opts.runtimes) {
        // rotate the order of the servers each round so drift does not favour one
        const order = variants.map((_, i) => variants[(i + round - 1) % variants.length]);
        for (const variant of order) {
          n++;
          const run = { round, workload, runtime, variant, ok: false, loadavg1: os.loadavg()[0] };
          const s = await startServer(runtime, variant, wl.server, pinned);
          if (!s.ok) {
            run.error = `did not start: ${s.out.trim().slice(-300)}`;
            log(`[${n}/${total}] r${round} ${workload} ${runtime} ${variant}: FAILED to start`);
            runs.push(run);
            continue;
          }
          if (opts.warmup > 0) await wrk(s.port, wl, opts.warmup, pinned);
          const cpu0 = cpuSeconds(s.pid);
          const w = await wrk(s.port, wl, opts.duration, pinned);
          const cpu1 = cpuSeconds(s.pid);
          Object.assign(run, parseWrk(w.out), procStatus(s.pid));
          // requests per CPU-second of the server: less sensitive than req/s to other load on the machine
          run.serverCpuSec = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
          run.reqPerCpuSec = run.serverCpuSec > 0 && run.requests ? run.requests / run.serverCpuSec : null;
          await s.stop();
          run.ok = run.rps !== null && run.p99ms !== null;
          if (!run.ok) run.error = "could not parse wrk output";
          const file = `r${round}-${workload}-${runtime}-${variant}.txt`;
          writeFileSync(path.join(rawDir, file), `# ${s.cmd.join(" ")}\n# ${w.argv}\n# loadavg ${os.loadavg().join(" ")}\n${w.out}\nVmHWM: ${run.hwmKiB} kB\n`);
          log(`[${n}/${total}] r${round} ${workload} ${runtime} ${variant}: ${f.k(run.rps)} req/s, p50 ${f.ms(run.p50ms)}, p99 ${f.ms(run.p99ms)}, ` +
            `peak RSS ${f.mib(run.hwmKiB / 1024)} MiB, server CPU ${run.serverCpuSec?.toFixed(1)} s, load ${run.loadavg1.toFixed(1)}${run.non2xx || run.socketErrors ? `, ${run.non2xx} non-2xx, ${run.socketErrors} socket errors` : ""}`);
          runs.push(run);
        }
      }
    }
  }

  const summary = summarize(runs, { ...opts, variants });
  const meta = {
    date: new Date().toISOString(), opts, pinned, ncpu, cpuModel, versions, loadBefore, loadAfter: os.loadavg(), notes,
    kernel: os.release(), commit: gitState(), targets: TARGETS, cModule: C_MODULE, workloads: WORKLOADS,
  };
  const md = markdown(summary, meta);
  writeFileSync(path.join(opts.out, `${opts.quick ? "quick" : "latest"}.json`), JSON.stringify({ meta, summary, runs }, null, 1) + "\n");
  writeFileSync(path.join(opts.out, `${opts.quick ? "quick" : "latest"}.md`), md);
  log("");
  log(md);
  const name = opts.quick ? "quick" : "latest";
  log(`bench: wrote ${path.relative(ROOT, path.join(opts.out, `${name}.json`))} and ${name}.md; raw wrk outputs in ${path.relative(ROOT, rawDir)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
