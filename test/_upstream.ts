// The upstream HTTP service the http_client tests call: a node:http server on a
// loopback port, started by the test itself, with one behaviour per path (fast,
// slow, failing, redirecting, big, echoing; and the CRM of examples/webhook.*), and
// what it saw recorded so a test can check what reached it (or that nothing did).
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { selfSigned } from "./fixtures/tls/selfsigned.ts";

export interface Seen {
  method: string;
  url: string;
  /** raw header lines as received, [name, value] */
  headers: [string, string][];
  body: string;
}

export interface Upstream {
  /** http://127.0.0.1:port */
  base: string;
  /** https://127.0.0.1:port, a self-signed certificate (fails verification) */
  tlsBase: string;
  /** a loopback port nothing listens on */
  refusedPort: number;
  seen: Seen[];
  /** paths whose connection the client closed before the response ended */
  aborted: string[];
  waitForAbort(path: string, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, "x");

function handle(req: http.IncomingMessage, res: http.ServerResponse, up: Upstream, body: string): void {
  const url = new URL(req.url ?? "/", "http://x");
  const path = url.pathname;
  const pairs: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  up.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: pairs, body });
  res.on("close", () => {
    if (!res.writableFinished) up.aborted.push(path);
  });
  const num = Number(path.split("/")[2] ?? 0);
  if (path === "/text") {
    res.writeHead(200, { "Content-Type": "text/plain", "X-Upstream": "text" });
    res.end("first line\nsecond line\n");
  } else if (path === "/echo") {
    res.writeHead(200, { "Content-Type": "application/json", "X-Upstream": "echo" });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: pairs, body }));
  } else if (path.startsWith("/status/")) {
    res.writeHead(num, { "Content-Type": "text/plain" });
    res.end(`status ${num}\n`);
  } else if (path === "/redirect") {
    res.writeHead(302, { Location: "/text", "Content-Type": "text/plain" });
    res.end("moved\n");
  } else if (path === "/loop") {
    res.writeHead(302, { Location: "/loop" });
    res.end();
  } else if (path.startsWith("/slow/")) {
    const t = setTimeout(() => res.end("slow answer\n"), num);
    res.on("close", () => clearTimeout(t));
  } else if (path === "/hang") {
    // never answers: only the client can end this
  } else if (path === "/endless") {
    res.writeHead(200, { "Content-Type": "application/octet-stream" });
    const pump = () => {
      while (!res.destroyed && res.write(CHUNK));
      if (!res.destroyed) res.once("drain", pump);
    };
    pump();
  } else if (path.startsWith("/bytes/")) {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("a".repeat(num));
  } else if (path === "/crm/lookup") {
    // examples/webhook.*: a CRM that knows one caller, does not know another, fails for a third
    const caller = url.searchParams.get("caller");
    const known: Record<string, [number, unknown]> = {
      "+441234567890": [200, { customer: "ACME Corp", tier: "gold" }],
      "+15550000000": [404, { error: "unknown caller" }],
      "+19990000000": [503, { error: "maintenance" }],
    };
    const [status, answer] = caller !== null && Object.hasOwn(known, caller) ? known[caller] : [404, { error: "unknown caller" }];
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(answer));
  } else if (path === "/reset") {
    req.socket.destroy();
  } else {
    res.writeHead(404);
    res.end("no such path\n");
  }
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

export async function startUpstream(): Promise<Upstream> {
  const up = { seen: [], aborted: [] } as unknown as Upstream;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => handle(req, res, up, Buffer.concat(parts).toString()));
  };
  const plain = http.createServer(onRequest);
  const { cert, key } = selfSigned("127.0.0.1");
  const tls = https.createServer({ cert, key }, onRequest);
  const sockets = new Set<net.Socket>();
  for (const s of [plain, tls]) s.on("connection", (c: net.Socket) => (sockets.add(c), c.on("close", () => sockets.delete(c)), c.on("error", () => {})));
  const port = await listen(plain);
  const tlsPort = await listen(tls);
  const probe = net.createServer();
  const refusedPort = await listen(probe);
  await new Promise((r) => probe.close(r));
  Object.assign(up, {
    base: `http://127.0.0.1:${port}`,
    tlsBase: `https://127.0.0.1:${tlsPort}`,
    refusedPort,
    async waitForAbort(path: string, timeoutMs: number) {
      const end = Date.now() + timeoutMs;
      while (!up.aborted.includes(path) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      return up.aborted.includes(path);
    },
    async close() {
      for (const c of sockets) c.destroy();
      await Promise.all([plain, tls].map((s) => new Promise((r) => s.close(r))));
    },
  });
  return up;
}
