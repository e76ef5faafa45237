// Log forging (issue 13): whatever a request holds, each event is one line on
// stderr and each request one line in the access log, and the access log shows
// what was sent. Live on Bun, Deno and Node over raw sockets.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES, RUNTIMES, rawRequest, sleep, startServer, waitForLog, type RawResult, type Server } from "./_harness.ts";

const ROUTE = path.join(FIXTURES, "logs", "route.ts");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];
const FORGED_TIME = "2026-11-30T04:05:00.000Z";

/** A line the Logger wrote, or one of the adapters' own `mhttpd: ...` lines:
 * anything else on stderr is a piece of an event that was split. */
const EVENT_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?:\[worker \d+\] )?(ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG): |mhttpd: )/;

/** Common Log Format plus the duration, with the quoted request field escaped
 * as nginx's escape=default: no raw `"`, `\` or byte outside 0x20..0x7E in it. */
const CLF_LINE = /^(?:[0-9A-Fa-f.:]+|-) - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "(?:[^"\\\x00-\x1f\x7f-\uffff]|\\x[0-9A-F]{2})*" (?:\d{3}|-) (?:\d+|-) [\d.]+ms$/;

const LINE_BREAKERS = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

function assertOneLinePerEvent(srv: Server): void {
  for (const line of srv.stderr().split("\n")) {
    if (line === "") continue;
    assert.match(line, EVENT_LINE, `${srv.runtime}: a stderr line that is not the start of an event`);
    assert.doesNotMatch(line, LINE_BREAKERS, `${srv.runtime}: a control character left raw in ${JSON.stringify(line)}`);
  }
  assert.ok(!srv.stderr().split("\n").some((l) => l.startsWith(FORGED_TIME)), `${srv.runtime}: a forged line on stderr`);
}

/** The access log's lines so far (stdout less the listening line). */
const accessLines = (srv: Server) => srv.stdout().split("\n").filter((l) => l !== "" && !l.startsWith("mhttpd listening on "));

/** The access log once the lines of earlier requests are out (each is written
 * a moment after its response). */
async function settledAccessLines(srv: Server): Promise<string[]> {
  await sleep(150);
  return accessLines(srv);
}

async function waitForAccessLines(srv: Server, n: number, timeoutMs = 3000): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  while (accessLines(srv).length < n && Date.now() < end) await sleep(20);
  // a moment more: a line too many would come now
  await sleep(100);
  return accessLines(srv);
}

/** A response the route (or mhttpd) made: the runtimes' own refusals of a bad
 * request (400, 505) carry no body and never reach the access log. */
const fromMhttpd = (r: RawResult) => (r.responses[0]?.body.length ?? 0) > 0;

const request = (port: number, head: string, body = "") =>
  rawRequest(port, Buffer.concat([Buffer.from(`${head}\r\nConnection: close\r\n${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ""}\r\n`, "latin1"), Buffer.from(body)]));

