// The behaviour suite of the portable core, run against a live server under each
// of Bun, Deno and Node (real sockets, the same cases everywhere).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import path from "node:path";
import { FIXTURES, RUNTIMES, httpRequest, rawRequest, sleep, startServer, waitForLog, type Server, fields } from "./_harness.ts";

const ROUTE = path.join(FIXTURES, "kemi-route.ts");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];


for (const runtime of RUNTIMES) {
  describe(`core on ${runtime}`, () => {
    let srv: Server;
    before(async () => {
      srv = await startServer(runtime, [ROUTE, ...LOCAL]);
    });
    after(async () => {
      const r = await srv.stop("SIGTERM");
      assert.equal(r.code, 0, `clean exit on SIGTERM (${runtime})`);
    });

    it("exposes every $mhttpd variable with Kamailio's types and null conventions", async () => {
      const r = await httpRequest(srv.port, "GET", "/a/b?x=1&y=%20z", { headers: { "X-A": "  padded value" } });
      assert.equal(r.responses.length, 1);
      const f = fields(r.responses[0].body);
      assert.equal(f.evname, "microhttpd:request (string)");
      assert.equal(f.method, "GET (string)");
      assert.equal(f.url, "/a/b (string)");
      assert.equal(f.version, "HTTP/1.1 (string)");
      assert.equal(f.size, "0 (number)");
      assert.equal(f.srcip, "127.0.0.1 (string)");
      assert.equal(f["h:Host"], "127.0.0.1 (string)");
      assert.equal(f["H:HOST"], "127.0.0.1 (string)");
      assert.equal(f.METHOD, "GET (string)");
      assert.equal(f["h:X-A"], "padded value (string)");
      assert.equal(f["h:X-Missing get"], "null (object)");
      assert.equal(f["h:X-Missing gete"], " (string)");
      assert.equal(f["h:X-Missing getw"], "<null> (string)");
      assert.equal(f["h:X-Missing geti"], "0 (number)");
      assert.equal(f["h:X-Missing is_null"], "true (boolean)");
      assert.equal(f["size geti"], "0 (number)");
      assert.equal(f["bad get"], "null (object)");
      assert.equal(f["bad is_null"], "true (boolean)");
      assert.equal(f.data, "[]");
      await waitForLog(srv, /ERROR: <script>: pv: unknown \$mhttpd attribute "nosuch"/);
    });

    it("decodes the path as libmicrohttpd does, without the query", async () => {
      const cases: [string, string][] = [
        ["/p%20q/r%2Fs/t+u/%41%zz", "/p q/r/s/t+u/A%zz"],
        ["/?a=b", "/"],
        ["/x%00y", "/x"],
        ["/caf%C3%A9", "/café"],
      ];
      for (const [target, url] of cases) {
        const r = await httpRequest(srv.port, "GET", target);
        assert.equal(fields(r.responses[0].body).url, `${url} (string)`, target);
      }
    });

    it("gives the body as data and its byte length as size", async () => {
      const r = await httpRequest(srv.port, "POST", "/post", { body: "hello wörld" });
      const f = fields(r.responses[0].body);
      assert.equal(f.size, "12 (number)");
      assert.equal(f.data, "[hello wörld]");
    });

    it("decodes a chunked body, and sees a split body whole", async () => {
      const chunked = await rawRequest(
        srv.port,
        "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n chunky\r\n0\r\n\r\n",
      );
      assert.equal(fields(chunked.responses[0].body).data, "[hello chunky]");
      const split = await rawRequest(srv.port, ["POST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello", " world"], { gapMs: 150 });
      assert.equal(fields(split.responses[0].body).data, "[hello world]");
    });

    it("echoes a binary body byte for byte (no cut at NUL)", async () => {
      const bin = Buffer.from([0x41, 0x42, 0x00, 0x43, 0x44, 0xff, 0xfe, 0x80, 0x7f, 0x5a]);
      const r = await httpRequest(srv.port, "PUT", "/binary", { body: bin });
      assert.equal(r.responses[0].status, 200);
      assert.deepEqual(r.responses[0].body, bin);
      const len = await httpRequest(srv.port, "PUT", "/length", { body: bin });
      assert.match(len.responses[0].body.toString(), /^10 /);
    });

    it("round-trips a 1 MiB body", async () => {
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
      const r = await rawRequest(
        srv.port,
        Buffer.concat([Buffer.from(`POST /binary HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n`), big]),
        { timeoutMs: 15000 },
      );
      assert.equal(r.responses.length, 1);
      assert.ok(r.responses[0].body.equals(big), "1 MiB body comes back unchanged");
    });

    it("joins a repeated header as the Fetch API does", async () => {
      const r = await rawRequest(srv.port, "GET /dup HTTP/1.1\r\nHost: x\r\nX-A: first\r\nX-A: second\r\n\r\n");
      assert.equal(fields(r.responses[0].body)["h:X-A"], "first, second (string)");
    });

    it("sends valid replies with the standard phrase and the given content type", async () => {
      for (const [code, line] of [
        ["200", "200 OK"],
        ["404", "404 Not Found"],
        ["503", "503 Service Unavailable"],
      ]) {
        const r = await httpRequest(srv.port, "GET", `/code/${code}`);
        assert.equal(r.responses[0].statusLine, `HTTP/1.1 ${line}`);
        assert.equal(r.responses[0].headers["content-type"], "text/plain");
        assert.equal(r.responses[0].body.toString(), `code ${code}\n`);
      }
      for (const code of ["299", "418", "599"]) {
        const r = await httpRequest(srv.port, "GET", `/code/${code}`);
        assert.equal(r.responses[0].status, Number(code));
        assert.equal(r.responses[0].body.toString(), `code ${code}\n`);
      }
    });

    it("refuses codes outside 200..599 with -1 and answers 500", async () => {
      for (const code of ["99", "100", "101", "199", "600", "699", "700", "abc"]) {
        const r = await httpRequest(srv.port, "GET", `/code/${code}`);
        assert.equal(r.responses[0].status, 500, `code ${code}`);
        await waitForLog(srv, new RegExp(`code ${code} rc=-1`));
      }
      await waitForLog(srv, /mhttpd_reply: invalid reply code 100: 1xx codes are interim/);
      await waitForLog(srv, /mhttpd_reply: invalid reply code 600: 6xx codes cannot be represented/);
    });

    it("sends no body for 204 and 304, and none for HEAD", async () => {
      for (const code of ["204", "304"]) {
        const r = await httpRequest(srv.port, "GET", `/code/${code}`);
        assert.equal(r.responses[0].status, Number(code));
        assert.equal(r.responses[0].body.length, 0);
      }
      const head = await rawRequest(srv.port, "HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n", {
        expect: 2,
        methods: ["HEAD", "GET"],
      });
      assert.equal(head.responses.length, 2, "the HEAD response has no body, so the next response follows directly");
      assert.equal(fields(head.responses[1].body).url, "/after (string)");
    });

    it("refuses an empty reason and CR/LF in reason or content type (no header injection)", async () => {
      for (const p of ["/reason-empty", "/reason-crlf", "/ctype-crlf"]) {
        const r = await httpRequest(srv.port, "GET", p);
        assert.equal(r.responses[0].status, 500, p);
        assert.equal(r.responses[0].headers["x-injected"], undefined);
        await waitForLog(srv, new RegExp(`${p.slice(1)} rc=-1`));
      }
    });

    it("sends no Content-Type for an empty ctype, and Content-Length 0 for an empty body", async () => {
      const r = await httpRequest(srv.port, "GET", "/ctype-empty");
      assert.equal(r.responses[0].status, 200);
      assert.equal(r.responses[0].headers["content-type"], undefined);
      assert.equal(r.responses[0].body.toString(), "no content type\n");
      const e = await httpRequest(srv.port, "GET", "/body-empty");
      assert.equal(e.responses[0].headers["content-length"], "0");
    });

    it("keeps the first reply when the route replies twice", async () => {
      const r = await httpRequest(srv.port, "GET", "/twice");
      assert.equal(r.responses[0].status, 200);
      assert.equal(r.responses[0].body.toString(), "first reply\n");
      await waitForLog(srv, /twice rc=1,-1/);
    });

    it("answers 500 with one warning when the route sends no reply", async () => {
      const before = (srv.stderr().match(/route ended without a reply for GET \/noreply/g) ?? []).length;
      const r = await httpRequest(srv.port, "GET", "/noreply");
      assert.equal(r.responses[0].status, 500);
      await sleep(50);
      const afterCount = (srv.stderr().match(/route ended without a reply for GET \/noreply/g) ?? []).length;
      assert.equal(afterCount - before, 1, "exactly one warning, and the route ran once");
      assert.equal((srv.stderr().match(/not replying/g) ?? []).length, 1);
    });

    it("answers 500 and logs the stack when the route throws or rejects, and keeps serving", async () => {
      for (const p of ["/throw", "/reject"]) {
        const r = await httpRequest(srv.port, "GET", p);
        assert.equal(r.responses[0].status, 500, p);
      }
      // the stack on the same line, its newlines escaped (one event, one line)
      await waitForLog(srv, /ERROR: <core>: route failed on GET \/throw: Error: thrown on purpose\\x0a\s+at /);
      await waitForLog(srv, /route failed on GET \/reject: Error: rejected on purpose/);
      const thenOk = await httpRequest(srv.port, "GET", "/still-alive");
      assert.equal(thenOk.responses[0].status, 200);
      const replied = await httpRequest(srv.port, "GET", "/reply-then-throw");
      assert.equal(replied.responses[0].body.toString(), "replied before throw\n", "a reply queued before the throw stands");
    });

    it("drop closes the connection without a complete response, even after a reply", async () => {
      for (const p of ["/drop", "/reply-then-drop"]) {
        const r = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.equal(r.responses.length, 0, `${p}: no complete response`);
        assert.ok(r.serverClosed, `${p}: the server closed the connection`);
        // Node and Bun close without writing a byte; Deno can only cut the response short
        if (runtime !== "deno") assert.equal(r.raw.length, 0, `${p}: nothing written`);
      }
      const ok = await httpRequest(srv.port, "GET", "/after-drop");
      assert.equal(ok.responses[0].status, 200);
    });

    it("exit ends the route: a queued reply is sent, no reply means 500", async () => {
      const r = await httpRequest(srv.port, "GET", "/exit");
      assert.equal(r.responses[0].body.toString(), "replied before exit\n");
      const n = await httpRequest(srv.port, "GET", "/exit-noreply");
      assert.equal(n.responses[0].status, 500);
    });

    it("keeps 500 concurrent async requests apart (global KSR across awaits)", async () => {
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          httpRequest(srv.port, "POST", "/async", { headers: { "X-Id": String(i) }, body: `payload-${i}` }),
        ),
      );
      results.forEach((r, i) => {
        assert.equal(r.responses.length, 1, `request ${i} answered`);
        assert.equal(r.responses[0].body.toString(), `${i}:payload-${i}:/async`);
      });
    });

    it("serves keep-alive and pipelined requests in order", async () => {
      const r = await rawRequest(
        srv.port,
        "GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz",
        { expect: 2, methods: ["GET", "POST"] },
      );
      assert.equal(r.responses.length, 2);
      assert.equal(fields(r.responses[0].body).url, "/p1 (string)");
      assert.equal(fields(r.responses[1].body).data, "[xyz]");
    });

    it("logs with timestamp and level, filtered by debug (default info)", async () => {
      const r = await httpRequest(srv.port, "GET", "/log");
      assert.equal(r.responses[0].body.toString(), "debug=2");
      await sleep(50);
      const err = srv.stderr();
      assert.match(err, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO: <script>: log info line$/m);
      assert.match(err, /NOTICE: <script>: log notice line/);
      assert.match(err, /WARNING: <script>: log warn line/);
      assert.match(err, /ERROR: <script>: log err line/);
      assert.match(err, /CRITICAL: <script>: log crit line/);
      assert.match(err, /INFO: <script>: log via KSR.log/);
      assert.doesNotMatch(err, /log dbg line/);
    });
  });
}
