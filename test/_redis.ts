// A redis-server of the test's own: started on a free loopback port in a temporary
// directory, without persistence, stopped (and restarted, for "Redis down and
// back") by the test. A missing binary fails the test with what to install.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import os from "node:os";
import path from "node:path";

export interface RedisServerProcess {
  port: number;
  /** stop it (SIGKILL: it must be gone at once, as a crashed server is) */
  stop(): Promise<void>;
  /** start it again on the same port, empty */
  restart(): Promise<void>;
  /** stop it and remove its directory */
  dispose(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function ensureBinary(): void {
  const r = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error("redis-server is not installed: the ndb_redis tests start their own (Debian: apt-get install -y redis-server; .ci/run installs it)");
  }
}

function waitForPing(port: number, secure: boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = secure ? tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }) : net.connect({ host: "127.0.0.1", port });
      let got = "";
      sock.on("data", (d) => {
        got += d;
        if (got.includes("+PONG")) {
          sock.destroy();
          resolve();
        }
      });
      sock.on(secure ? "secureConnect" : "connect", () => sock.write("PING\r\n"));
      sock.on("error", () => {
        sock.destroy();
        if (Date.now() > until) reject(new Error(`redis-server on port ${port} did not answer PING`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** `tls`: serve TLS only, with this certificate and key (PEM). */
export async function startRedis(opts: { tls?: { cert: string; key: string } } = {}): Promise<RedisServerProcess> {
  ensureBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), "mhttpd-redis-"));
  const port = await freePort();
  let listen = ["--port", String(port)];
  if (opts.tls) {
    writeFileSync(path.join(dir, "cert.pem"), opts.tls.cert);
    writeFileSync(path.join(dir, "key.pem"), opts.tls.key);
    const files = ["--tls-cert-file", path.join(dir, "cert.pem"), "--tls-key-file", path.join(dir, "key.pem"), "--tls-ca-cert-file", path.join(dir, "cert.pem")];
    listen = ["--port", "0", "--tls-port", String(port), ...files, "--tls-auth-clients", "no"];
  }
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn("redis-server", [...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
    await waitForPing(port, opts.tls !== undefined);
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGKILL");
    });
  await start();
  return {
    port,
    async stop() {
      await stop();
    },
    async restart() {
      await stop();
      await start();
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One raw command to the server from the test itself (to check what a route did). */
export function redisRaw(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    let got = "";
    const body = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
    sock.on("connect", () => sock.write(body));
    sock.on("data", (d) => {
      got += d;
      // one line replies, or a bulk string complete
      const m = /^\$(\d+)\r\n/.exec(got);
      if ((m && got.length >= m[0].length + Number(m[1]) + 2) || (!m && got.endsWith("\r\n"))) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.on("error", reject);
  });
}
