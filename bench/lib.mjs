// What bench/run.mjs and bench/interleave.mjs share: the servers of the
// benchmark and how they are started, the workloads, wrk and its output.
// Plain Node ESM, no dependency.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BENCH = path.join(ROOT, "bench");
export const BIN = path.join(ROOT, "node_modules", ".bin");

export const ALL_RUNTIMES = ["bun", "deno", "node"];
export const WORKLOADS = {
  hello50: { server: "hello", connections: 50, script: null, what: "GET /, 50 keep-alive connections" },
  hello1: { server: "hello", connections: 1, script: null, what: "GET /, 1 connection (latency)" },
  post50: { server: "post", connections: 50, script: "post.lua", what: "POST 1 KiB body, route answers its length, 50 connections" },
  headers50: { server: "headers", connections: 50, script: "headers.lua", what: "GET, route reads 3 headers + client IP, 50 connections" },
};
export const ALL_VARIANTS = ["bare", "hono", "mhttpd", "mhttpd-cfg", "mhttpd-hono"];
/** anchors of bench/interleave.mjs beside those: the C engine (c:mhd, libmicrohttpd
 * as Kamailio's module starts it) and the listener mhttpd runs on under Node
 * (node:floor, @hono/node-server with a do-nothing handler) */
export const ANCHORS = ["c:mhd", "node:floor"];
/** the same bare server again: the A/A control (--control) */
export const CONTROL = "bare-again";

