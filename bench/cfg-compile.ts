// In-process cost of the cfg language: (1) start-up, compiling a kamailio.cfg to
// closures, and (2) per request, running the compiled event route. No server,
// no sockets. With --base, a second copy of src/ (another version, e.g. main) is
// loaded into the same process and measured interleaved with this one, so that
// the two share the machine's noise; the replies of both are compared first.
//
//   git archive main src | tar -x -C .tmp/base      # .tmp/ is not tracked
//   node --import tsx bench/cfg-compile.ts --base .tmp/base/src [--repeats 9] [--compiles 50] [--slice-ms 300]
//   node_modules/.bin/bun bench/cfg-compile.ts --base .tmp/base/src
//
// The base copy must live inside this checkout so that it finds node_modules.
// Times are the process's CPU time (user + system, all its threads) by default,
// which a busy machine disturbs far less than the wall clock; --clock wall for
// elapsed time.
// --tree DIR measures another src/ in place of this one: two copies of the same
// tree (--tree A --base B) show what the noise alone does to the ratios.
// Compile: the median of --compiles compiles per repeat; run: requests per second
// over a batch of prepared requests (the context is built outside the timing),
// for --slice-ms per repeat. Both print the median of the repeats and their
// min-max; the ratios are this tree over the base: the median of per-repeat
// ratios, and the best repeat of one over the best of the other.
import path from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const FILES = ["config/default.cfg", "test/fixtures/cfg/app.cfg"];
const RUN_FILE = "test/fixtures/cfg/app.cfg";
const L_INFO = 2;

