// Summaries of CPU profiles: self time per function, inclusive time per function
// (each sample counted once per function however deep the recursion), and time by
// bucket (mhttpd src/, hono, @hono/node-server, runtime internals, GC, idle).
//   node bench/profile-summary.mjs FILE.cpuprofile [top]
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
  if (url.includes("/work/main/bench/")) return "bench route/server";
  if (url.startsWith("node:") || url.startsWith("ext:") || url.includes("internal/")) return "runtime JS (node:/ext:)";
  return "other JS";
}

const short = (url) => (url ? url.replace(/^.*\/(node_modules\/|work\/main\/)/, "").replace(/^file:\/\//, "") : "");

/** From a Chrome .cpuprofile (Node, Bun). */
export function summarize(profile, top = 25) {
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
  const key = (n) => `${n.callFrame.functionName || "(anonymous)"} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  for (const id of profile.samples) {
    const n = byId.get(id);
    if (!n) continue;
    total++;
    const name = n.callFrame.functionName;
    if (name !== "(idle)") busy++;
    const b = bucket(n.callFrame.url, name);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
    self.set(key(n), (self.get(key(n)) ?? 0) + 1);
    const seen = new Set();
    for (let cur = n; cur; cur = byId.get(parent.get(cur.id))) {
      const k = key(cur);
      if (!seen.has(k)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + 1);
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

export function formatSummary(s) {
  const pct = (n, of) => `${((100 * n) / of).toFixed(1)}%`;
  const L = [`samples: ${s.total}, busy (not idle): ${s.busy}`];
  L.push("-- by bucket (% of busy samples)");
  for (const [k, n] of s.buckets) if (k !== "(idle)") L.push(`  ${pct(n, s.busy).padStart(6)}  ${k}`);
  L.push("-- self time (% of busy)");
  for (const [k, n] of s.self) if (!k.startsWith("(idle)")) L.push(`  ${pct(n, s.busy).padStart(6)}  ${k}`);
  L.push("-- inclusive time (% of busy)");
  for (const [k, n] of s.incl) if (!k.startsWith("(root)") && !k.startsWith("(idle)")) L.push(`  ${pct(n, s.busy).padStart(6)}  ${k}`);
  return L.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  const top = Number(process.argv[3] ?? 30);
  const data = JSON.parse(readFileSync(file, "utf8"));
  console.log(formatSummary(data.nodes ? summarize(data, top) : summarizeTicks(data, top)));
}
