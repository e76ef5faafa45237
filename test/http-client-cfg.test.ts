// http_client's cfg functions on a live server under each runtime
// (test/fixtures/http-client/native.cfg) against a loopback upstream: the route
// awaits each call, other requests run meanwhile, and the codes, results and
// failures are those of the KEMI suite (test/http-client.test.ts). These need the
// compiler that turns a route reaching an async function into awaiting closures;
// a build without it refuses native.cfg at start-up, and then these tests are
// skipped, saying so.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { FIXTURES, RUNTIMES, fields, httpRequest, runToExit, startServer, waitForLog, type Server } from "./_harness.ts";
import { startUpstream, type Upstream } from "./_upstream.ts";

const CFG = path.join(FIXTURES, "http-client", "native.cfg");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];
const SYNC_ONLY = /waits for the network and this build runs cfg routes synchronously/;

let up: Upstream;
before(async () => {
  up = await startUpstream();
});
after(() => up.close());

async function call(srv: Server, args: Record<string, string>) {
  const headers = Object.fromEntries(Object.entries(args).map(([k, v]) => [`X-${k}`, encodeURIComponent(v)]));
  const r = await httpRequest(srv.port, "GET", "/", { headers });
  assert.equal(r.responses.length, 1, `no answer to ${JSON.stringify(args)}`);
  const f = fields(r.responses[0].body);
  return Object.assign(f, { status: r.responses[0].status, result: Buffer.from(f.result ?? "", "base64").toString() });
}