interface Sample {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

// the routes of app.cfg: each branch, a switch, transformations, htable, a 404
const REQUESTS: Sample[] = [
  { method: "GET", url: "/health" },
  { method: "GET", url: "/api/users" },
  { method: "GET", url: "/api/users/2" },
  { method: "GET", url: "/api/users/9" },
  { method: "PUT", url: "/kv/alpha", body: "one" },
  { method: "GET", url: "/kv/alpha" },
  { method: "GET", url: "/admin", headers: { authorization: "Bearer s3cret-token" } },
  { method: "GET", url: "/private", headers: { authorization: "Basic " + btoa("alice:wonderland") } },
  { method: "POST", url: "/echo", headers: { "content-type": "application/json" }, body: '{"msg":"hello"}' },
  { method: "GET", url: "/nowhere?x=1" },
];

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

// deliberately loose: each tree has its own copies of these modules
type Program = { event?: (ctx: unknown) => unknown };
interface Tree {
  label: string;
  compileCfg(file: string): Program;
  newContext(sample: Sample, logger: unknown): { reply?: { status: number; body?: unknown } };
  newLogger(): unknown;
}

async function loadTree(label: string, srcDir: string): Promise<Tree> {
  const load = (file: string) => import(pathToFileURL(path.join(srcDir, file)).href);
  const [cfg, context, log] = await Promise.all([load("cfg/index.ts"), load("context.ts"), load("log.ts")]);
  const encoder = new TextEncoder();
  return {
    label,
    compileCfg: (file) => cfg.compileCfg(file),
    newLogger: () => new log.Logger(L_INFO, () => {}),
    newContext: (s, logger) =>
      new context.RequestContext(new Request(`http://bench${s.url}`, { method: s.method, headers: s.headers }), { remoteAddress: "127.0.0.1" }, encoder.encode(s.body ?? ""), logger),
  };
}

/** milliseconds */
let now = () => performance.now();
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function compileMs(tree: Tree, file: string, compiles: number): number {
  const times: number[] = [];
  for (let k = 0; k < compiles; k++) {
    const t0 = now();
    tree.compileCfg(file);
    times.push(now() - t0);
  }
  return median(times);
}

function describeReply(ctx: ReturnType<Tree["newContext"]>): string {
  const r = ctx.reply;
  if (!r) return "no reply";
  const body = typeof r.body === "string" ? r.body : r.body instanceof Uint8Array ? new TextDecoder().decode(r.body) : String(r.body);
  return `${r.status} ${body}`;
}

interface Runner {
  tree: Tree;
  replies(): string[];
  opsPerSecond(sliceMs: number): number;
}

function runner(tree: Tree): Runner {
  const program = tree.compileCfg(path.join(ROOT, RUN_FILE));
  const event = program.event!;
  const logger = tree.newLogger();
  const BATCH = REQUESTS.length * 50;
  return {
    tree,
    replies: () =>
      REQUESTS.map((s) => {
        const ctx = tree.newContext(s, logger);
        event(ctx);
        return describeReply(ctx);
      }),
    opsPerSecond(sliceMs) {
      let ops = 0;
      let spent = 0;
      while (spent < sliceMs) {
        const batch = Array.from({ length: BATCH }, (_, k) => tree.newContext(REQUESTS[k % REQUESTS.length], logger));
        const t0 = now();
        for (let k = 0; k < BATCH; k++) event(batch[k]);
        spent += now() - t0;
        ops += BATCH;
      }
      return (ops / spent) * 1000;
    },
  };
}

function summary(values: number[], digits: number): string {
  return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;
}

async function main() {
  const repeats = Number(option("repeats", "9"));
  const compiles = Number(option("compiles", "50"));
  const sliceMs = Number(option("slice-ms", "300"));
  const base = option("base", "");
  const clock = option("clock", "cpu");
  if (clock === "cpu") now = cpuMs;
  const tree = option("tree", "");
  const trees = [await loadTree(tree ? `tree ${tree}` : "this tree", tree ? path.resolve(tree) : path.join(ROOT, "src"))];
  if (base) trees.push(await loadTree(`base ${base}`, path.resolve(base)));
  const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : `node ${process.version}`;
  console.log(`cfg bench on ${runtime}: ${repeats} repeats, ${compiles} compiles each, ${sliceMs} ms run slices, ${clock === "cpu" ? "CPU time" : "wall clock"}`);

  const runners = trees.map(runner);
  const expected = runners[0].replies();
  for (const r of runners.slice(1)) {
    const got = r.replies();
    expected.forEach((e, k) => {
      if (got[k] !== e) console.log(`DIFFERENT REPLY for ${REQUESTS[k].method} ${REQUESTS[k].url}: this tree ${JSON.stringify(e)}, ${r.tree.label} ${JSON.stringify(got[k])}`);
    });
  }
  // warm up every path once before measuring
  for (const r of runners) r.opsPerSecond(sliceMs);
  for (const t of trees) for (const f of FILES) compileMs(t, path.join(ROOT, f), compiles);

  const results = trees.map(() => ({ compile: FILES.map(() => [] as number[]), run: [] as number[] }));
  for (let rep = 0; rep < repeats; rep++) {
    // alternate the order so neither tree always runs first
    const order = rep % 2 ? [...trees.keys()].reverse() : [...trees.keys()];
    for (const t of order) {
      FILES.forEach((f, k) => results[t].compile[k].push(compileMs(trees[t], path.join(ROOT, f), compiles)));
      results[t].run.push(runners[t].opsPerSecond(sliceMs));
    }
  }

  for (const [t, { label }] of trees.entries()) {
    console.log(`\n${label}`);
    FILES.forEach((f, k) => console.log(`  compile ${f}: ${summary(results[t].compile[k], 3)} ms`));
    console.log(`  run ${RUN_FILE} (${REQUESTS.length} kinds of request): ${summary(results[t].run, 0)} requests/s`);
  }
  if (trees.length === 2) {
    // on a busy machine the best repeat of each is the steadier comparison
    const ratio = (a: number[], b: number[], best: (xs: number[]) => number) => `${summary(a.map((v, k) => v / b[k]), 3)}, best/best ${(best(a) / best(b)).toFixed(3)}`;
    const fastest = (xs: number[]) => Math.min(...xs);
    const most = (xs: number[]) => Math.max(...xs);
    console.log(`\nthis tree / base (median of per-repeat ratios (min-max); compile: lower is faster, run: higher is faster)`);
    FILES.forEach((f, k) => console.log(`  compile ${f}: ${ratio(results[0].compile[k], results[1].compile[k], fastest)}`));
    console.log(`  run: ${ratio(results[0].run, results[1].run, most)}`);
  }
}

await main();
