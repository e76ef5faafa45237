// The soak: 100 000 requests per runtime mixing normal, throwing, timed-out,
// oversized and aborted ones, with the server's resident memory measured before
// and after. The bound is generous: it catches a leak per request (100 000 of
// anything adds up), not allocator noise.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, it } from "node:test";
import { FIXTURES, RUNTIMES, parseResponses, rawRequest, sleep, startServer } from "./_harness.ts";

const ROUTE = path.join(FIXTURES, "hardening", "route.ts");
const TOTAL = Number(process.env.MHTTPD_SOAK_REQUESTS ?? 100_000);
const WORKERS = 32;
const MAX_GROWTH_MIB = 64;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(m, "VmRSS readable");
  return Number(m[1]) / 1024;
}

/** One keep-alive connection sending requests one after another. */
class KeepAlive {
  #sock: net.Socket;
  #buf = Buffer.alloc(0);
  #waiting: ((status: number) => void) | undefined;
  #failed: ((e: Error) => void) | undefined;
  ready: Promise<void>;

  constructor(port: number) {
    this.#sock = net.connect({ host: "127.0.0.1", port });
    this.ready = new Promise((r) => this.#sock.once("connect", () => r()));
    this.#sock.on("data", (d) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      const [res] = parseResponses(this.#buf);
      if (!res) return;
      this.#buf = Buffer.alloc(0);
      this.#waiting?.(res.status);
    });
    const fail = (e?: Error) => this.#failed?.(e ?? new Error("connection closed"));
    this.#sock.on("error", fail);
    this.#sock.on("close", () => fail());
  }

  send(target: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failed = reject;
      this.#sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
  }

  close() {
    this.#failed = undefined;
    this.#sock.destroy();
  }
}

/** An upload cut off halfway: connect, send part of a body, go away. */
function abortedUpload(port: number): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.on("error", () => resolve());
    sock.on("connect", () => {
      sock.write("POST /size HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n\r\n" + "x".repeat(1000), () => {
        sock.destroy();
        resolve();
      });
    });
  });
}

const BIG = Buffer.alloc(32 * 1024, 0x7a);

/** Run `count` requests of the mix; returns how many got what status. */
async function mix(port: number, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const note = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
  let next = 0;
  const worker = async () => {
    let conn = new KeepAlive(port);
    await conn.ready;
    while (next < count) {
      const i = next++;
      const kind = i % 100;
      if (kind < 88) note(`ok ${await conn.send("/ok")}`);
      else if (kind < 93) note(`throw ${await conn.send("/throw")}`);
      else if (kind === 93) note(`timeout ${await conn.send("/loop")}`);
      else if (kind < 96) {
        const r = await rawRequest(port, [`POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: ${BIG.length}\r\n\r\n`, BIG]);
        const line = /^HTTP\/1\.1 (\d{3})/.exec(r.raw.toString("latin1"));
        note(`oversized ${line ? line[1] : r.reset ? "reset" : "closed"}`);
      } else if (kind === 96) {
        await abortedUpload(port);
        note("aborted");
      } else note(`srcip ${await conn.send("/srcip")}`);
      if (i % 5000 === 4999) {
        // a fresh connection now and then, as real clients do
        conn.close();
        conn = new KeepAlive(port);
        await conn.ready;
      }
    }
    conn.close();
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return seen;
}

for (const runtime of RUNTIMES) {
  describe(`soak on ${runtime}`, () => {
    it(`serves ${TOTAL} mixed requests with bounded memory`, { timeout: 180_000 }, async () => {
      const srv = await startServer(runtime, [ROUTE, "--listen-addr", "127.0.0.1", "--listen-port", "0", "--route-timeout", "0.1", "--max-body-size", "16k", "--debug", "-1"]);
      try {
        const pid = srv.proc.pid!;
        await mix(srv.port, 20_000); // warm-up: JIT, pools, caches, and a heap grown to its working size
        await sleep(500);
        const before = rssMiB(pid);
        const t0 = Date.now();
        const seen = await mix(srv.port, TOTAL);
        const secs = (Date.now() - t0) / 1000;
        await sleep(1000);
        const after = rssMiB(pid);
        const summary = [...seen].map(([k, n]) => `${k}: ${n}`).join(", ");
        console.log(`# ${runtime}: ${TOTAL} requests in ${secs.toFixed(1)} s; RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MiB; ${summary}`);
        for (const k of seen.keys()) assert.match(k, /^(ok 200|throw 500|timeout 503|oversized (413|reset|closed)|aborted|srcip 200)$/, `unexpected outcome ${k}`);
        assert.ok((seen.get("oversized 413") ?? 0) > 0, "oversized requests get 413");
        assert.ok(after - before < MAX_GROWTH_MIB, `RSS grew ${(after - before).toFixed(1)} MiB (bound ${MAX_GROWTH_MIB})`);
        // still healthy afterwards
        const r = await rawRequest(srv.port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        assert.equal(r.responses[0]?.status, 200);
      } finally {
        assert.equal((await srv.stop()).code, 0);
      }
    });
  });
}