for (const runtime of RUNTIMES) {
  describe(`log lines and the json access log on ${runtime} (the default route)`, () => {
    let srv: Server;
    before(async () => {
      srv = await startServer(runtime, [...LOCAL, "--access-log", "json"]);
    });
    after(async () => {
      await srv.stop();
    });

    it("a decoded URL holding a newline and a forged line stays one line, the newline as \\x0a", async () => {
      const r = await request(srv.port, `GET /a%0a${FORGED_TIME}%20ERROR:%20<core>:%20forged HTTP/1.1\r\nHost: x`);
      assert.equal(r.responses[0]?.status, 200);
      const log = await waitForLog(srv, /request: GET - url: \/a/);
      const lines = log.split("\n").filter((l) => l.includes("request: GET - url: /a"));
      assert.equal(lines.length, 1, log);
      assert.match(lines[0], new RegExp(`Z INFO: <script>: request: GET - url: /a\\\\x0a${FORGED_TIME.replace(/\./g, "\\.")} ERROR: <core>: forged - data: \\[\\]$`));
      assertOneLinePerEvent(srv);
    });

    it("a POST body with CR and LF through the documented example's xinfo stays one line", async () => {
      const body = `hello\r\n${FORGED_TIME} ERROR: <core>: forged by a body\r\n`;
      const r = await request(srv.port, "POST /x HTTP/1.1\r\nHost: x", body);
      assert.equal(r.responses[0]?.status, 200);
      const log = await waitForLog(srv, /request: POST - url: \/x/);
      const lines = log.split("\n").filter((l) => l.includes("request: POST - url: /x"));
      assert.equal(lines.length, 1, log);
      assert.match(lines[0], new RegExp(`INFO: <script>: request: POST - url: /x - data: \\[hello\\\\x0d\\\\x0a${FORGED_TIME.replace(/\./g, "\\.")} ERROR: <core>: forged by a body\\\\x0d\\\\x0a\\]$`));
      assertOneLinePerEvent(srv);
    });

    it("json: one JSON object per request, no raw C1 control or U+2028/U+2029 to split a line reader", async () => {
      const before = (await settledAccessLines(srv)).length;
      // Deno builds the request's URL from the Host header as it came: these reached
      // the target there (elsewhere the runtime refuses or rewrites them); such a
      // Host now gets 400 from mhttpd, which is logged too
      const results = [
        await request(srv.port, "GET /json-1 HTTP/1.1\r\nHost: x"),
        await request(srv.port, "GET /json-2 HTTP/1.1\r\nHost: h/\xc2\x85\xe2\x80\xa8\xe2\x80\xa9\"\\"),
      ];
      assert.ok(fromMhttpd(results[0]), "the plain request is answered");
      const answered = results.filter(fromMhttpd).length;
      const lines = (await waitForAccessLines(srv, before + answered)).slice(before);
      assert.equal(lines.length, answered, lines.join("\n"));
      for (const line of lines) {
        assert.doesNotMatch(line, LINE_BREAKERS, JSON.stringify(line));
        const entry = JSON.parse(line);
        assert.ok(entry.target === "/json-1" ? entry.status === 200 : entry.status === 400, line);
        assert.equal(entry.client, "127.0.0.1");
      }
    });
  });

  describe(`common access log and route errors on ${runtime}`, () => {
    let srv: Server;
    before(async () => {
      srv = await startServer(runtime, [ROUTE, ...LOCAL, "--access-log", "common", "--trusted-proxies", "127.0.0.1", "--route-timeout", "1"]);
    });
    after(async () => {
      await srv.stop();
    });

    it("a route's stack trace is one line, its frames joined by \\x0a", async () => {
      const r = await request(srv.port, "GET /throw HTTP/1.1\r\nHost: x");
      assert.equal(r.responses[0]?.status, 500);
      const log = await waitForLog(srv, /route failed on GET \/throw/);
      const lines = log.split("\n").filter((l) => l.includes("route failed on GET /throw"));
      assert.equal(lines.length, 1);
      assert.match(lines[0], /ERROR: <core>: route failed on GET \/throw: Error: thrown on purpose\\x0a2026-11-30T04:05:00\.000Z ERROR: <core>: forged by a message\\x0a +at /);
      assertOneLinePerEvent(srv);
    });

    it("common: `\"`, `\\` and bytes outside ASCII from the target, Host and X-Forwarded-For are escaped, one line per request", async () => {
      const before = (await settledAccessLines(srv)).length;
      const results = [
        await request(srv.port, 'GET /ok-1"q HTTP/1.1\r\nHost: x'),
        await request(srv.port, "GET /ok-2\\q HTTP/1.1\r\nHost: x"),
        await request(srv.port, 'GET /ok-3 HTTP/1.1\r\nHost: h/" 200 5 1ms" "forged'),
        await request(srv.port, "GET /ok-4 HTTP/1.1\r\nHost: h/\xc2\x85\xe2\x80\xa8\\"),
        await request(srv.port, 'GET /ok-5 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.1"\t\x80 - - [forged'),
      ];
      assert.ok(fromMhttpd(results[0]), "the request with a quote in its target is answered");
      assert.ok(fromMhttpd(results[4]), "the request with a hostile X-Forwarded-For is answered");
      const answered = results.filter(fromMhttpd).length;
      const lines = (await waitForAccessLines(srv, before + answered)).slice(before);
      assert.equal(lines.length, answered, lines.join("\n"));
      for (const line of lines) assert.match(line, CLF_LINE);
      // the runtime percent-encodes the quote (Bun, Node) or passes it (Deno): raw, never
      assert.match(lines[0], /"GET \/ok-1(%22|\\x22)q HTTP\/1\.1" 200 3 /);
      // an X-Forwarded-For entry that is not an address: the client is unknown, never the proxy
      assert.match(lines.at(-1)!, /^- - - \[.*\] "GET \/ok-5 HTTP\/1\.1" 200 3 /);
    });

    it("common: the status and bytes that were sent: 503 for a queued reply past route_timeout, 500 for a throw, - for a drop", async () => {
      const before = (await settledAccessLines(srv)).length;
      const late = await request(srv.port, "GET /reply-then-hang HTTP/1.1\r\nHost: x");
      assert.equal(late.responses[0]?.statusLine, "HTTP/1.1 503 Service Unavailable");
      assert.equal(late.responses[0].body.toString(), "Service Unavailable\n");
      const thrown = await request(srv.port, "GET /throw HTTP/1.1\r\nHost: x");
      assert.equal(thrown.responses[0]?.status, 500);
      const dropped = await request(srv.port, "GET /drop HTTP/1.1\r\nHost: x");
      assert.equal(dropped.responses.length, 0, "a drop sends no response");
      const ok = await request(srv.port, "GET /ok-6 HTTP/1.1\r\nHost: x");
      assert.equal(ok.responses[0]?.status, 200);
      const lines = (await waitForAccessLines(srv, before + 4)).slice(before);
      assert.equal(lines.length, 4, lines.join("\n"));
      assert.match(lines[0], /"GET \/reply-then-hang HTTP\/1\.1" 503 20 [\d.]+ms$/);
      assert.match(lines[1], /"GET \/throw HTTP\/1\.1" 500 22 [\d.]+ms$/);
      assert.match(lines[2], /"GET \/drop HTTP\/1\.1" - - [\d.]+ms$/);
      assert.match(lines[3], /"GET \/ok-6 HTTP\/1\.1" 200 3 [\d.]+ms$/);
      assertOneLinePerEvent(srv);
    });
  });
}
