// http_client on a live server under each runtime, through KSR.http_client (a
// TypeScript KEMI script loaded by test/fixtures/http-client/kemi.cfg, and the same
// script as a plain .ts route), against an upstream this test starts on loopback
// (test/_upstream.ts): return codes, the body kept, what reaches the upstream, and
// every way a call fails (refused, TLS, timeouts, redirect loops, huge bodies, bad
// header lines, bad URLs) as -1, an error log and $curlerror, never a hang.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES, RUNTIMES, fields, httpRequest, runToExit, startServer, waitForLog, type Server } from "./_harness.ts";
import { startUpstream, type Upstream } from "./_upstream.ts";

const DIR = path.join(FIXTURES, "http-client");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];

/** Ask the fixture route to make one call; its answer's fields. */
async function call(srv: Server, args: Record<string, string>) {
  const headers = Object.fromEntries(Object.entries(args).map(([k, v]) => [`X-${k}`, encodeURIComponent(v)]));
  const r = await httpRequest(srv.port, "GET", "/", { headers });
  assert.equal(r.responses.length, 1, `no answer to ${JSON.stringify(args)}`);
  const res = r.responses[0];
  const f = fields(res.body);
  const answer: Record<string, string> & { status: number; result: string } = Object.assign(f, { status: res.status, result: res.status === 200 ? (JSON.parse(f.result) as string) : "" });
  return answer;
}

let up: Upstream;
before(async () => {
  up = await startUpstream();
});
after(() => up.close());

const seenSince = (n: number) => up.seen.slice(n);
const header = (seen: { headers: [string, string][] }, name: string) => seen.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

