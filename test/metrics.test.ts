// The metrics path, live on each runtime (test/fixtures/metrics/route.ts): a
// scrape after known requests counts them by method and status; refusals by
// reason (403, 413, 431, 503), a route error, a stray error and a route timeout
// are counted; the path answers only a scraper in metrics_allowed_ips, anyone
// else's request for it goes on to the route; with workers 2 one scrape has both
// workers' requests, and keeps a killed worker's. The API client is 127.0.0.2 and
// the scraper 127.0.0.1: both loopback, the client's address bound by the suite.
// Every scrape is read by the strict reader of the exposition format.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES, rawRequest, ROOT, RUNTIMES, runtimeCommand, sleep, startServer, type RawResult, type Runtime, type Server } from "./_harness.ts";
import { parseExposition, value, type Exposition } from "./_prometheus.ts";

const ROUTE = path.join(FIXTURES, "metrics", "route.ts");
const CLIENT = "127.0.0.2";
const SCRAPER = "127.0.0.1";

function send(port: number, head: string, opts: { from?: string; body?: string; method?: string } = {}): Promise<RawResult> {
  return rawRequest(port, head + (opts.body ?? ""), { localAddress: opts.from ?? CLIENT, methods: [opts.method ?? head.split(" ")[0]] });
}
const request = (port: number, method: string, target: string, from = CLIENT, extra = "") =>
  send(port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`, { from, method });
const statusOf = (r: RawResult) => r.responses[0]?.status;

async function scrape(port: number): Promise<Exposition> {
  const r = await request(port, "GET", "/metrics", SCRAPER);
  assert.equal(statusOf(r), 200, r.raw.toString("latin1"));
  assert.equal(r.responses[0].headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(r.responses[0].body.toString("utf8"));
}

/** how much a series grew between two scrapes (absent before: from 0) */
function grew(before: Exposition, after: Exposition, name: string, labels: Record<string, string> = {}): number {
  let was = 0;
  try {
    was = value(before, name, labels);
  } catch {
    // not there yet: a series appears with its first request
  }
  return value(after, name, labels) - was;
}

for (const runtime of RUNTIMES) {
  describe(`metrics on ${runtime}`, () => {
    let srv: Server;
    before(async () => {
      srv = await startServer(runtime, [ROUTE]);
    });
    after(async () => {
      await srv?.stop();
    });

    it("counts requests by method and status, body bytes, and not the scrapes", async () => {
      const was = await scrape(srv.port);
      for (let i = 0; i < 3; i++) assert.equal(statusOf(await request(srv.port, "GET", "/a")), 200);
      assert.equal(statusOf(await send(srv.port, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n", { body: "abc" })), 200);
      assert.equal(statusOf(await request(srv.port, "PUT", "/a", CLIENT, "Content-Length: 0\r\n")), 200);
      assert.equal(statusOf(await request(srv.port, "PURGE", "/a")), 200);
      assert.equal(statusOf(await request(srv.port, "HEAD", "/a")), 200);
      for (let i = 0; i < 2; i++) assert.equal(statusOf(await request(srv.port, "GET", "/created")), 201);
      // the scraper is no client of the API: allowed_ips refuses it elsewhere
      assert.equal(statusOf(await request(srv.port, "GET", "/a", SCRAPER)), 403);
      const now = await scrape(srv.port);
      const req = (method: string, status: string) => grew(was, now, "mhttpd_requests_total", { method, status });
      assert.equal(req("GET", "200"), 3);
      assert.equal(req("POST", "200"), 1);
      assert.equal(req("PUT", "200"), 1);
      assert.equal(req("other", "200"), 1);
      assert.equal(req("HEAD", "200"), 1);
      assert.equal(req("GET", "201"), 2);
      assert.equal(req("GET", "403"), 1);
      assert.equal(grew(was, now, "mhttpd_refusals_total", { reason: "allowed_ips", status: "403" }), 1);
      assert.equal(grew(was, now, "mhttpd_request_body_bytes_total"), 3);
      // "route saw /a\n" six times (not HEAD's), "created\n" twice, "Forbidden\n" once
      assert.equal(grew(was, now, "mhttpd_response_body_bytes_total"), 6 * 13 + 2 * 8 + 10);
      assert.equal(grew(was, now, "mhttpd_request_duration_seconds_count"), 10);
      assert.equal(value(now, "mhttpd_requests_in_flight"), 0);
      assert.equal(value(now, "mhttpd_workers"), 1);
      assert.equal(value(now, "mhttpd_info", { version: "0.1.0", runtime }), 1);
      assert.ok(value(now, "process_resident_memory_bytes") > 1 << 20);
      assert.ok(value(now, "mhttpd_heap_used_bytes") > 0);
    });

    it("answers the path only to a scraper in metrics_allowed_ips, GET or HEAD; anyone else's request goes on to the route", async () => {
      const r = await request(srv.port, "GET", "/metrics", CLIENT);
      assert.equal(statusOf(r), 200);
      assert.equal(r.responses[0].body.toString(), "route saw /metrics\n");
      const head = await request(srv.port, "HEAD", "/metrics", SCRAPER);
      assert.equal(statusOf(head), 200);
      assert.ok(Number(head.responses[0].headers["content-length"]) > 500);
      assert.equal(head.responses[0].body.length, 0);
      // the scraper's POST is a request like any other: allowed_ips refuses it
      assert.equal(statusOf(await request(srv.port, "POST", "/metrics", SCRAPER, "Content-Length: 0\r\n")), 403);
    });

    it("counts refusals by reason: 413 (declared and chunked), 431", async () => {
      const was = await scrape(srv.port);
      const chunked = await send(srv.port, "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", { body: "20\r\n" + "x".repeat(32) + "\r\n0\r\n\r\n" });
      // (Bun answers it itself, without a length: read the status line)
      assert.match(chunked.raw.toString("latin1"), /^HTTP\/1\.1 413 /);
      // Bun answers a declared Content-Length over the limit itself, before mhttpd sees it
      if (runtime !== "bun") assert.equal(statusOf(await send(srv.port, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n", { body: "x".repeat(17) })), 413);
      assert.equal(statusOf(await request(srv.port, "GET", "/a", CLIENT, `X-Big: ${"v".repeat(6000)}\r\n`)), 431);
      const now = await scrape(srv.port);
      assert.equal(grew(was, now, "mhttpd_refusals_total", { reason: "max_body_size", status: "413" }), runtime === "bun" ? 1 : 2);
      assert.equal(grew(was, now, "mhttpd_refusals_total", { reason: "max_header_size", status: "431" }), 1);
    });

    it("counts a route's throw, a stray error it leaves behind, and a route_timeout", async () => {
      const was = await scrape(srv.port);
      assert.equal(statusOf(await request(srv.port, "GET", "/throw")), 500);
      assert.equal(statusOf(await request(srv.port, "GET", "/stray")), 200);
      assert.equal(statusOf(await request(srv.port, "GET", "/slow")), 503);
      await sleep(100);
      const now = await scrape(srv.port);
      assert.equal(grew(was, now, "mhttpd_route_errors_total", { kind: "thrown" }), 1);
      assert.equal(grew(was, now, "mhttpd_route_errors_total", { kind: "stray" }), 1);
      assert.equal(grew(was, now, "mhttpd_route_timeouts_total"), 1);
      assert.equal(grew(was, now, "mhttpd_requests_total", { method: "GET", status: "500" }), 1);
      assert.equal(grew(was, now, "mhttpd_requests_total", { method: "GET", status: "503" }), 1);
    });

    it("counts max_connections: 503 beyond it in flight (Bun, Deno), a socket closed when accepted (Node)", async () => {
      const was = await scrape(srv.port);
      await sleep(200); // the scrape's socket is closed on the server's side too
      const slow = [0, 1, 2].map(() => request(srv.port, "GET", "/slow"));
      await sleep(100);
      const beyond = await request(srv.port, "GET", "/a");
      assert.deepEqual((await Promise.all(slow)).map(statusOf), [503, 503, 503]);
      await sleep(200);
      const now = await scrape(srv.port);
      if (runtime === "node") {
        assert.equal(beyond.responses.length, 0, "closed without a response");
        assert.equal(grew(was, now, "mhttpd_refusals_total", { reason: "max_connections", status: "none" }), 1);
      } else {
        assert.equal(statusOf(beyond), 503);
        assert.equal(grew(was, now, "mhttpd_refusals_total", { reason: "max_connections", status: "503" }), 1);
      }
      assert.equal(grew(was, now, "mhttpd_route_timeouts_total"), 3);
    });
  });

  describe(`metrics with workers 2 on ${runtime}`, () => {
    let srv: Server;
    before(async () => {
      // Deno: the supervisor starts the workers (--allow-run)
      const cmd = runtimeCommand(runtime);
      const command = runtime === "deno" ? [cmd[0], cmd[1], "--allow-run", ...cmd.slice(2)] : cmd;
      srv = await startServer(runtime, [ROUTE, "--workers", "2"], { command, cwd: ROOT, timeoutMs: 30000 });
    });
    after(async () => {
      await srv?.stop();
    });

    it("one scrape has the requests of both workers, and keeps a killed worker's", async () => {
      const pids = new Map<number, number>();
      let sent = 0;
      while ((pids.size < 2 || sent < 10) && sent < 400) {
        const r = await request(srv.port, "GET", "/hit");
        assert.equal(statusOf(r), 200, r.raw.toString("latin1"));
        const pid = Number(/pid=(\d+)/.exec(r.responses[0].body.toString())![1]);
        pids.set(pid, (pids.get(pid) ?? 0) + 1);
        sent++;
      }
      assert.equal(pids.size, 2, `both workers answered: ${[...pids].join(" ")}`);
      const both = await scrape(srv.port);
      assert.equal(value(both, "mhttpd_requests_total", { method: "GET", status: "200" }), sent);
      assert.equal(value(both, "mhttpd_stat", { name: "hits" }), sent);
      assert.equal(value(both, "mhttpd_workers"), 2);
      assert.equal(value(both, "mhttpd_worker_restarts_total"), 0);
      // one worker killed: it is restarted, and what it had counted stays
      const [victim] = pids.keys();
      process.kill(victim, "SIGKILL");
      const end = Date.now() + 15000;
      while (!/is serving again/.test(srv.stderr()) && Date.now() < end) await sleep(50);
      assert.match(srv.stderr(), /worker \d \(pid \d+\) is serving again/);
      const after = await scrape(srv.port);
      assert.equal(value(after, "mhttpd_requests_total", { method: "GET", status: "200" }), sent);
      assert.equal(value(after, "mhttpd_stat", { name: "hits" }), sent);
      assert.equal(value(after, "mhttpd_worker_restarts_total"), 1);
      assert.equal(value(after, "mhttpd_workers"), 2);
    });
  });
}
