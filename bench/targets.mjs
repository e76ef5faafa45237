#!/usr/bin/env node
// The performance targets of issue 15, measured side by side: for every runtime
// and workload, mhttpd (TypeScript and .cfg routes), the bare runtime server,
// Hono on that runtime, and the anchors (on Node the @hono/node-server floor; on
// hello50 the C engine, libmicrohttpd as Kamailio's module starts it) all run at
// once and are loaded in interleaved turns (bench/lib.mjs interleaved()). Each
// target is a ratio of two servers' figures in the same turn, summarised as the
// geometric mean over turns with its 95 % interval, and judged as the issue says:
// met when the mean reaches the target and the interval's worse end is within
// 0.05 of it. Node servers are started 3 times and pooled (a Node process's
// speed is fixed when it starts). Plain Node ESM; needs Debian's wrk (and
// libmicrohttpd-dev for the C engine).
//
//   npm run bench                                   (= node bench/targets.mjs: everything, ~45 min)
//   node bench/targets.mjs [--runtimes bun,deno,node] [--workloads hello50,hello1,post50,headers50]
//                          [--slices 12] [--slice 2] [--settle 1] [--warmup 3] [--node-starts 3]
//                          [--no-docs] [--out bench/results]
//
// Writes bench/results/targets-latest.json (every turn of every server) and, unless
// --no-docs, puts the verdict table at the top of docs/benchmarks.md's
// "Targets, side by side" section (the previous tables stay below it).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ALL_RUNTIMES, BENCH, ROOT, WORKLOADS, gitState, have, interleaved, median, perTurnRatios, ratioInterval, stopStarted } from "./lib.mjs";

const o = { runtimes: ALL_RUNTIMES, workloads: Object.keys(WORKLOADS), slices: 12, slice: 2, settle: 1, warmup: 3, nodeStarts: 3, docs: true, out: path.join(BENCH, "results") };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const list = () => argv[++i].split(",").map((x) => x.trim()).filter(Boolean);
  const num = () => {
    const n = Number(argv[++i]);
    if (!(n > 0)) fail(`${a} wants a positive number, got ${argv[i]}`);
    return n;
  };
  if (a === "--runtimes") o.runtimes = list();
  else if (a === "--workloads") o.workloads = list();
  else if (a === "--slices") o.slices = Math.round(num());
  else if (a === "--slice") o.slice = num();
  else if (a === "--settle") o.settle = Number(argv[++i]) || 0;
  else if (a === "--warmup") o.warmup = num();
  else if (a === "--node-starts") o.nodeStarts = Math.round(num());
  else if (a === "--no-docs") o.docs = false;
  else if (a === "--out") o.out = path.resolve(argv[++i]);
  else fail(`unknown option ${a}`);
}
for (const r of o.runtimes) if (!ALL_RUNTIMES.includes(r)) fail(`unknown runtime ${r} (known: ${ALL_RUNTIMES})`);
for (const w of o.workloads) if (!WORKLOADS[w]) fail(`unknown workload ${w} (known: ${Object.keys(WORKLOADS)})`);
if (!have("wrk")) fail("wrk not found; install it with: apt-get install wrk");

function fail(msg) {
  console.error(`targets: ${msg}`);
  process.exit(2);
}

/** The servers of one runtime and workload; the first is the reference of the printed table. */
function serversFor(runtime, workload) {
  const s = (label, rt, variant) => ({ label, runtime: rt, variant });
  const list = [s("bare", runtime, "bare"), s("hono", runtime, "hono"), s("mhttpd", runtime, "mhttpd"), s("mhttpd-cfg", runtime, "mhttpd-cfg")];
  if (runtime === "node") list.splice(1, 0, s("floor", "node", "floor"));
  if (workload === "hello50" && have("cc")) list.push(s("c-mhd", "c", "mhd"));
  return list;
}