/** the commit measured, and whether the working tree differed from it (others edit src/ meanwhile) */
export function gitState() {
  const git = (...a) => spawnSync("git", a, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  return { head: git("rev-parse", "--short", "HEAD"), dirty: git("status", "--porcelain", "--", "src", "adapters") !== "" };
}

export function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

// ---------------------------------------------------------------- servers
/** The command that starts a server; it prints "... listening on http://..." when ready. */
/** `root`: the source tree whose mhttpd runs (another checkout: an A/B of two commits) */
export function serverCommand(runtime, variant, workload, port, root = ROOT) {
  const srv = (f) => path.join(BENCH, "servers", f);
  const route = (ext) => path.join(BENCH, "routes", `${workload}.${ext}`);
  const listen = ["--listen-addr", "127.0.0.1", "--listen-port", String(port)];
  const deno = [path.join(BIN, "deno"), "run", "--allow-net", "--allow-read", "--allow-env"];
  const bun = [path.join(BIN, "bun")];
  // BENCH_NODE_FLAGS: V8/Node flags for every Node server (e.g. --no-memory-reducer,
  // see docs/benchmarks.md "Node after an idle start"); NODE_OPTIONS refuses V8 flags
  const node = [process.execPath, ...(process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean)];
  const tsx = [process.execPath, "--import", "tsx"];
  const mhttpd = (ext) =>
    runtime === "bun" ? [...bun, path.join(root, "adapters/bun.ts"), route(ext), ...listen]
    : runtime === "deno" ? [...deno, path.join(root, "adapters/deno.ts"), route(ext), ...listen]
    : [...node, path.join(root, "dist/node.mjs"), route(ext), ...listen]; // built at start (scripts/build-node.mjs)
  switch (variant) {
    case "mhd":
      return [mhdBinary(), String(port), workload];
    case "floor":
      return [...node, srv("floor-node.mjs"), String(port), workload];
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
    case "mhttpd-hono": // the TypeScript route, mounted in a Hono app (mhttpd/hono)
      return [...(runtime === "bun" ? bun : runtime === "deno" ? deno : tsx), srv("mhttpd-hono.ts"), String(port), route("ts")];
  }
  throw new Error(variant);
}

/** bench/servers/mhd.c built once per machine into the temporary directory
 * (Debian's libmicrohttpd-dev and cc; nothing built is kept in the repository) */
export function mhdBinary() {
  const out = path.join(os.tmpdir(), "mhttpd-bench-mhd");
  const src = path.join(BENCH, "servers", "mhd.c");
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    const r = spawnSync("cc", ["-O2", "-o", out, src, "-lmicrohttpd"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cannot build ${src} (apt-get install libmicrohttpd-dev): ${r.stderr}`);
  }
  return out;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Start a server pinned to CPU 0; resolves once it printed its listening line.
 * `extraArgs` go after the server's own (mhttpd: parameters such as --max-header-size 64k). */
export async function startServer(runtime, variant, workload, pin, timeoutMs = 30000, keepStderr = false, extraArgs = [], root = ROOT) {
  const port = await freePort();
  const cmd = [...serverCommand(runtime, variant, workload, port, root), ...extraArgs];
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

export function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s) ?? [])[1]) || null;
    return { hwmKiB: kb("VmHWM"), rssKiB: kb("VmRSS") };
  } catch {
    return { hwmKiB: null, rssKiB: null };
  }
}

/** CPU seconds (user + system, all threads) the process has used so far */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime
  } catch {
    return null;
  }
}
export const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

// ---------------------------------------------------------------- interleaved turns
const started = new Set();
/** stop every server interleaved() has running (on SIGINT) */
export const stopStarted = () => Promise.all([...started].map((s) => s.stop()));

/** Measure `servers` ({ label, runtime, variant, extra, root }) side by side: all
 * running at once, wrk loading one at a time in turns (each `settle` s unmeasured,
 * then `slice` s measured), the order rotating every turn, every server started
 * afresh `starts` times with the turns divided among the starts (and warmed at once,
 * the start order rotating too). Fills in each
 * server's rps[turn], p99[turn] (ms), requests, cpu (s) and hwmKiB (the peak RSS
 * of all its starts). bench/interleave.mjs and bench/targets.mjs share it. */
export async function interleaved(servers, wl, { slices, slice, settle, warmup, starts }, pin) {
  for (const s of servers) Object.assign(s, { rps: [], p99: [], requests: 0, cpu: 0, hwmKiB: 0 });
  const stopAll = async () => {
    for (const s of servers) if (s.server) s.hwmKiB = Math.max(s.hwmKiB, procStatus(s.server.pid).hwmKiB ?? 0);
    await Promise.all(servers.map((s) => s.server?.stop()));
    for (const s of servers) if (s.server) started.delete(s.server);
  };
  // Each server is warmed as soon as it listens, and the start order rotates with
  // every start: a server that waited idle for the others' starts could be
  // compiled differently (docs/benchmarks.md "Node after an idle start").
  let round = 0;
  const startAll = async () => {
    for (let k = 0; k < servers.length; k++) {
      const s = servers[(k + round) % servers.length];
      const server = await startServer(s.runtime, s.variant, wl.server, pin, 30000, false, s.extra ?? [], s.root);
      if (!server.ok) throw new Error(`${s.label} did not start: ${server.out.trim().slice(-400)}`);
      started.add(server);
      s.server = server;
      await wrk(server.port, wl, warmup, pin);
    }
    round++;
  };
  try {
    for (let turn = 0; turn < slices; turn++) {
      if (turn % Math.ceil(slices / starts) === 0) {
        await stopAll();
        await startAll();
      }
      // rotate who goes first, so no server always follows the same one
      for (let k = 0; k < servers.length; k++) {
        const s = servers[(k + turn) % servers.length];
        if (settle > 0) await wrk(s.server.port, wl, settle, pin);
        const cpu0 = cpuSeconds(s.server.pid);
        const w = parseWrk((await wrk(s.server.port, wl, slice, pin)).out);
        s.cpu += cpuSeconds(s.server.pid) - cpu0;
        s.requests += w.requests ?? 0;
        s.rps[turn] = w.rps;
        s.p99[turn] = w.p99ms;
      }
    }
  } finally {
    await stopAll();
  }
  return servers;
}

/** per-turn ratios of `key` (rps or p99) of server a to server b, pairs of the same turn */
export const perTurnRatios = (a, b, key) => a[key].map((v, turn) => v / b[key][turn]).filter((x) => Number.isFinite(x) && x > 0);

// ---------------------------------------------------------------- wrk
export function wrk(port, wl, seconds, pin) {
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


export const median = (xs) => {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

// ---------------------------------------------------------------- intervals
/** two-sided 95 % quantile of Student's t with `df` degrees of freedom */
export function t95(df) {
  const table = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06, 2.05, 2.05, 2.05, 2.04];
  return df < 1 ? Infinity : df <= table.length ? table[df - 1] : 1.96;
}

/** mean and 95 % interval of xs */
export function interval(xs) {
  const n = xs.length;
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : Infinity;
  const half = (t95(n - 1) * sd) / Math.sqrt(n);
  return { n, mean, low: mean - half, high: mean + half };
}

/** a ratio's geometric mean and interval, from the log ratios */
export function ratioInterval(ratios) {
  const i = interval(ratios.map(Math.log));
  return { n: i.n, mean: Math.exp(i.mean), low: Math.exp(i.low), high: Math.exp(i.high) };
}
