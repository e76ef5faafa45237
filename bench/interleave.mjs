#!/usr/bin/env node
// A/B (or A/B/C...) of servers measured side by side: every server runs at once,
// each pinned to CPU 0 (wrk on CPU 1), and wrk loads one at a time in short
// slices, round-robin, so two servers' slices are never more than a few seconds
// apart; each turn first loads the server for --settle seconds unmeasured, since
// a server left idle while the others had their turns starts slower (a runtime
// shrinks its heap and drops compiled code when idle: more so the more
// JavaScript a request runs). On a shared machine the speed of CPU 0 drifts by tens of per cent within
// a minute; bench/run.mjs measures each server for seconds and minutes apart,
// this measures the same drift for all of them. The first server is the
// reference: each slice's req/s is divided by the reference's slice of the same
// turn, and the ratio is given as the geometric mean over slices with its 95 %
// interval. Plain Node ESM, no dependency; needs Debian's wrk.
//
//   node bench/interleave.mjs [--workload hello50] [--slices 20] [--slice 2] [--settle 1] [--warmup 3]
//                             [--starts 1] [--target 0.95] [--json FILE] SERVER...
//
// --starts N: every server is started N times, the turns divided among the starts
// and pooled (a Node process's speed is fixed when it starts: one start is one
// draw). --target X: a verdict per server against the first: met when the
// geometric mean of its per-turn ratios reaches X and the lower end of the 95 %
// interval is within 0.05 of it; not met otherwise. The table also gives p99
// latency as a ratio to the first server's (per turn, pooled the same way) and
// each server's peak RSS. --json FILE keeps every turn of every server, for
// ratios between any two of them: node bench/pairs.mjs FILE A B.
//
// SERVER is runtime:variant (variants: bare, hono, mhttpd, mhttpd-cfg; and the
// anchors c:mhd, the C engine, and node:floor, @hono/node-server alone), then
// optionally mhttpd's own arguments, in one shell word:
//   node bench/interleave.mjs --workload hello50 deno:bare deno:hono deno:mhttpd "deno:mhttpd --max-header-size 64k"
// An mhttpd variant may name another source tree with @DIR (a checkout of another
// commit, with its node_modules and, for Node, its dist/ built): a before/after
// of a change, side by side:
//   node bench/interleave.mjs bun:bare bun:mhttpd@/tmp/before bun:mhttpd
import { writeFileSync } from "node:fs";
import os from "node:os";
import { ALL_RUNTIMES, ALL_VARIANTS, ANCHORS, WORKLOADS, have, interleaved, median, perTurnRatios, ratioInterval, stopStarted } from "./lib.mjs";

function usage(msg) {
  if (msg) console.error(`interleave: ${msg}`);
  console.error("usage: node bench/interleave.mjs [--workload hello50] [--slices 20] [--slice 2] [--settle 1] [--warmup 3] runtime:variant[ args] ...");
  process.exit(2);
}

const o = { workload: "hello50", slices: 20, slice: 2, settle: 1, warmup: 3, starts: 1, target: undefined, servers: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const num = () => {
    const n = Number(argv[++i]);
    if (!(n > 0)) usage(`${a} wants a positive number, got ${argv[i]}`);
    return n;
  };
  if (a === "--workload") o.workload = argv[++i];
  else if (a === "--slices") o.slices = num();
  else if (a === "--slice") o.slice = num();
  else if (a === "--warmup") o.warmup = num();
  else if (a === "--settle") o.settle = Number(argv[++i]) || 0;
  else if (a === "--starts") o.starts = Math.round(num());
  else if (a === "--target") o.target = num();
  else if (a === "--json") o.json = argv[++i];
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else {
    const [spec, ...extra] = a.trim().split(/\s+/);
    const [kind, root] = spec.split("@");
    const [runtime, variant] = kind.split(":");
    if (!ANCHORS.includes(kind) && (!ALL_RUNTIMES.includes(runtime) || !ALL_VARIANTS.includes(variant))) {
      usage(`${spec}: expected runtime:variant, runtime one of ${ALL_RUNTIMES}, variant one of ${ALL_VARIANTS}, or one of ${ANCHORS}`);
    }
    if ((extra.length > 0 || root) && !variant.startsWith("mhttpd")) usage(`${a}: only mhttpd takes arguments or another tree`);
    o.servers.push({ label: a.trim(), runtime, variant, extra, root });
  }
}
const wl = WORKLOADS[o.workload];
if (!wl) usage(`unknown workload ${o.workload} (known: ${Object.keys(WORKLOADS).join(", ")})`);
if (o.servers.length < 2) usage("name at least two servers; the first is the reference");
if (!have("wrk")) {
  console.error("interleave: wrk not found; install it with: apt-get install wrk");
  process.exit(1);
}
const pin = (os.availableParallelism?.() ?? os.cpus().length) >= 2 && have("taskset");

process.on("SIGINT", () => void stopStarted().then(() => process.exit(130)));
console.error(`interleave: ${o.workload}, ${o.slices} turns of ${o.settle} s settling + ${o.slice} s measured per server, ${o.servers.length} servers, ${o.starts} start(s) each${pin ? ", pinned" : ""}`);
await interleaved(o.servers, wl, o, pin);
// every turn of every server, for ratios between any two of them (bench/pairs.mjs)
if (o.json) writeFileSync(o.json, `${JSON.stringify({ workload: o.workload, options: o, servers: o.servers.map(({ server, ...s }) => s) }, null, 1)}\n`);

const ref = o.servers[0];
const show = (i) => (i ? `${i.mean.toFixed(2)} [${i.low.toFixed(2)}–${i.high.toFixed(2)}]` : "1");
const perTurn = (s, key) => perTurnRatios(s, ref, key);
const L = [];
L.push(`| server (${o.workload}) | median req/s | req/s × ${ref.label} [95 % interval] |${o.target ? ` ≥ ${o.target}? |` : ""} p99 × ${ref.label} | peak RSS MiB | CPU µs per request |`);
L.push(`| --- | ---: | --- |${o.target ? " --- |" : ""} --- | ---: | ---: |`);
for (const s of o.servers) {
  const i = s === ref ? null : ratioInterval(perTurn(s, "rps"));
  const p = s === ref ? null : ratioInterval(perTurn(s, "p99"));
  const verdict = !o.target ? "" : s === ref ? " |" : i.mean >= o.target && i.low >= o.target - 0.05 ? " ✅ met |" : " ❌ not met |";
  const us = s.requests > 0 ? (s.cpu / s.requests) * 1e6 : null;
  L.push(`| ${s.label} | ${Math.round(median(s.rps))} | ${show(i)} |${verdict} ${show(p)} | ${(s.hwmKiB / 1024).toFixed(1)} | ${us === null ? "–" : us.toFixed(1)} |`);
}
console.log(L.join("\n"));
