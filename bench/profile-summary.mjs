// Summaries of CPU profiles: self time per function, inclusive time per function
// (each sample counted once per function however deep the recursion), and time by
// bucket (mhttpd src/, hono, @hono/node-server, runtime internals, GC, idle).
//   node bench/profile-summary.mjs FILE.cpuprofile [top] [last-seconds] [requests]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function bucket(url, name) {
  if (name === "(idle)" || name === "(program)" || name === "(garbage collector)") return name;
  if (!url) return "(native / runtime)";
  if (url.includes("/@hono/node-server/")) return "@hono/node-server";
  if (url.includes("/node_modules/hono/")) return "hono";
  if (url.includes("/node_modules/tsx/") || url.includes("/esbuild/")) return "tsx";
  if (url.includes("/work/main/src/cfg/")) return "mhttpd src/cfg";
  if (url.includes("/work/main/src/")) return "mhttpd src/";
  if (url.includes("/work/main/adapters/")) return "mhttpd adapters/";
  if (url.includes("/work/main/dist/")) return "mhttpd dist/ (Node build: core + adapter)";
  if (url.includes("/work/main/bench/")) return "bench route/server";
  if (url.startsWith("node:") || url.startsWith("ext:") || url.includes("internal/")) return "runtime JS (node:/ext:)";
  return "other JS";
}

const short = (url) => (url ? url.replace(/^.*\/(node_modules\/|work\/main\/)/, "").replace(/^file:\/\//, "") : "");

/** From a Chrome .cpuprofile (Node, Bun, Deno through the inspector). Each sample
 * weighs its time delta (µs); with windowUs only the last windowUs of the profile
 * count (the load, without start-up and module loading). */
export function summarize(profile, top = 25, windowUs = Infinity) {
  const byId = new Map();
  const parent = new Map();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map();
  const incl = new Map();
  const buckets = new Map();
  let total = 0;
  let busy = 0;
  const deltas = profile.timeDeltas ?? [];
  const times = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) times.push((t += deltas[i] ?? 0));
  const from = (times[times.length - 1] ?? 0) - windowUs;
  const key = (n) => `${n.callFrame.functionName || "(anonymous)"} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i] < from) continue;
    const n = byId.get(profile.samples[i]);
    if (!n) continue;
    // the time up to the next sample is this sample's
    const w = deltas[i + 1] ?? deltas[i] ?? 0;
    total += w;
    const name = n.callFrame.functionName;
    if (name !== "(idle)") busy += w;
    const b = bucket(n.callFrame.url, name);
    buckets.set(b, (buckets.get(b) ?? 0) + w);
    self.set(key(n), (self.get(key(n)) ?? 0) + w);
    const seen = new Set();
    for (let cur = n; cur; cur = byId.get(parent.get(cur.id))) {
      const k = key(cur);
      if (!seen.has(k)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + w);
      }
    }
  }
  return finish(total, busy, self, incl, buckets, top);
}

/** From `node --prof-process --preprocess` JSON (a V8 tick log, e.g. Deno's). */
export function summarizeTicks(pre, top = 25) {
  const code = pre.code;
  const self = new Map();
  const incl = new Map();
  const buckets = new Map();
  let total = 0;
  let busy = 0;
  const key = (i) => {
    const c = code[i];
    if (!c) return "(unknown)";
    return c.name.replace(/file:\/\/\/work\/main\//, "").replace(/.*node_modules\//, "");
  };
  const bucketOf = (i) => {
    const c = code[i];
    if (!c) return "(native / runtime)";
    if (c.type !== "JS") return c.type === "CPP" || c.type === "SHARED_LIB" ? "(native / runtime)" : `(${c.type})`;
    const m = /\s(\S+):\d+:\d+$/.exec(c.name);
    return bucket(m ? m[1] : "", c.name);
  };
  for (const t of pre.ticks) {
    const s = t.s; // [pc-code-index, offset, caller-code-index, offset, ...]
    total++;
    const vm = t.vm; // 0 JS, 1 GC, ... 6 IDLE
    if (vm === 6) {
      buckets.set("(idle)", (buckets.get("(idle)") ?? 0) + 1);
      continue;
    }
    busy++;
    const frames = [];
    for (let i = 0; i < s.length; i += 2) if (s[i] >= 0) frames.push(s[i]);
    const leaf = frames[0];
    const b = vm === 1 ? "(garbage collector)" : leaf === undefined ? "(native / runtime)" : bucketOf(leaf);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
    const lk = leaf === undefined ? "(no frame)" : key(leaf);
    self.set(lk, (self.get(lk) ?? 0) + 1);
    const seen = new Set();
    for (const f of frames) {
      const k = key(f);
      if (!seen.has(k)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + 1);
      }
    }
  }
  return finish(total, busy, self, incl, buckets, top);
}

function finish(total, busy, self, incl, buckets, top) {
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { total, busy, self: sorted(self).slice(0, top), incl: sorted(incl).slice(0, top), buckets: sorted(buckets) };
}

export function formatSummary(s, requests) {
  const pct = (n, of) => `${((100 * n) / of).toFixed(1)}%`;
  const per = (n) => (requests ? `${(n / requests).toFixed(2).padStart(7)} µs/req` : "");
  const L = [`profiled ${(s.total / 1e6).toFixed(2)} s, busy (not idle) ${(s.busy / 1e6).toFixed(2)} s${requests ? `, ${requests} requests: ${(s.busy / requests).toFixed(2)} µs of CPU per request` : ""}`];
  L.push("-- by bucket (% of busy time)");
  for (const [k, n] of s.buckets) if (k !== "(idle)") L.push(`  ${pct(n, s.busy).padStart(6)} ${per(n)}  ${k}`);
  L.push("-- self time (% of busy)");
  for (const [k, n] of s.self) if (!k.startsWith("(idle)")) L.push(`  ${pct(n, s.busy).padStart(6)}  ${k}`);
  L.push("-- inclusive time (% of busy)");
  for (const [k, n] of s.incl) if (!k.startsWith("(root)") && !k.startsWith("(idle)")) L.push(`  ${pct(n, s.busy).padStart(6)}  ${k}`);
  return L.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  const top = Number(process.argv[3] ?? 30);
  const windowS = Number(process.argv[4] ?? Infinity);
  const requests = Number(process.argv[5]) || undefined;
  const data = JSON.parse(readFileSync(file, "utf8"));
  console.log(formatSummary(data.nodes ? summarize(data, top, windowS * 1e6) : summarizeTicks(data, top), requests));
}
