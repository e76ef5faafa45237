// Issue 5 on every runtime: reply headers and the request attributes that the C
// module lacks (query, arguments, target, ports, local address, scheme, header counts).
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES, RUNTIMES, httpRequest, rawRequest, runToExit, sleep, startServer, waitForLog, type Server, fields } from "./_harness.ts";

const ROUTE = path.join(FIXTURES, "kemi-route.ts");


for (const runtime of RUNTIMES) {
  describe(`reply headers and request details on ${runtime}`, () => {
    let srv: Server;
    before(async () => {
      srv = await startServer(runtime, [ROUTE, "--listen-addr", "127.0.0.1", "--listen-port", "0", "--event-callback", "extras"]);
    });
    after(async () => {
      await srv.stop();
    });

    it("adds reply headers, repeats Set-Cookie, keeps mhttpd_reply's ctype, refuses bad ones", async () => {
      const r = await rawRequest(srv.port, "GET /headers HTTP/1.1\r\nHost: x\r\n\r\n");
      const res = r.responses[0];
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "rcs=1,1,1,1,-1,-1,-1\n");
      assert.equal(res.headers["x-trace"], "abc");
      assert.equal(res.headers["content-type"], "text/plain");
      assert.equal(res.headers["x-evil"], undefined);
      const raw = r.raw.toString("latin1");
      assert.match(raw, /\r\nset-cookie: a=1; Path=\/\r\n/i);
      assert.match(raw, /\r\nset-cookie: b=2; Path=\/\r\n/i);
      await waitForLog(srv, /mhttpd_reply_header: invalid header name "Bad Name"/);
      await waitForLog(srv, /mhttpd_reply_header: invalid value for header X-Inject: contains CR \(0x0d\) at offset 1/);
      await waitForLog(srv, /mhttpd_reply_header: header Content-Length is set by the server/);
    });

    it("uses an added Content-Type when mhttpd_reply's ctype is empty", async () => {
      const r = await httpRequest(srv.port, "GET", "/untyped-with-header");
      assert.equal(r.responses[0].headers["content-type"], "application/json");
      assert.equal(r.responses[0].body.toString(), '{"ok":true}');
    });

    it("exposes query, arg:, target, srcport, dstip, dstport, scheme and hdrc:", async () => {
      const r = await rawRequest(srv.port, "GET /p/q?x=1&y=a%20b+c&x=2 HTTP/1.1\r\nHost: x\r\nX-A: one\r\nX-A: two\r\n\r\n");
      const f = fields(r.responses[0].body);
      assert.equal(f.query, "x=1&y=a%20b+c&x=2 (string)");
      assert.equal(f.target, "/p/q?x=1&y=a%20b+c&x=2 (string)");
      assert.equal(f["arg:x"], "1 (string)", "the first value");
      assert.equal(f["arg:y"], "a b c (string)", "decoded");
      assert.equal(f["arg:missing"], "null (object)");
      assert.match(f.srcport, /^\d+ \(number\)$/);
      assert.equal(f.dstip, "127.0.0.1 (string)");
      assert.equal(f.dstport, `${srv.port} (number)`);
      assert.equal(f.scheme, "http (string)");
      assert.equal(f["hdrc:X-A"], "2 (number)");
      assert.equal(f["hdrc:X-Missing"], "0 (number)");
      const none = await httpRequest(srv.port, "GET", "/plain");
      assert.equal(fields(none.responses[0].body).query, " (string)");
    });
  });
}

for (const runtime of RUNTIMES) {
  describe(`url filters and access log on ${runtime}`, () => {
    it("url_skip (checked first) and url_match keep requests out with 404; the route never runs", async () => {
      const srv = await startServer(runtime, [
        "--listen-addr", "127.0.0.1", "--listen-port", "0",
        "--url-skip", "^/api/private", "--url-match", "^/(api|health)([/?]|$)", "--access-log", "json",
      ]);
      try {
        const cases: [string, number][] = [["/health", 200], ["/api/users?x=1", 200], ["/api/private/x", 404], ["/other", 404], ["/API/users", 404]];
        for (const [target, status] of cases) {
          const r = await httpRequest(srv.port, "GET", target);
          assert.equal(r.responses[0].status, status, target);
        }
        await waitForLog(srv, /request: GET - url: \/api\/users/);
        await sleep(100);
        assert.doesNotMatch(srv.stderr(), /url: \/other|url: \/api\/private|url: \/API/, "kept-out requests never ran the route");
        // access_log json: one line per request on stdout, after the response
        const lines = srv.stdout().split("\n").filter((l) => l.startsWith("{"));
        assert.equal(lines.length, cases.length);
        const first = JSON.parse(lines[0]);
        assert.equal(first.client, "127.0.0.1");
        assert.equal(first.method, "GET");
        assert.equal(first.target, "/health");
        assert.equal(first.status, 200);
        assert.equal(first.bytes, 28);
        assert.equal(typeof first.duration_ms, "number");
        assert.ok(!Number.isNaN(Date.parse(first.time)));
        assert.equal(JSON.parse(lines[2]).status, 404);
      } finally {
        await srv.stop();
      }
    });

    it("access_log common: Common Log Format plus the duration; a dropped request has no status", async () => {
      const srv = await startServer(runtime, [ROUTE, "--listen-addr", "127.0.0.1", "--listen-port", "0", "--access-log", "common"]);
      try {
        await httpRequest(srv.port, "GET", "/ctype-empty?a=1");
        await rawRequest(srv.port, "GET /drop HTTP/1.1\r\nHost: x\r\n\r\n");
        const want = /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/ctype-empty\?a=1 HTTP\/1\.1" 200 16 [\d.]+ms$/m;
        const end = Date.now() + 3000;
        while (!(want.test(srv.stdout()) && /"GET \/drop HTTP\/1\.1" - /.test(srv.stdout())) && Date.now() < end) await sleep(20);
        assert.match(srv.stdout(), want);
        assert.match(srv.stdout(), /"GET \/drop HTTP\/1\.1" - - [\d.]+ms$/m);
      } finally {
        await srv.stop();
      }
    });

    it("a bad url_match is a start-up error naming it", async () => {
      const r = await runToExit(runtime, ["--url-match", "(unclosed"]);
      assert.equal(r.code, 78);
      assert.match(r.stderr.trim(), /^mhttpd: invalid url_match "\(unclosed" \(from --url-match\): .*; allowed: a POSIX extended regular expression/);
    });
  });
}

for (const runtime of RUNTIMES) {
  describe(`issue 5 in a .cfg route on ${runtime}`, () => {
    it("mhttpd_reply_header and the new $mhttpd attributes work in the native language", async () => {
      const srv = await startServer(runtime, [path.join(FIXTURES, "cfg", "extras.cfg"), "--listen-addr", "127.0.0.1", "--listen-port", "0"]);
      try {
        const r = await rawRequest(srv.port, "GET /a?x=1&x=2 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-A: 2\r\n\r\n");
        const res = r.responses[0];
        assert.equal(res.body.toString(), `q=x=1&x=2 x=1 t=/a?x=1&x=2 s=http c=2 dp=${srv.port}\n`);
        assert.equal(res.headers["x-trace"], "abc");
        assert.match(r.raw.toString("latin1"), /set-cookie: a=1\r\n(.*\r\n)*set-cookie: b=2\r\n/i);
        await waitForLog(srv, /extras\.cfg:\d+.*mhttpd_reply_header: invalid header name "Bad Name"/);
      } finally {
        await srv.stop();
      }
    });
  });
}