// ---------------------------------------------------------------- verdicts
/** higher is better: met when mean ≥ target and low ≥ target − 0.05 */
const atLeast = (i, target) => i.mean >= target && i.low >= target - 0.05;
/** lower is better: met when mean ≤ target and high ≤ target + 0.05 */
const atMost = (i, target) => i.mean <= target && i.high <= target + 0.05;
const fmt = (i) => `${i.mean.toFixed(2)} [${i.low.toFixed(2)}–${i.high.toFixed(2)}]`;

/** Every target of issue 15 that one runtime × workload measurement can judge. */
function judge(runtime, workload, byLabel) {
  const rows = [];
  const ratio = (a, b, key = "rps") => ratioInterval(perTurnRatios(byLabel[a], byLabel[b], key));
  const add = (what, i, met, target) => rows.push({ runtime, workload, what, value: fmt(i), target, met });
  for (const route of ["mhttpd", "mhttpd-cfg"]) {
    const name = route === "mhttpd" ? "TS route" : ".cfg route";
    if (runtime === "node") {
      const f = ratio(route, "floor");
      add(`${name} req/s × node-server floor`, f, atLeast(f, 0.95), "≥ 0.95");
      const b = ratio(route, "bare");
      add(`${name} req/s × bare node:http`, b, atLeast(b, 0.85), "≥ 0.85");
    } else {
      const b = ratio(route, "bare");
      add(`${name} req/s × bare ${runtime === "bun" ? "Bun.serve" : "Deno.serve"}`, b, atLeast(b, 0.95), "≥ 0.95");
    }
    const h = ratio(route, "hono");
    add(`${name} req/s × Hono`, h, atLeast(h, 1.0), "> 1 (≥ 1.0)");
    const p = ratio(route, "bare", "p99");
    add(`${name} p99 × bare`, p, atMost(p, 1.25), "≤ 1.25");
    const rss = (byLabel[route].hwmKiB - byLabel.bare.hwmKiB) / 1024;
    rows.push({ runtime, workload, what: `${name} peak RSS − bare (MiB)`, value: rss.toFixed(1), target: "≤ 15", met: rss <= 15 });
  }
  const c = ratio("mhttpd-cfg", "mhttpd");
  add(".cfg route req/s × TS route", c, atLeast(c, 0.95), "≥ 0.95 (within 5 %)");
  if (byLabel["c-mhd"]) {
    const m = ratio("mhttpd", "c-mhd");
    add("TS route req/s × libmicrohttpd (C)", m, atLeast(m, 0.95), "≥ 0.95 on the fastest runtime");
  }
  return rows;
}

/** The table of one measurement: every server's figures against bare. */
function figures(runtime, workload, servers) {
  const bare = servers.find((s) => s.label === "bare");
  const L = [`| ${runtime} ${workload} | median req/s | req/s × bare [95 %] | p99 ms (median) | peak RSS MiB | CPU µs/request |`, "| --- | ---: | --- | ---: | ---: | ---: |"];
  for (const s of servers) {
    const r = s === bare ? "1" : fmt(ratioInterval(perTurnRatios(s, bare, "rps")));
    const us = s.requests > 0 ? ((s.cpu / s.requests) * 1e6).toFixed(1) : "–";
    L.push(`| ${s.label} | ${Math.round(median(s.rps))} | ${r} | ${median(s.p99)?.toFixed(2) ?? "–"} | ${(s.hwmKiB / 1024).toFixed(1)} | ${us} |`);
  }
  return L.join("\n");
}

