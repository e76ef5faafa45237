// In-process cost of matching an ERE: re2js (src/ere.ts, linear time) against
// the backtracking RegExp translation mhttpd used before (test/_ere-backtracking.ts),
// on url_match patterns and paths of the kind the benchmark's routes see. No
// server, no sockets: the per-request cost of the match alone.
//
//   node --import tsx bench/regex.ts [--repeats 9] [--slice-ms 200]
//   node_modules/.bin/bun bench/regex.ts
//   node_modules/.bin/deno run --allow-read bench/regex.ts
//
// Each repeat runs every case on both engines for --slice-ms each, interleaved,
// so that the two share the machine's noise; prints ops/s as the median of the
// repeats with their min-max, and new/old as the median of per-repeat ratios.
import { compileEre } from "../src/ere.ts";
import { compileBacktrackingEre } from "../test/_ere-backtracking.ts";

interface Case {
  name: string;
  ere: string;
  icase: boolean;
  /** built once per request: compile included in each operation */
  compileEach?: boolean;
  text: string;
}

const CASES: Case[] = [
  { name: "url_match ^/ on /api/users", ere: "^/", icase: false, text: "/api/users" },
  { name: "url_match ^/api/[a-z]+$ on /api/users", ere: "^/api/[a-z]+$", icase: false, text: "/api/users" },
  { name: "url_match ^/api/[a-z]+$ on /other/path?x=1 (no match)", ere: "^/api/[a-z]+$", icase: false, text: "/other/path?x=1" },
  { name: "=~ (icase) ^/api/[a-z]+$ on /API/users", ere: "^/api/[a-z]+$", icase: true, text: "/API/users" },
  { name: "=~ (icase) users on a 200-byte header value", ere: "users", icase: true, text: "x".repeat(190) + "/api/USERS" },
  { name: "compile ^/api/[a-z]+$ then match (a pattern built per request, cache miss)", ere: "^/api/[a-z]+$", icase: true, compileEach: true, text: "/api/users" },
];

function option(name: string, fallback: number): number {
  const args = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
declare const Deno: { args: string[] } | undefined;

const REPEATS = option("--repeats", 9);
const SLICE_MS = option("--slice-ms", 200);

type Engine = "re2js" | "RegExp";
function operation(c: Case, engine: Engine): () => boolean {
  const compile = engine === "re2js" ? (s: string) => compileEre(s, c.icase) : (s: string) => compileBacktrackingEre(s, c.icase);
  if (c.compileEach) return () => compile(c.ere).test(c.text);
  const m = compile(c.ere);
  return () => m.test(c.text);
}

let sink = 0;
function opsPerSecond(op: () => boolean): number {
  const end = performance.now() + SLICE_MS;
  let n = 0;
  let now = performance.now();
  const start = now;
  while (now < end) {
    // batches of 256 keep the clock out of the measurement
    for (let i = 0; i < 256; i++) if (op()) sink++;
    n += 256;
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);

const runtime = typeof Deno !== "undefined" ? "deno" : "Bun" in globalThis ? "bun" : `node ${process.version}`;
console.log(`# bench/regex.ts on ${runtime}: ${REPEATS} repeats of ${SLICE_MS} ms per engine and case (ops/s: median, min-max)\n`);
console.log("| case | re2js ops/s | RegExp ops/s | re2js / RegExp |");
console.log("| --- | --- | --- | --- |");
for (const c of CASES) {
  const ops = { re2js: operation(c, "re2js"), RegExp: operation(c, "RegExp") };
  if (ops.re2js() !== ops.RegExp()) throw new Error(`${c.name}: the engines disagree`);
  // warm-up: both JITs settle before anything counts
  opsPerSecond(ops.re2js);
  opsPerSecond(ops.RegExp);
  const runs: Record<Engine, number[]> = { re2js: [], RegExp: [] };
  const ratios: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const order: Engine[] = r % 2 ? ["RegExp", "re2js"] : ["re2js", "RegExp"];
    for (const e of order) runs[e].push(opsPerSecond(ops[e]));
    ratios.push(runs.re2js[r] / runs.RegExp[r]);
  }
  const cell = (xs: number[]) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))})`;
  console.log(`| ${c.name} | ${cell(runs.re2js)} | ${cell(runs.RegExp)} | ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}) |`);
}
if (sink < 0) console.log(sink);