for (const runtime of RUNTIMES) {
  describe(`http_client through KSR on ${runtime} (kemi.cfg)`, () => {
    let srv: Server;
    before(async () => {
      srv = await startServer(runtime, [path.join(DIR, "kemi.cfg"), ...LOCAL], { env: { UPSTREAM: up.base, UPSTREAM_DOWN: `http://127.0.0.1:${up.refusedPort}` } });
    });
    after(async () => {
      assert.equal((await srv.stop()).code, 0);
    });

    it("query: the status, the whole body (query_result 0) and a response header ($httprhdr)", async () => {
      const r = await call(srv, { Op: "query", Url: `${up.base}/text` });
      assert.equal(r.rc, "200");
      assert.equal(r.result, "first line\nsecond line\n");
      assert.equal(r.curlerror, "null");
      assert.equal(r.httprhdr, "text");
      assert.equal(r.curlerror7, "Couldn't connect to server", "$curlerror(7) is curl_easy_strerror(7)");
    });

    it("query_post_hdrs: POST with cURL's default Content-Type and every header line, as the upstream sees them", async () => {
      const n = up.seen.length;
      const r = await call(srv, { Op: "query_post_hdrs", Url: `${up.base}/echo`, Body: "a=1&b=2", Hdrs: "X-A: one\r\nX-B: two\r\n" });
      assert.equal(r.rc, "200");
      const [seen] = seenSince(n);
      assert.equal(seen.method, "POST");
      assert.equal(seen.body, "a=1&b=2");
      assert.deepEqual(header(seen, "content-type"), ["application/x-www-form-urlencoded"]);
      assert.deepEqual(header(seen, "x-a"), ["one"]);
      assert.deepEqual(header(seen, "x-b"), ["two"]);
      assert.deepEqual(header(seen, "user-agent"), ["mhttpd http_client"]);
      const typed = await call(srv, { Op: "query_post_hdrs", Url: `${up.base}/echo`, Body: "{}", Hdrs: "Content-Type: application/json" });
      assert.equal(typed.rc, "200");
      assert.deepEqual(header(up.seen.at(-1)!, "content-type"), ["application/json"], "hdrs replace the default");
    });

    it("a header line that would end the head, a CR, NUL or a line without a colon: -1, an error log, nothing sent", async () => {
      const bad: [string, RegExp][] = [
        ["X-A: 1\r\n\r\nGET /smuggled HTTP/1.1", /header line 2 is empty/],
        ["X-A: a\rb", /header X-A: the value contains CR/],
        ["X-A: a\u0000b", /header X-A: the value contains NUL/],
        ["no colon here", /header line 1 "no colon here" is not "Name: value"/],
        ["Bad Name: x", /is not "Name: value"/],
        ["X-A: \u0100", /contains U\+0100/],
        ["Content-Length: 1", /header Content-Length is set by fetch from the URL and the body/],
        ["Transfer-Encoding: chunked", /header Transfer-Encoding is set by fetch/],
        ["Host: internal.example", /header Host is set by fetch/],
      ];
      const n = up.seen.length;
      for (const [hdrs, log] of bad) {
        const r = await call(srv, { Op: "query_post_hdrs", Url: `${up.base}/echo`, Body: "x", Hdrs: hdrs });
        assert.equal(r.rc, "-1", JSON.stringify(hdrs));
        assert.equal(r.result, "");
        assert.equal(r.curlerror, "A libcurl function was given a bad argument");
        await waitForLog(srv, log);
      }
      assert.equal(up.seen.length, n, "no request reached the upstream");
      assert.equal((await call(srv, { Op: "query", Url: `${up.base}/text` })).rc, "200", "and the server still serves");
    });

    it("status codes: a 4xx keeps its body, a 5xx gives an empty result", async () => {
      const nf = await call(srv, { Op: "query", Url: `${up.base}/status/404` });
      assert.equal(nf.rc, "404");
      assert.equal(nf.result, "status 404\n");
      const unavailable = await call(srv, { Op: "query", Url: `${up.base}/status/503` });
      assert.equal(unavailable.rc, "503");
      assert.equal(unavailable.result, "");
      assert.equal(unavailable.curlerror, "null", "an answer is no transfer error");
    });

    it("redirects: not followed by default; followed on a connection with httpredirect=1; a loop is -1", async () => {
      const moved = await call(srv, { Op: "query", Url: `${up.base}/redirect` });
      assert.equal(moved.rc, "302");
      assert.equal(moved.result, "moved\n");
      const followed = await call(srv, { Op: "curl_connect", Con: "follow", Url: "/redirect" });
      assert.equal(followed.rc, "200");
      assert.equal(followed.result, "first line\nsecond line\n");
      const loop = await call(srv, { Op: "curl_connect", Con: "follow", Url: "/loop" });
      assert.equal(loop.rc, "-1");
      assert.equal(loop.curlerror, "Number of redirects hit maximum amount");
      await waitForLog(srv, /http_client\.curl_connect: GET http:\/\/127\.0\.0\.1:\d+\/loop failed: Number of redirects hit maximum amount \(cURL error 47\)/);
    });

    it("an unreachable server: -1, an error log naming the URL, $curlerror", async () => {
      const r = await call(srv, { Op: "query", Url: `http://127.0.0.1:${up.refusedPort}/x` });
      assert.equal(r.rc, "-1");
      assert.equal(r.result, "");
      assert.equal(r.curlerror, "Couldn't connect to server");
      await waitForLog(srv, new RegExp(`ERROR: <script>: http_client\\.query: GET http://127\\.0\\.0\\.1:${up.refusedPort}/x failed: Couldn't connect to server \\(cURL error 7\\)`));
    });

    it("TLS: a certificate that cannot be verified, a server that does not speak TLS", async () => {
      const selfSigned = await call(srv, { Op: "query", Url: `${up.tlsBase}/text` });
      assert.equal(selfSigned.rc, "-1");
      assert.equal(selfSigned.curlerror, "SSL peer certificate or SSH remote key was not OK");
      const plain = await call(srv, { Op: "query", Url: up.base.replace("http:", "https:") + "/text" });
      assert.equal(plain.rc, "-1");
      assert.equal(plain.curlerror, "SSL connect error");
    });

    it("connection_timeout (500 ms here): -1, Timeout was reached, and the upstream's request is abandoned", async () => {
      const r = await call(srv, { Op: "query", Url: `${up.base}/slow/5000` });
      assert.equal(r.rc, "-1");
      assert.equal(r.curlerror, "Timeout was reached");
      assert.ok(await up.waitForAbort("/slow/5000", 3000), "the upstream saw the connection closed");
      await waitForLog(srv, /failed: Timeout was reached \(cURL error 28\): no complete answer within 500 ms \(connection_timeout\)/);
    });

    it("route_timeout ends a transfer its connection would let run: 503 to the client, the upstream's request aborted", async () => {
      const r = await httpRequest(srv.port, "GET", "/", { headers: { "X-Op": "curl_connect", "X-Con": "patient", "X-Url": "/hang" } });
      assert.equal(r.responses[0]?.status, 503);
      assert.ok(await up.waitForAbort("/hang", 3000), "the fetch was aborted with the request's signal");
      await waitForLog(srv, /GET http:\/\/127\.0\.0\.1:\d+\/hang failed: Operation was aborted by an application callback \(cURL error 42\): route_timeout passed/);
    });

    it("a body is bounded: maxdatasize truncates it; without one, more than 8 MiB is -1 and the transfer is cut", async () => {
      const small = await call(srv, { Op: "curl_connect", Con: "small", Url: "/text" });
      assert.equal(small.rc, "200");
      assert.equal(small.result, "first line");
      const endless = await call(srv, { Op: "query", Url: `${up.base}/endless` });
      assert.equal(endless.rc, "-1");
      assert.equal(endless.curlerror, "Failed writing received data to disk/application");
      assert.ok(await up.waitForAbort("/endless", 3000), "the upstream's endless body was cut off");
      await waitForLog(srv, /the response body is larger than 8388608 bytes/);
    });

    it("only http and https URLs are fetched; a malformed URL is -1 too", async () => {
      const n = up.seen.length;
      for (const url of ["file:///etc/passwd", "data:text/plain,hello", "ftp://127.0.0.1/x", "blob:http://x/y"]) {
        const r = await call(srv, { Op: "query", Url: url });
        assert.equal(r.rc, "-1", url);
        assert.equal(r.curlerror, "Unsupported protocol", url);
      }
      for (const url of ["", "not a url", "http://"]) {
        const r = await call(srv, { Op: "query", Url: url });
        assert.equal(r.rc, "-1", JSON.stringify(url));
        assert.equal(r.curlerror, "URL using bad/illegal format or missing URL", JSON.stringify(url));
      }
      assert.equal(up.seen.length, n);
    });

    it("credentials in the URL go as Basic authorization, not in the URL", async () => {
      const n = up.seen.length;
      const r = await call(srv, { Op: "query", Url: `${up.base.replace("//", "//us%40er:p%3Ass@")}/echo` });
      assert.equal(r.rc, "200");
      const odd = await call(srv, { Op: "query", Url: `${up.base.replace("//", "//a%zz:b@")}/echo` });
      assert.equal(odd.rc, "200", "a % that is no escape is sent as written");
      const [seen, oddSeen] = seenSince(n);
      assert.deepEqual(header(seen, "authorization"), [`Basic ${Buffer.from("us@er:p:ss").toString("base64")}`]);
      assert.deepEqual(header(oddSeen, "authorization"), [`Basic ${Buffer.from("a%zz:b").toString("base64")}`]);
      assert.equal(seen.url, "/echo");
    });

    it("a failover connection is tried once when the first one fails", async () => {
      const r = await call(srv, { Op: "curl_connect", Con: "down", Url: "text" });
      assert.equal(r.rc, "200");
      assert.equal(r.result, "first line\nsecond line\n");
      await waitForLog(srv, /connection "down" failed \(Couldn't connect to server\): trying failover connection "up"/);
    });

    it("curl_connect_post, query_request and get_hdrs send what they are given", async () => {
      const n = up.seen.length;
      assert.equal((await call(srv, { Op: "curl_connect_post", Con: "up", Url: "/echo", Ctype: "application/json", Body: '{"a":1}' })).rc, "200");
      assert.equal((await call(srv, { Op: "query_request", Method: "PUT", Url: `${up.base}/echo`, Body: "put body", Hdrs: "X-Put: yes" })).rc, "200");
      assert.equal((await call(srv, { Op: "get_hdrs", Url: `${up.base}/echo?q=1`, Hdrs: "X-Get: yes" })).rc, "200");
      const [post, put, get] = seenSince(n);
      assert.deepEqual([post.method, post.url, post.body, header(post, "content-type")[0]], ["POST", "/echo", '{"a":1}', "application/json"]);
      assert.deepEqual([put.method, put.body, header(put, "x-put")[0]], ["PUT", "put body", "yes"]);
      assert.deepEqual([get.method, get.url, header(get, "x-get")[0]], ["GET", "/echo?q=1", "yes"]);
    });

    it("what fetch cannot send is -1 before anything goes out: a body with GET, a method that is no token, CONNECT", async () => {
      const n = up.seen.length;
      for (const [args, why] of [
        [{ Op: "get_hdrs", Url: `${up.base}/echo`, Body: "x" }, /fetch cannot send a body with GET/],
        [{ Op: "query_request", Method: "GET /x HTTP/1.1\r\nX:", Url: `${up.base}/echo` }, /is not an HTTP token/],
        [{ Op: "query_request", Method: "CONNECT", Url: `${up.base}/echo` }, /fetch does not send CONNECT requests/],
      ] as const) {
        assert.equal((await call(srv, args)).rc, "-1", JSON.stringify(args));
        await waitForLog(srv, why);
      }
      assert.equal(up.seen.length, n);
    });

    it("the result variable must be writable: -1 and an error log", async () => {
      assert.equal((await call(srv, { Op: "query", Url: `${up.base}/text`, Dst: "$mhttpd(url)" })).status, 200);
      await waitForLog(srv, /http_client\.query: the result variable "\$mhttpd\(url\)" is read-only/);
    });

    it("another request is answered while one waits for a slow upstream", async () => {
      const order: string[] = [];
      const slow = call(srv, { Op: "curl_connect", Con: "patient", Url: "/slow/1200" }).then((r) => (order.push("slow"), r));
      // the slow call is in flight once the upstream has seen it
      const end = Date.now() + 3000;
      while (!up.seen.some((s) => s.url === "/slow/1200") && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const fast = await call(srv, { Op: "query", Url: `${up.base}/text` });
      order.push("fast");
      assert.equal(fast.rc, "200");
      assert.equal((await slow).rc, "200");
      assert.deepEqual(order, ["fast", "slow"]);
    });

    it("concurrent calls keep their results and $curlerror apart", async () => {
      const rs = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          call(srv, i % 2 ? { Op: "query", Url: `${up.base}/echo?i=${i}`, Dst: `$var(r${i})` } : { Op: "query", Url: `http://127.0.0.1:${up.refusedPort}/?i=${i}`, Dst: `$var(r${i})` }),
        ),
      );
      rs.forEach((r, i) => {
        if (i % 2) {
          assert.equal(r.rc, "200", `#${i}`);
          assert.equal(JSON.parse(r.result).url, `/echo?i=${i}`);
          assert.equal(r.curlerror, "null", `#${i}`);
        } else {
          assert.equal(r.rc, "-1", `#${i}`);
          assert.equal(r.curlerror, "Couldn't connect to server", `#${i}`);
        }
      });
    });
  });

  describe(`http_client on ${runtime}: a plain .ts route and start-up errors`, () => {
    it("with no modparams: the first line only (query_result 1), 4 s timeout", async () => {
      const srv = await startServer(runtime, [path.join(DIR, "route.ts"), ...LOCAL]);
      try {
        const r = await call(srv, { Op: "query", Url: `${up.base}/text` });
        assert.equal(r.rc, "200");
        assert.equal(r.result, "first line");
        assert.equal(r.httprhdr, "null", "response_headers is 0 by default");
        const missing = await call(srv, { Op: "curl_connect", Con: "nosuch", Url: "/" });
        assert.equal(missing.rc, "-1");
        await waitForLog(srv, /http_client\.curl_connect: no connection "nosuch" \(declare it with modparam\("http_client", "httpcon", "nosuch=>http:\/\/host\/path"\)\)/);
      } finally {
        assert.equal((await srv.stop()).code, 0);
      }
    });

    it("refuses what fetch cannot do, naming the modparam and where it is", async () => {
      const r = await runToExit(runtime, [path.join(DIR, "refused.cfg"), ...LOCAL]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /refused\.cfg:6:1: modparam\("http_client", "verify_peer", \.\.\.\): verify_peer 0 is not supported: server certificates are always verified over fetch/);
      assert.doesNotMatch(r.stdout, /listening/);
    });
  });
}