// ---------------------------------------------------------------- run
// mhttpd on Node runs its JavaScript build, as `npm run start:node` does
if (o.runtimes.includes("node") && spawnSync(process.execPath, [path.join(ROOT, "scripts/build-node.mjs")], { stdio: "inherit" }).status !== 0) fail("scripts/build-node.mjs failed");
process.on("SIGINT", () => void stopStarted().then(() => process.exit(130)));
const pin = (os.availableParallelism?.() ?? os.cpus().length) >= 2 && have("taskset");
const startedAt = new Date();
// the code measured is the code at the start (Node's dist/ was built just now; Bun
// and Deno read the sources as each server starts): not what HEAD is at the end
const git = gitState();
const load = [os.loadavg()[0]];
const results = [];
for (const workload of o.workloads) {
  for (const runtime of o.runtimes) {
    const servers = serversFor(runtime, workload);
    const starts = runtime === "node" ? o.nodeStarts : 1;
    console.error(`targets: ${runtime} ${workload}: ${servers.map((s) => s.label).join(", ")}; ${o.slices} turns, ${starts} start(s)`);
    await interleaved(servers, WORKLOADS[workload], { ...o, starts }, pin);
    load.push(os.loadavg()[0]);
    const byLabel = Object.fromEntries(servers.map((s) => [s.label, s]));
    const verdicts = judge(runtime, workload, byLabel);
    results.push({ runtime, workload, starts, servers: servers.map(({ server, ...s }) => s), verdicts });
    console.log(`\n${figures(runtime, workload, servers)}\n`);
    for (const v of verdicts) console.log(`${v.met ? "✅" : "❌"} ${runtime} ${workload}: ${v.what} = ${v.value} (target ${v.target})`);
  }
}

// the C engine target is for the fastest runtime: the one with the highest mhttpd hello50
const hello = results.filter((r) => r.workload === "hello50");
const fastest = hello.sort((a, b) => median(b.servers.find((s) => s.label === "mhttpd").rps) - median(a.servers.find((s) => s.label === "mhttpd").rps))[0]?.runtime;

const head = `### Targets, ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC (commit ${git.head}${git.dirty ? " + uncommitted changes" : ""}; ${o.slices} turns of ${o.settle} s + ${o.slice} s per server, Node servers started ${o.nodeStarts}× and pooled; load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)})`;
const verdictRows = results.flatMap((r) => r.verdicts).filter((v) => !v.what.includes("libmicrohttpd") || v.runtime === fastest);
const md = [
  head,
  "",
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "CPU"}, ${versions()}.`,
  "",
  "| runtime | workload | target | measured [95 %] | wanted | |",
  "| --- | --- | --- | --- | --- | --- |",
  ...verdictRows.map((v) => `| ${v.runtime} | ${v.workload} | ${v.what} | ${v.value} | ${v.target} | ${v.met ? "✅" : "❌"} |`),
  "",
  `Met: ${verdictRows.filter((v) => v.met).length} of ${verdictRows.length}. The C engine's target is judged on the fastest runtime here (${fastest ?? "none measured"}).`,
  "",
  "<details><summary>Every server's figures</summary>",
  "",
  ...results.map((r) => `${figures(r.runtime, r.workload, r.servers)}\n`),
  "</details>",
  "",
].join("\n");

mkdirSync(o.out, { recursive: true });
writeFileSync(path.join(o.out, "targets-latest.json"), `${JSON.stringify({ startedAt, git, options: o, load, results }, null, 1)}\n`);
console.log(`\n${md}`);
if (o.docs) {
  const doc = path.join(ROOT, "docs", "benchmarks.md");
  const MARK = "<!-- bench/targets.mjs writes here: the newest run first -->";
  const text = readFileSync(doc, "utf8");
  if (!text.includes(MARK)) fail(`${doc} has no "${MARK}" line to write under`);
  writeFileSync(doc, text.replace(MARK, `${MARK}\n\n${md}`));
  console.error(`targets: written to ${path.relative(ROOT, doc)}`);
}

function versions() {
  const v = (cmd, args) => {
    try {
      return (spawnSyncText(cmd, args).match(/\d+\.\d+\.\d+/) ?? ["?"])[0];
    } catch {
      return "?";
    }
  };
  return `Node ${process.versions.node}, Bun ${v(path.join(ROOT, "node_modules/.bin/bun"), ["--version"])}, Deno ${v(path.join(ROOT, "node_modules/.bin/deno"), ["--version"])}, wrk ${v("wrk", ["-v"])}`;
}
function spawnSyncText(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return `${r.stdout}${r.stderr}`;
}