for (const runtime of RUNTIMES) {
  describe(`http_client in a .cfg route on ${runtime}`, () => {
    let srv: Server | undefined;
    let waiting: string | undefined;
    const env = () => ({ UPSTREAM: up.base, UPSTREAM_DOWN: `http://127.0.0.1:${up.refusedPort}` });
    before(async () => {
      const check = await runToExit(runtime, ["-c", CFG], env());
      if (check.code !== 0 && SYNC_ONLY.test(check.stderr)) {
        waiting = "this build's cfg compiler runs routes synchronously: waiting for the async compiler (branch i18async)";
        return;
      }
      srv = await startServer(runtime, [CFG, ...LOCAL], { env: env() });
    });
    after(async () => {
      if (srv) assert.equal((await srv.stop()).code, 0);
    });
    const live = (t: TestContext): Server | undefined => {
      if (waiting) t.skip(waiting);
      return srv;
    };

    it("http_client_query: GET, POST, POST with header lines; the first line kept (query_result 1)", async (t) => {
      const s = live(t);
      if (!s) return;
      const get = await call(s, { Op: "query", Url: `${up.base}/text` });
      assert.deepEqual([get.rc, get.result, get.curlerror, get.httprhdr], ["200", "first line", "<null>", "text"]);
      const n = up.seen.length;
      assert.equal((await call(s, { Op: "post", Url: `${up.base}/echo`, Body: "a=1" })).rc, "200");
      assert.equal((await call(s, { Op: "post_hdrs", Url: `${up.base}/echo`, Body: "b=2", A: "1", B: "2" })).rc, "200");
      const [post, withHeaders] = up.seen.slice(n);
      assert.deepEqual([post.method, post.body], ["POST", "a=1"]);
      assert.deepEqual(withHeaders.headers.filter(([k]) => /^x-[ab]$/i.test(k)).map(([, v]) => v), ["1", "2"]);
    });

    it("http_client_get and http_client_request send what they are given", async (t) => {
      const s = live(t);
      if (!s) return;
      const n = up.seen.length;
      // an empty body (an absent X-Body would make $var(body) 0, as $var is never null)
      assert.equal((await call(s, { Op: "get", Url: `${up.base}/echo?x=1`, A: "yes", Body: "" })).rc, "200", s.stderr().slice(-1500));
      assert.equal((await call(s, { Op: "request", Method: "DELETE", Url: `${up.base}/echo`, Body: "gone" })).rc, "200");
      const [get, del] = up.seen.slice(n);
      assert.deepEqual([get.method, get.url], ["GET", "/echo?x=1"]);
      assert.deepEqual([del.method, del.body], ["DELETE", "gone"]);
    });

    it("http_connect: GET and POST on a connection, raw data as written, redirects followed where asked, a failover", async (t) => {
      const s = live(t);
      if (!s) return;
      const got = await call(s, { Op: "connect", Url: "/text" });
      assert.deepEqual([got.rc, got.result], ["200", "first line\nsecond line\n"], "http_connect keeps the whole body");
      const n = up.seen.length;
      assert.equal((await call(s, { Op: "connect_post", Url: "echo", Body: '{"k":1}' })).rc, "200");
      assert.equal((await call(s, { Op: "connect_raw", Url: "/echo" })).rc, "200");
      const [post, raw] = up.seen.slice(n);
      assert.deepEqual([post.method, post.url, post.body], ["POST", "/echo", '{"k":1}']);
      assert.equal(raw.body, "sent as $written");
      const followed = await call(s, { Op: "follow", Url: "/redirect" });
      assert.deepEqual([followed.rc, followed.where], ["200", `${up.base}/text`]);
      const failover = await call(s, { Op: "down", Url: "/text" });
      assert.equal(failover.rc, "200");
    });

    it("a failure is -1 (false in an if), an error log with file and line, and $curlerror", async (t) => {
      const s = live(t);
      if (!s) return;
      const refused = await call(s, { Op: "if", Url: `http://127.0.0.1:${up.refusedPort}/` });
      assert.equal(refused.rc, "false -1");
      assert.equal(refused.curlerror, "Couldn't connect to server");
      await waitForLog(s, /ERROR: <script>: .*native\.cfg:\d+: http_client_query: GET http:\/\/127\.0\.0\.1:\d+\/ failed: Couldn't connect to server \(cURL error 7\)/);
      const slow = await call(s, { Op: "query", Url: `${up.base}/slow/5000` });
      assert.deepEqual([slow.rc, slow.curlerror], ["-1", "Timeout was reached"]);
      // a value from the request holding CR LF: refused, never a header line of its own
      const n = up.seen.length;
      const injected = await call(s, { Op: "post_hdrs", Url: `${up.base}/echo`, Body: "x", A: "1\r\nX-Injected: yes", B: "2" });
      assert.equal(injected.rc, "-1");
      assert.equal(up.seen.length, n, "nothing reached the upstream");
      await waitForLog(s, /native\.cfg:\d+: http_client_query: the value of \$var\(a\) in the header lines holds a line break \(CR or LF\): refused/);
      const smuggled = await call(s, { Op: "post_hdrs", Url: `${up.base}/echo`, Body: "x", A: "1", B: "\u0000" });
      assert.deepEqual([smuggled.rc, smuggled.curlerror], ["-1", "A libcurl function was given a bad argument"]);
      const ok = await call(s, { Op: "if", Url: `${up.base}/text` });
      assert.equal(ok.rc, "true 200");
    });

    it("route_timeout aborts the transfer: 503, and the upstream's request is abandoned", async (t) => {
      const s = live(t);
      if (!s) return;
      const r = await httpRequest(s.port, "GET", "/", { headers: { "X-Op": "patient", "X-Url": "/hang" } });
      assert.equal(r.responses[0]?.status, 503);
      assert.ok(await up.waitForAbort("/hang", 3000));
    });

    it("another request is answered while one waits for a slow upstream", async (t) => {
      const s = live(t);
      if (!s) return;
      const order: string[] = [];
      const slow = call(s, { Op: "patient", Url: "/slow/1200" }).then((r) => (order.push("slow"), r));
      const end = Date.now() + 3000;
      while (!up.seen.some((x) => x.url === "/slow/1200") && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const fast = await call(s, { Op: "query", Url: `${up.base}/text` });
      order.push("fast");
      assert.equal(fast.rc, "200");
      assert.equal((await slow).rc, "200");
      assert.deepEqual(order, ["fast", "slow"]);
    });
  });
}
