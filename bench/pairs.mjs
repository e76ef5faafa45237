#!/usr/bin/env node
// Ratios between any two servers of one or more bench/interleave.mjs --json runs
// (the same servers in each): per-turn ratios of A to B, pooled over the files,
// as a geometric mean with its 95 % interval; req/s, p99 and CPU per request.
// A before/after of a change: node bench/pairs.mjs run.json "bun:mhttpd" "bun:mhttpd@/tmp/before"
//
//   node bench/pairs.mjs FILE... A B
import { readFileSync } from "node:fs";
import { perTurnRatios, ratioInterval } from "./lib.mjs";

const args = process.argv.slice(2);
if (args.length < 3) {
  console.error("usage: node bench/pairs.mjs FILE... A B   (A and B: server labels as interleave.mjs printed them)");
  process.exit(2);
}
const [a, b] = args.slice(-2);
const runs = args.slice(0, -2).map((f) => JSON.parse(readFileSync(f, "utf8")));
const find = (run, label, file) => {
  const s = run.servers.find((x) => x.label === label);
  if (!s) throw new Error(`${file}: no server "${label}" (has: ${run.servers.map((x) => x.label).join(", ")})`);
  return s;
};
const ratios = { rps: [], p99: [] };
let cpuA = 0, reqA = 0, cpuB = 0, reqB = 0;
runs.forEach((run, i) => {
  const [sa, sb] = [find(run, a, args[i]), find(run, b, args[i])];
  for (const key of ["rps", "p99"]) ratios[key].push(...perTurnRatios(sa, sb, key));
  [cpuA, reqA, cpuB, reqB] = [cpuA + sa.cpu, reqA + sa.requests, cpuB + sb.cpu, reqB + sb.requests];
});
const fmt = (i) => `${i.mean.toFixed(3)} [${i.low.toFixed(3)}–${i.high.toFixed(3)}] (${i.n} turns)`;
console.log(`${a} ÷ ${b} (${runs.map((r) => r.workload).join(", ")})`);
console.log(`  req/s: ${fmt(ratioInterval(ratios.rps))}`);
console.log(`  p99:   ${fmt(ratioInterval(ratios.p99))}`);
console.log(`  CPU µs per request: ${((cpuA / reqA) * 1e6).toFixed(1)} vs ${((cpuB / reqB) * 1e6).toFixed(1)}`);
