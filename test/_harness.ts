// Test harness: start mhttpd under Bun, Deno or Node as a child process (the way a
// user does) and talk to it over real sockets.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type Runtime = "bun" | "deno" | "node";
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const FIXTURES = path.join(ROOT, "test", "fixtures");
/** MHTTPD_TEST_RUNTIMES=bun,node narrows a local run; CI runs all three. */
export const RUNTIMES: Runtime[] = (process.env.MHTTPD_TEST_RUNTIMES ?? "bun,deno,node").split(",").filter(Boolean) as Runtime[];

const BIN = path.join(ROOT, "node_modules", ".bin");

export function runtimeCommand(runtime: Runtime): string[] {
  switch (runtime) {
    case "bun":
      return [path.join(BIN, "bun"), path.join(ROOT, "adapters/bun.ts")];
    case "deno":
      return [path.join(BIN, "deno"), "run", "--allow-net", "--allow-read", "--allow-env", path.join(ROOT, "adapters/deno.ts")];
    case "node":
      buildNodeOnce();
      return [process.execPath, path.join(ROOT, "dist/node.mjs")];
  }
}

let built = false;
/** Node runs the JavaScript build of the adapter (dist/node.mjs), as `npm run
 * start:node` does: it is built once per test process from the current sources. */
function buildNodeOnce(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts/build-node.mjs")], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error("scripts/build-node.mjs failed");
  built = true;
}

