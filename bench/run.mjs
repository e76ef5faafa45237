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
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  ALL_RUNTIMES, ALL_VARIANTS, BENCH, BIN, CONTROL, ROOT, WORKLOADS,
  cpuSeconds, gitState, have, median, parseWrk, procStatus, startServer, wrk,
} from "./lib.mjs";

// ---------------------------------------------------------------- options
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

// ---------------------------------------------------------------- stats and report

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
