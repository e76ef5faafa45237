// Workers on the real Cloudflare Workers runtime: each entry bundled by esbuild into
// one ES module as wrangler would, then the workerd binary of the `workerd` package
// serving each on its own loopback port, with a generated configuration.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { ROOT, sleep } from "./_harness.ts";

const BIN = path.join(ROOT, "node_modules", ".bin");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** A child process whose output we keep, stopped with SIGTERM at the end. */
export interface Child {
  proc: ChildProcess;
  out(): string;
  err(): string;
  stop(): Promise<void>;
}

export function start(cmd: string, args: string[], cwd: string): Child {
  const proc = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (err += d));
  const closed = new Promise<void>((resolve) => proc.on("close", () => resolve()));
  return {
    proc,
    out: () => out,
    err: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await closed;
      clearTimeout(t);
    },
  };
}

/** Wait until something accepts connections on the port (or the child dies). */
export async function waitForPort(child: Child, port: number, what: string, timeoutMs = 20000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${what} exited (${child.proc.exitCode})\n${child.out()}\n${child.err()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not listen on ${port} in time\n${child.err()}`);
    await sleep(50);
  }
}

/** Bundle a Worker's entry into one ES module, as wrangler resolves it for Workers. */
export async function bundleWorker(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    // ipaddr.js has only a "main" field, which platform "neutral" does not read by default
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["workerd", "browser", "module", "main"],
    // node: modules come from workerd's nodejs_compat
    external: ["node:*"],
    loader: { ".cfg": "text" },
    logLevel: "error",
  });
}

export interface Workerd {
  child: Child;
  /** each worker's port, by name */
  ports: Record<string, number>;
  stop(): Promise<void>;
}

/** Bundle each entry and serve it under workerd, each on its own port (`name`: its
 * service and socket name). "internet" is the workers' fetch, loopback allowed. */
export async function startWorkerd(workers: Record<string, string>): Promise<Workerd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mhttpd-workerd-"));
  const names = Object.keys(workers);
  const ports: Record<string, number> = {};
  for (const name of names) {
    await bundleWorker(workers[name], path.join(dir, `${name}.js`));
    ports[name] = await freePort();
  }
  // node:async_hooks (the global KSR across awaits), node:crypto / node:buffer for the cfg hash and base64 transformations
  const worker = (name: string) => `(
  modules = [ (name = "${name}.js", esModule = embed "${name}.js") ],
  compatibilityDate = "2025-09-15",
  compatibilityFlags = ["nodejs_compat"],
)`;
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${names.map((n) => `(name = "${n}", worker = .${n})`).join(", ")}, (name = "internet", network = (allow = ["public", "private", "local"])) ],
  sockets = [
${names.map((n) => `    (name = "${n}", address = "127.0.0.1:${ports[n]}", http = (), service = "${n}"),`).join("\n")}
  ],
);
${names.map((n) => `const ${n} :Workerd.Worker = ${worker(n)};`).join("\n")}
`;
  writeFileSync(path.join(dir, "config.capnp"), config);
  const child = start(path.join(BIN, "workerd"), ["serve", "config.capnp", "--verbose"], dir);
  try {
    for (const name of names) await waitForPort(child, ports[name], "workerd");
  } catch (e) {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    child,
    ports,
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
