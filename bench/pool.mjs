#!/usr/bin/env node
// Pools the rounds of several benchmark runs (bench/run.mjs JSON files) of the
// same request-path code into one estimate per cell, with its uncertainty.
//
//   node bench/pool.mjs bench/results/run8-2026-11-27.json bench/results/run9-2026-11-27.json ...
//
// A single round's ratio to bare moves by ± 30 % on a shared machine (the A/A
// control of `bench/run.mjs --control` shows it for the bare server against
// itself), so the median of 3 or 5 rounds cannot tell 0.85 from 0.95. Each
// round's ratio (taken against bare, or Hono, of the same round) is one sample;
// the estimate is their geometric mean, and the 95 % confidence interval of that
// mean (Student's t on the log ratios) says how far the machine's noise alone
// could have moved it. A target is "met" when the whole interval is on its side,
// "missed" when the whole interval is on the other side, "not resolved" otherwise.
// Plain Node ESM, no dependency.
import { readFileSync } from "node:fs";
import path from "node:path";
import { interval, ratioInterval } from "./lib.mjs";

const TARGETS = { rps: 0.9, p99: 1.25, rssDeltaMiB: 15, vsHono: 1.0 };
const ORDER = ["bare-again", "hono", "mhttpd", "mhttpd-cfg"];

function verdict(i, target, higherIsBetter) {
  if (!i || !Number.isFinite(i.low) || !Number.isFinite(i.high)) return "not resolved";
  const [good, bad] = higherIsBetter ? [i.low >= target, i.high < target] : [i.high <= target, i.low > target];
  return good ? "met" : bad ? "missed" : "not resolved";
}

const MARK = { met: "✅", missed: "❌", "not resolved": "❔" };
const fmt = (i, d = 2) => (i ? `${i.mean.toFixed(d)} [${i.low.toFixed(d)}–${i.high.toFixed(d)}]` : "–");
const fmtDelta = (i) => (i ? `${i.mean >= 0 ? "+" : ""}${i.mean.toFixed(1)} [${i.low.toFixed(1)}…${i.high.toFixed(1)}]` : "–");

function main(files) {
  if (files.length === 0) {
    console.error("usage: node bench/pool.mjs RUN.json [RUN.json ...]");
    process.exit(2);
  }
  // samples[cell][variant] = { rps: [], p99: [], rss: [], vsHono: [] }
  const samples = new Map();
  const cells = [];
  const sources = [];
  for (const file of files) {
    const { meta, runs } = JSON.parse(readFileSync(file, "utf8"));
    sources.push(`${path.basename(file)} (commit ${meta.commit?.head ?? "?"}, ${meta.opts.rounds} rounds)`);
    const find = (r, variant) => runs.find((b) => b.ok && b.round === r.round && b.workload === r.workload && b.runtime === r.runtime && b.variant === variant);
    for (const r of runs) {
      if (!r.ok || r.variant === "bare") continue;
      const bare = find(r, "bare");
      if (!bare) continue;
      const cell = `${r.workload} ${r.runtime}`;
      if (!samples.has(cell)) {
        samples.set(cell, new Map());
        cells.push({ cell, workload: r.workload, runtime: r.runtime });
      }
      const byVariant = samples.get(cell);
      if (!byVariant.has(r.variant)) byVariant.set(r.variant, { rps: [], p99: [], rss: [], vsHono: [] });
      const s = byVariant.get(r.variant);
      s.rps.push(r.rps / bare.rps);
      if (r.p99ms && bare.p99ms) s.p99.push(r.p99ms / bare.p99ms);
      if (r.hwmKiB && bare.hwmKiB) s.rss.push((r.hwmKiB - bare.hwmKiB) / 1024);
      const hono = find(r, "hono");
      if (hono && r.variant.startsWith("mhttpd")) s.vsHono.push(r.rps / hono.rps);
    }
  }
  const workloads = ["hello50", "hello1", "post50", "headers50"];
  cells.sort((a, b) => workloads.indexOf(a.workload) - workloads.indexOf(b.workload) || a.runtime.localeCompare(b.runtime));

  const L = [];
  L.push(`Pooled from ${sources.join(", ")}.`);
  L.push("");
  L.push("Geometric mean of the per-round ratios, and its 95 % confidence interval in brackets. " +
    `✅ the whole interval meets the target, ❌ the whole interval misses it, ❔ the interval straddles it (not resolved by these rounds). ` +
    `Targets: req/s ≥ ${TARGETS.rps} × bare, p99 ≤ ${TARGETS.p99} × bare, peak RSS ≤ bare + ${TARGETS.rssDeltaMiB} MiB, req/s > Hono.`);
  L.push("");
  L.push("| workload | runtime | server | rounds | req/s × bare | p99 × bare | Δ peak RSS MiB | × Hono |");
  L.push("| --- | --- | --- | ---: | --- | --- | --- | --- |");
  const tally = { rps: {}, p99: {}, rss: {}, vsHono: {} };
  for (const { cell, workload, runtime } of cells) {
    const byVariant = samples.get(cell);
    for (const variant of ORDER) {
      const s = byVariant.get(variant);
      if (!s) continue;
      const rps = ratioInterval(s.rps);
      const p99 = s.p99.length ? ratioInterval(s.p99) : null;
      const rss = s.rss.length ? interval(s.rss) : null;
      const vsHono = s.vsHono.length ? ratioInterval(s.vsHono) : null;
      const judged = variant.startsWith("mhttpd");
      const v = {
        rps: verdict(rps, TARGETS.rps, true),
        p99: verdict(p99, TARGETS.p99, false),
        rss: verdict(rss, TARGETS.rssDeltaMiB, false),
        vsHono: vsHono ? verdict(vsHono, TARGETS.vsHono, true) : null,
      };
      if (judged) for (const k of Object.keys(tally)) if (v[k]) tally[k][v[k]] = (tally[k][v[k]] ?? 0) + 1;
      const mark = (k) => (judged && v[k] ? ` ${MARK[v[k]]}` : "");
      L.push(`| ${workload} | ${runtime} | ${variant} | ${rps.n} | ${fmt(rps)}${mark("rps")} | ${fmt(p99)}${mark("p99")} | ${fmtDelta(rss)}${mark("rss")} | ${vsHono ? fmt(vsHono) + mark("vsHono") : ""} |`);
    }
  }
  L.push("");
  const say = (t) => ["met", "missed", "not resolved"].map((k) => `${t[k] ?? 0} ${k}`).join(", ");
  L.push(`mhttpd cells (TypeScript and .cfg routes): req/s ${say(tally.rps)}; p99 ${say(tally.p99)}; peak RSS ${say(tally.rss)}; faster than Hono ${say(tally.vsHono)}.`);
  process.stdout.write(L.join("\n") + "\n");
}

main(process.argv.slice(2));