export interface Server {
  runtime: Runtime;
  /** ports of the listening lines, in order */
  ports: number[];
  port: number;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** send a signal and wait for the exit */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How a test starts mhttpd other than through the adapter (the mhttpd command, an installed package). */
export interface LaunchOptions {
  /** the program and its first arguments, instead of runtimeCommand(runtime) */
  command?: string[];
  /** the working directory (default: the repository) */
  cwd?: string;
}

function spawnMhttpd(runtime: Runtime, args: string[], env?: Record<string, string>, launch: LaunchOptions = {}) {
  const [cmd, ...pre] = launch.command ?? runtimeCommand(runtime);
  return spawn(cmd, [...pre, ...args], {
    cwd: launch.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Start a server and wait until it has printed `sockets` listening lines. */
export async function startServer(
  runtime: Runtime,
  args: string[],
  opts: { sockets?: number; env?: Record<string, string>; timeoutMs?: number } & LaunchOptions = {},
): Promise<Server> {
  const proc = spawnMhttpd(runtime, args, opts.env, opts);
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const want = opts.sockets ?? 1;
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime}: server did not start in time\nstdout: ${out}\nstderr: ${err}`)), opts.timeoutMs ?? 20000);
    const check = () => {
      const found = [...out.matchAll(/mhttpd listening on https?:\/\/(?:\[[^\]]+\]|[^:]+):(\d+) \((\w+)\)/g)].map((m) => Number(m[1]));
      if (found.length >= want) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    proc.stdout!.on("data", check);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${runtime}: server exited (${code}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  return {
    runtime,
    ports,
    port: ports[0],
    proc,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const t = setTimeout(() => proc.kill("SIGKILL"), 10000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** Run mhttpd expecting it to exit by itself (bad configuration, --help). */
export function runToExit(runtime: Runtime, args: string[], env?: Record<string, string>, timeoutMs = 20000, launch?: LaunchOptions) {
  const proc = spawnMhttpd(runtime, args, env, launch);
  let stdout = "";
  let stderr = "";
  proc.stdout!.on("data", (d) => (stdout += d));
  proc.stderr!.on("data", (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    // "close", not "exit": only then has all of stdout and stderr been read
    proc.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RawResponse {
  status: number;
  statusLine: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawResult {
  /** complete responses, in order */
  responses: RawResponse[];
  raw: Buffer;
  /** the server closed (FIN or RST) before we did */
  serverClosed: boolean;
  reset: boolean;
}

/** Parse complete HTTP/1.x responses from bytes (methods[i] HEAD => no body). */
export function parseResponses(buf: Buffer, methods: string[] = []): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf("\r\n\r\n", pos, "latin1");
    if (end < 0) break;
    const [statusLine, ...lines] = buf.subarray(pos, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const c = l.indexOf(":");
      const k = l.slice(0, c).toLowerCase();
      const val = l.slice(c + 1).trim();
      headers[k] = Object.hasOwn(headers, k) ? `${headers[k]}, ${val}` : val;
    }
    const status = Number(statusLine.split(" ")[1]);
    let p = end + 4;
    if (status >= 100 && status < 200) {
      pos = p;
      continue;
    }
    const method = methods[out.length] ?? "GET";
    let body: Buffer = Buffer.alloc(0);
    if (method === "HEAD" || status === 204 || status === 304) {
      // no body
    } else if ((headers["transfer-encoding"] ?? "").includes("chunked")) {
      const parts: Buffer[] = [];
      let ok = false;
      for (;;) {
        const le = buf.indexOf("\r\n", p, "latin1");
        if (le < 0) break;
        const size = parseInt(buf.subarray(p, le).toString("latin1"), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          p = le + 4;
          ok = true;
          break;
        }
        if (le + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!ok) break;
      body = Buffer.concat(parts);
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      if (p + n > buf.length) break;
      body = buf.subarray(p, p + n);
      p += n;
    } else break; // read-until-close bodies are not used by mhttpd
    out.push({ status, statusLine, headers, body });
    pos = p;
  }
  return out;
}

/** Send raw bytes on a fresh connection; resolve once `expect` responses have
 * arrived (then close), or the server closed, or timeoutMs passed. */
export function rawRequest(
  port: number,
  data: string | Buffer | (string | Buffer)[],
  opts: { host?: string; expect?: number; timeoutMs?: number; methods?: string[]; gapMs?: number; localAddress?: string } = {},
): Promise<RawResult> {
  const expect = opts.expect ?? 1;
  const chunks = (Array.isArray(data) ? data : [data]).map((d) => (typeof d === "string" ? Buffer.from(d, "latin1") : d));
  return new Promise((resolve) => {
    // localAddress: a client address the test controls (127.0.0.2 is loopback too)
    const sock = net.connect({ host: opts.host ?? "127.0.0.1", port, localAddress: opts.localAddress });
    const got: Buffer[] = [];
    let done = false;
    let serverClosed = false;
    let reset = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(got);
      resolve({ responses: parseResponses(raw, opts.methods), raw, serverClosed, reset });
    };
    const timer = setTimeout(finish, opts.timeoutMs ?? 5000);
    sock.on("data", (d) => {
      got.push(d);
      if (parseResponses(Buffer.concat(got), opts.methods).length >= expect) finish();
    });
    sock.on("end", () => {
      serverClosed = true;
      finish();
    });
    sock.on("error", (e: NodeJS.ErrnoException) => {
      serverClosed = true;
      reset = e.code === "ECONNRESET";
      finish();
    });
    sock.on("connect", async () => {
      for (let i = 0; i < chunks.length; i++) {
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (!sock.destroyed) sock.write(chunks[i]);
      }
    });
  });
}

/** A simple GET/POST over raw bytes. */
export function httpRequest(port: number, method: string, target: string, opts: { headers?: Record<string, string>; body?: string | Buffer; host?: string } = {}) {
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? Buffer.from(opts.body) : opts.body;
  let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(opts.headers ?? {})) head += `${k}: ${v}\r\n`;
  if (body) head += `Content-Length: ${body.length}\r\n`;
  head += "\r\n";
  return rawRequest(port, body ? Buffer.concat([Buffer.from(head, "latin1"), body]) : head, { host: opts.host, methods: [method] });
}

/** The key=value lines of an echo body (the fixture routes answer that way). */
export function fields(body: Buffer | string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of body.toString().split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Wait until the server's stderr matches (logs can arrive after the response). */
export async function waitForLog(srv: Server, re: RegExp, timeoutMs = 3000): Promise<string> {
  const end = Date.now() + timeoutMs;
  while (!re.test(srv.stderr())) {
    if (Date.now() > end) throw new Error(`stderr of ${srv.runtime} never matched ${re}:\n${srv.stderr().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return srv.stderr();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
