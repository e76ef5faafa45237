// The edge: createFetchHandler on the real Cloudflare Workers runtime (the
// workerd binary of the `workerd` package, on loopback with a generated
// configuration) and under Deno.serve / `deno serve`, as on Deno Deploy.
// The worker is test/fixtures/edge/worker.ts bundled by esbuild into one module
// (test/_workerd.ts).
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createFetchHandler } from "../src/edge.ts";
import { FIXTURES, ROOT, httpRequest, rawRequest, sleep, fields } from "./_harness.ts";
import { startUpstream, type Upstream } from "./_upstream.ts";
import { freePort, start, startWorkerd, waitForPort, type Child, type Workerd } from "./_workerd.ts";
import { parseExposition, value } from "./_prometheus.ts";

const BIN = path.join(ROOT, "node_modules", ".bin");
const EDGE = path.join(FIXTURES, "edge");

async function waitForText(get: () => string, re: RegExp, timeoutMs = 3000): Promise<string> {
  const end = Date.now() + timeoutMs;
  while (!re.test(get())) {
    if (Date.now() > end) throw new Error(`never matched ${re}:\n${get().slice(-3000)}`);
    await sleep(20);
  }
  return get();
}

describe("edge: createFetchHandler refuses what the platform owns", () => {
  for (const [name, value] of [
    ["listen_port", 80],
    ["listen_addr", "0.0.0.0"],
    ["listen_socket", "127.0.0.1:80"],
    ["workers", 2],
    ["max_connections", 10],
    ["header_timeout", 5],
    ["idle_timeout", 5],
    ["shutdown_timeout", 5],
    ["tls_cert", "/etc/cert.pem"],
  ] as const) {
    it(`refuses ${name}, naming it`, () => {
      assert.throws(() => createFetchHandler({ route: () => {}, params: { [name]: value } }), (e: Error) => {
        assert.match(e.message, new RegExp(`^${name} has no meaning in a fetch handler \\(the platform \\w+`));
        return true;
      });
    });
  }

  it("gives the clear message for listen_port", () => {
    assert.throws(() => createFetchHandler({ route: () => {}, params: { listen_port: 80 } }), {
      message: "listen_port has no meaning in a fetch handler (the platform listens)",
    });
  });

  it("validates the other parameters as start-up does", () => {
    assert.throws(() => createFetchHandler({ route: () => {}, params: { allowed_ips: "10.0.0.300" } }), /invalid allowed_ips "10.0.0.300" \(from the params of createFetchHandler\)/);
    assert.throws(() => createFetchHandler({ route: () => {}, params: { nosuch: 1 } }), /unknown parameter "nosuch" in the params of createFetchHandler/);
  });

  it("refuses a module without the function event_callback names, and cfg text that does not compile", () => {
    assert.throws(() => createFetchHandler({ route: { default: () => {} }, routeName: "r.ts", params: { event_callback: "nope" } }), /r\.ts has no function for event_callback "nope"/);
    assert.throws(() => createFetchHandler({ cfg: "loadmodule \"microhttpd.so\"\nevent_route[microhttpd:request] {\n  xinfo(\"x\")\n}\n", routeName: "bad.cfg" }), /bad\.cfg:4:1: expected ";"|bad\.cfg:\d+:\d+/);
  });

  it("refuses rtimer timers, from a .cfg or a module: the platform runs code only for a request", () => {
    const cfg = 'loadmodule "rtimer.so"\nloadmodule "microhttpd.so"\nmodparam("rtimer", "timer", "name=t;interval=1;")\nmodparam("rtimer", "exec", "timer=t;route=T")\nevent_route[microhttpd:request] {\n  exit;\n}\nroute[T] {\n  exit;\n}\n';
    assert.throws(() => createFetchHandler({ cfg, routeName: "t.cfg" }), /t\.cfg: rtimer timers cannot run in a fetch handler/);
    const timers = [{ name: "t", interval: 1, run: () => {} }];
    assert.throws(() => createFetchHandler({ route: { default: () => {}, timers }, routeName: "t.ts" }), /t\.ts exports timers: rtimer timers cannot run in a fetch handler/);
  });

  it("does not believe CF-Connecting-IP off workerd (any client can send it)", async () => {
    const h = createFetchHandler({ route: (_e, ksr) => ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", `[${ksr.pv.get("$mhttpd(srcip)")}]`) });
    const r = await h.fetch(new Request("http://x/", { headers: { "cf-connecting-ip": "10.1.2.3" } }));
    assert.equal(await r.text(), "[]");
    const d = await h.fetch(new Request("http://x/"), { remoteAddr: { hostname: "192.0.2.7", port: 4444, transport: "tcp" } });
    assert.equal(await d.text(), "[192.0.2.7]");
  });
  it("applies allowed_ips to Deno's remoteAddr", async () => {
    const h = createFetchHandler({ route: (_e, ksr) => ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", "in"), params: { allowed_ips: "192.0.2.0/24" } });
    const info = (hostname: string) => ({ remoteAddr: { hostname, port: 4444, transport: "tcp" } });
    assert.equal((await h.fetch(new Request("http://x/"), info("192.0.2.7"))).status, 200);
    assert.equal((await h.fetch(new Request("http://x/"), info("198.51.100.1"))).status, 403);
  });
});

describe("edge: on workerd (Cloudflare Workers runtime)", () => {
  let port: number;
  let entryPort: number;
  let workerd: Child;
  let served: Workerd | undefined;

  // the suite's worker and the shipped entry (edge/worker.ts), each a service with its own socket
  before(async () => {
    served = await startWorkerd({ suite: path.join(EDGE, "worker.ts"), entry: path.join(ROOT, "edge", "worker.ts") });
    ({ suite: port, entry: entryPort } = served.ports);
    workerd = served.child;
  });

  after(async () => {
    await served?.stop();
  });

  const get = (target: string, headers: Record<string, string> = {}, body?: string | Buffer, method = body === undefined ? "GET" : "POST") =>
    httpRequest(port, method, target, { headers: { "CF-Connecting-IP": "203.0.113.9", ...headers }, body });

  describe("TypeScript route (test/fixtures/kemi-route.ts)", () => {
    it("exposes the $mhttpd variables, srcip from CF-Connecting-IP", async () => {
      const r = await get("/a/b?x=1", { "X-A": "  padded value" });
      const f = fields(r.responses[0].body);
      assert.equal(r.responses[0].status, 200);
      assert.equal(f.evname, "microhttpd:request (string)");
      assert.equal(f.method, "GET (string)");
      assert.equal(f.url, "/a/b (string)");
      assert.equal(f.version, "HTTP/1.1 (string)");
      assert.equal(f.size, "0 (number)");
      assert.equal(f.srcip, "203.0.113.9 (string)");
      assert.equal(f["h:X-A"], "padded value (string)");
      assert.equal(f["h:X-Missing get"], "null (object)");
      assert.equal(f["bad is_null"], "true (boolean)");
      assert.equal(f.data, "[]");
      const v6 = fields((await get("/", { "CF-Connecting-IP": "2001:db8::7" })).responses[0].body);
      assert.equal(v6.srcip, "2001:db8::7 (string)");
      await waitForText(workerd.err, /ERROR: <script>: pv: unknown \$mhttpd attribute "nosuch"/);
    });

    it("gives the body as data and its byte length as size", async () => {
      const f = fields((await get("/", {}, "héllo=1")).responses[0].body);
      assert.equal(f.method, "POST (string)");
      assert.equal(f.size, "8 (number)");
      assert.equal(f.data, "[héllo=1]");
    });

    it("echoes a binary body byte for byte", async () => {
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const r = await get("/binary", {}, bytes);
      assert.equal(r.responses[0].status, 200);
      assert.equal(r.responses[0].headers["content-type"], "application/octet-stream");
      assert.deepEqual(r.responses[0].body, bytes);
    });

    it("sends the route's codes and content type; refused codes answer 500", async () => {
      for (const code of [200, 201, 404, 503, 599]) {
        const r = await get(`/code/${code}`);
        assert.equal(r.responses[0].status, code);
        assert.equal(r.responses[0].headers["content-type"], "text/plain");
        assert.equal(r.responses[0].body.toString(), `code ${code}\n`);
      }
      for (const code of [100, 600, "abc"]) assert.equal((await get(`/code/${code}`)).responses[0].status, 500, `code ${code}`);
    });

    it("sends no body for 204, no Content-Type for an empty ctype", async () => {
      const r204 = await get("/code/204");
      assert.equal(r204.responses[0].status, 204);
      assert.equal(r204.responses[0].body.length, 0);
      const untyped = await get("/ctype-empty");
      assert.equal(untyped.responses[0].status, 200);
      assert.equal(untyped.responses[0].headers["content-type"], undefined);
      assert.equal(untyped.responses[0].body.toString(), "no content type\n");
    });

    it("keeps the first of two replies", async () => {
      const r = await get("/twice");
      assert.equal(r.responses[0].status, 200);
      assert.equal(r.responses[0].body.toString(), "first reply\n");
    });

    it("answers 500 when the route sends no reply, throws or rejects, and keeps serving", async () => {
      for (const target of ["/noreply", "/throw", "/reject", "/exit-noreply"]) {
        const r = await get(target);
        assert.equal(r.responses[0].status, 500, target);
        assert.equal(r.responses[0].body.toString(), "Internal Server Error\n");
      }
      assert.equal((await get("/reply-then-throw")).responses[0].body.toString(), "replied before throw\n");
      assert.equal((await get("/exit")).responses[0].body.toString(), "replied before exit\n");
      await waitForText(workerd.err, /ERROR: <core>: route failed on GET \/throw: Error: thrown on purpose/);
      await waitForText(workerd.err, /WARNING: <core>: route ended without a reply for GET \/noreply: sending 500/);
      assert.equal((await get("/")).responses[0].status, 200);
    });

    it("keeps 100 concurrent async requests apart (global KSR across awaits)", async () => {
      const rs = await Promise.all(
        Array.from({ length: 100 }, (_, i) => get(`/async?i=${i}`, { "X-Id": String(i) }, `body-${i}`)),
      );
      rs.forEach((r, i) => assert.equal(r.responses[0]?.body.toString(), `${i}:body-${i}:/async`));
    });

    it("drop closes the connection without a response, even after a reply", async () => {
      for (const target of ["/drop", "/reply-then-drop"]) {
        const r = await get(target);
        assert.equal(r.responses.length, 0, target);
        assert.equal(r.raw.length, 0, target);
        assert.ok(r.serverClosed, target);
      }
      assert.equal((await get("/")).responses[0].status, 200);
    });

    it("allowed_ips admits and refuses by CF-Connecting-IP", async () => {
      const allowed = { "X-Fixture": "allowed" };
      for (const ip of ["10.1.2.3", "10.1.2.254", "2001:db8::1"]) {
        const r = await get("/", { ...allowed, "CF-Connecting-IP": ip });
        assert.equal(r.responses[0].status, 200, ip);
        assert.equal(fields(r.responses[0].body).srcip, `${ip} (string)`);
      }
      for (const ip of ["10.1.3.1", "127.0.0.1", "2001:db9::1"]) {
        const r = await get("/", { ...allowed, "CF-Connecting-IP": ip });
        assert.equal(r.responses[0].status, 403, ip);
        assert.equal(r.responses[0].body.toString(), "Forbidden\n");
      }
      // no CF-Connecting-IP (not through Cloudflare's edge): no address, refused
      const bare = await rawRequest(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Fixture: allowed\r\n\r\n");
      assert.equal(bare.responses[0].status, 403);
    });
  });

  describe("metrics on workerd", () => {
    it("answers the metrics path to a scraper in metrics_allowed_ips (CF-Connecting-IP), counting this isolate's requests", async () => {
      const on = { "X-Fixture": "metrics" };
      assert.equal((await get("/a", on)).responses[0].status, 200);
      assert.equal((await get("/a", on, "x=1")).responses[0].status, 200);
      // another client's request for the path is the route's
      assert.equal(fields((await get("/metrics", on)).responses[0].body).url, "/metrics (string)");
      const r = await get("/metrics", { ...on, "CF-Connecting-IP": "198.51.100.7" });
      assert.equal(r.responses[0].headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
      const e = parseExposition(r.responses[0].body.toString());
      assert.equal(value(e, "mhttpd_info", { version: "0.1.0", runtime: "workerd" }), 1);
      // /a, and the route's /metrics; the scrape is not counted
      assert.equal(value(e, "mhttpd_requests_total", { method: "GET", status: "200" }), 2);
      assert.equal(value(e, "mhttpd_requests_total", { method: "POST", status: "200" }), 1);
      assert.equal(value(e, "mhttpd_request_body_bytes_total"), 3);
    });
  });

  describe("hostile input (test/fixtures/hostile/route.ts)", () => {
    const hostile = { "X-Fixture": "hostile" };
    it("keeps serving after a route's stray rejection and a throw in its timer", async () => {
      for (const target of ["/stray-rejection", "/stray-timer"]) {
        const r = await get(target, hostile);
        assert.equal(r.responses[0]?.status, 200, target);
      }
      await sleep(50);
      const r = await get("/after", hostile);
      assert.equal(fields(r.responses[0].body).url, "/after");
    });

    it("sees the target with dot segments resolved, and refuses a control byte in a header value", async () => {
      const dots = await rawRequest(port, "GET /a/%2e%2e/admin?q HTTP/1.1\r\nHost: x\r\nX-Fixture: hostile\r\nCF-Connecting-IP: 203.0.113.9\r\n\r\n");
      assert.deepEqual(fields(dots.responses[0].body), { url: "/admin", query: "q" });
      const r = await get("/header?name=X-A&value=a%01b", hostile);
      assert.equal(r.responses[0].body.toString(), "rc=-1\n");
      assert.equal(r.responses[0].headers["x-a"], undefined);
      await waitForText(workerd.err, /invalid value for header X-A: contains a control character \(0x01\)/);
    });
  });

  describe("http_client through KSR (test/fixtures/http-client/route.ts) on workerd's fetch", () => {
    let up: Upstream;
    before(async () => {
      up = await startUpstream();
    });
    after(() => up.close());
    const ask = async (args: Record<string, string>) => {
      const headers = Object.fromEntries(Object.entries(args).map(([k, v]) => [`X-${k}`, encodeURIComponent(v)]));
      const r = await get("/", { "X-Fixture": "http", ...headers });
      assert.equal(r.responses[0]?.status, 200, JSON.stringify(args));
      const f = fields(r.responses[0].body);
      return Object.assign(f, { result: JSON.parse(f.result) as string });
    };

    it("queries the upstream: the status and the first line (query_result 1), the headers given", async () => {
      const r = await ask({ Op: "query", Url: `${up.base}/text` });
      assert.equal(r.rc, "200");
      assert.equal(r.result, "first line");
      assert.equal(r.curlerror, "null");
      const n = up.seen.length;
      assert.equal((await ask({ Op: "query_post_hdrs", Url: `${up.base}/echo`, Body: "a=1", Hdrs: "X-A: 1\r\nX-B: 2" })).rc, "200");
      const [seen] = up.seen.slice(n);
      assert.deepEqual([seen.method, seen.body], ["POST", "a=1"]);
      assert.deepEqual(seen.headers.filter(([k]) => /^x-[ab]$/i.test(k)).map(([k, v]) => `${k.toLowerCase()}=${v}`), ["x-a=1", "x-b=2"]);
    });

    it("fails as everywhere: a refused connection, a header that would end the head, an endless body", async () => {
      // workerd's fetch says only "Network connection lost.", whatever the cause
      const refused = await ask({ Op: "query", Url: `http://127.0.0.1:${up.refusedPort}/` });
      assert.equal(refused.rc, "-1");
      assert.equal(refused.curlerror, "Failure when receiving data from the peer");
      await waitForText(workerd.err, new RegExp(`http_client\\.query: GET http://127\\.0\\.0\\.1:${up.refusedPort}/ failed: .*Network connection lost`));
      const n = up.seen.length;
      const injected = await ask({ Op: "query_post_hdrs", Url: `${up.base}/echo`, Body: "x", Hdrs: "X-A: 1\r\n\r\nGET /x HTTP/1.1" });
      assert.equal(injected.rc, "-1");
      assert.equal(up.seen.length, n, "nothing reached the upstream");
      const endless = await ask({ Op: "query", Url: `${up.base}/endless` });
      assert.equal(endless.rc, "-1");
      assert.equal(endless.curlerror, "Failed writing received data to disk/application");
      assert.ok(await up.waitForAbort("/endless", 3000));
      await waitForText(workerd.err, /http_client\.query: GET http:\/\/127\.0\.0\.1:\d+\/endless failed: Failed writing received data/);
    });
  });

  describe(".cfg route given as text (test/fixtures/edge/route.cfg)", () => {
    const cfg = { "X-Fixture": "cfg" };

    it("runs the event_route with the $mhttpd variables, srcip from CF-Connecting-IP", async () => {
      const r = await get("/hello", { ...cfg, "X-A": "a" }, "payload");
      assert.equal(r.responses[0].status, 200);
      assert.equal(r.responses[0].body.toString(), "method=POST\nurl=/hello\nsrcip=203.0.113.9\nh:X-A=a\ndata=[payload]\n");
    });

    it("follows the reply rules: codes, 204 without body, empty ctype without Content-Type", async () => {
      const nf = await get("/missing/x", cfg);
      assert.equal(nf.responses[0].status, 404);
      assert.equal(nf.responses[0].body.toString(), "no /missing/x\n");
      const nc = await get("/nocontent", cfg);
      assert.equal(nc.responses[0].status, 204);
      assert.equal(nc.responses[0].body.length, 0);
      const untyped = await get("/ctype-empty", cfg);
      assert.equal(untyped.responses[0].headers["content-type"], undefined);
      assert.equal(untyped.responses[0].body.toString(), "no content type\n");
    });

    it("answers 500 when the route ends without a reply", async () => {
      assert.equal((await get("/noreply", cfg)).responses[0].status, 500);
    });

    it("matches =~ in linear time on workerd too (re2js in the bundle)", async () => {
      const hostile = await get("/nested/" + "a".repeat(60) + "!", cfg);
      assert.equal(hostile.responses.length, 1, "answered within the request's 5 s");
      assert.match(hostile.responses[0].body.toString(), /^method=GET\nurl=\/nested\/a{60}!\n/);
      assert.equal((await get("/nested/users/42", cfg)).responses[0].body.toString(), "nested\n");
    });

    it("runs the hash and base64 transformations (node:crypto and node:buffer on first use)", async () => {
      const r = await get("/hash", cfg, "abc");
      assert.equal(r.responses[0].status, 200);
      assert.equal(r.responses[0].body.toString(), "900150983cd24fb0d6963f7d28e17f72 YWJj\n");
    });

    it("runs jansson and crypto_hmac_sha256: JSON built from JSON, jansson's rules, 2048 levels and no more", async () => {
      const body = JSON.stringify({ name: 'Zoë "Z"', list: [1, [2], { three: 3 }] });
      const r = await get("/json", cfg, body);
      assert.equal(r.responses[0].status, 200);
      assert.deepEqual(JSON.parse(r.responses[0].body.toString("utf8")), { hello: 'Zoë "Z"', n: 3, mac: createHmac("sha256", "k").update(body).digest("base64url") });
      assert.equal((await get("/json", cfg, '{"name":"a","name":"b","list":[]}')).responses[0].status, 400, "duplicate keys refused");
      const nested = (n: number) => "[".repeat(n) + "]".repeat(n);
      assert.equal((await get("/json-whole", cfg, nested(2048))).responses[0].body.toString(), `1 ${2048 * 2}\n`);
      assert.equal((await get("/json-whole", cfg, nested(100000))).responses[0].body.toString(), "-1 0\n");
      await waitForText(workerd.err, /jansson_get: the source is not valid JSON: maximum parsing depth reached/);
    });

    it("drops the listen_port the cfg sets, with a note", async () => {
      await waitForText(workerd.err, /INFO: <core>: the modparams of route\.cfg: listen_port ignored: the platform listens/);
    });
  });

  it("keeps async requests apart on every handler of one worker (one store for all)", async () => {
    // by now all three handlers of the fixture worker exist; the global KSR must
    // still find the request of the one that runs it
    const rs = await Promise.all(
      Array.from({ length: 30 }, (_, i) => get("/async", { "X-Fixture": i % 2 ? "allowed" : "ts", "CF-Connecting-IP": "10.1.2.3", "X-Id": String(i) }, `m${i}`)),
    );
    rs.forEach((r, i) => assert.equal(r.responses[0]?.body.toString(), `${i}:m${i}:/async`));
  });

  it("serves the shipped entry, edge/worker.ts (the default route)", async () => {
    const r = await httpRequest(entryPort, "POST", "/hello", { body: "x=1" });
    assert.equal(r.responses[0].status, 200);
    assert.equal(r.responses[0].headers["content-type"], "text/html");
    assert.equal(r.responses[0].body.toString(), "<html><body>OK</body></html>");
    await waitForText(workerd.err, /INFO: <script>: request: POST - url: \/hello - data: \[x=1\]/);
  });
});

describe("edge: under Deno (Deno.serve and deno serve, as on Deno Deploy)", () => {
  const deno = path.join(BIN, "deno");
  const perms = ["--allow-net", "--allow-read", "--allow-env"];

  it("Deno.serve(handler.fetch): srcip from remoteAddr, allowed_ips on it, async requests apart", async () => {
    const child = start(deno, ["run", ...perms, path.join(EDGE, "deno-serve.ts")], ROOT);
    try {
      const text = await waitForText(child.out, /deno edge listening on (\d+)/, 30000);
      const port = Number(/deno edge listening on (\d+)/.exec(text)![1]);
      // CF-Connecting-IP means nothing here: the address is the socket's
      const r = await httpRequest(port, "GET", "/", { headers: { "CF-Connecting-IP": "10.9.9.9" } });
      assert.equal(r.responses[0].status, 200);
      assert.equal(fields(r.responses[0].body).srcip, "127.0.0.1 (string)");
      const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => httpRequest(port, "POST", "/async", { headers: { "X-Id": String(i) }, body: `b${i}` })));
      rs.forEach((x, i) => assert.equal(x.responses[0]?.body.toString(), `${i}:b${i}:/async`));
      assert.equal((await httpRequest(port, "GET", "/code/204")).responses[0].status, 204);
    } finally {
      await child.stop();
    }
  });

  it("deno serve with the handler as default export", async () => {
    const port = await freePort();
    const child = start(deno, ["serve", ...perms, "--host", "127.0.0.1", "--port", String(port), path.join(EDGE, "deno-default.ts")], ROOT);
    try {
      await waitForPort(child, port, "deno serve", 30000);
      const r = await httpRequest(port, "GET", "/x", { headers: { "X-A": "v" } });
      const f = fields(r.responses[0].body);
      assert.equal(f.srcip, "127.0.0.1 (string)");
      assert.equal(f["h:X-A"], "v (string)");
      assert.equal((await httpRequest(port, "GET", "/throw")).responses[0].status, 500);
    } finally {
      await child.stop();
    }
  });
  it("deno serve: a route's stray errors are logged and the process keeps serving", async () => {
    const port = await freePort();
    const child = start(deno, ["serve", ...perms, "--host", "127.0.0.1", "--port", String(port), path.join(EDGE, "deno-hostile.ts")], ROOT);
    try {
      await waitForPort(child, port, "deno serve", 30000);
      for (const target of ["/stray-rejection", "/stray-timer"]) assert.equal((await httpRequest(port, "GET", target)).responses[0]?.status, 200, target);
      await waitForText(child.err, /uncaught exception.*the server keeps serving: Error: stray timer throw on purpose/);
      assert.match(child.err(), /unhandled rejection.*the server keeps serving: Error: stray rejection on purpose/);
      assert.equal(fields((await httpRequest(port, "GET", "/after")).responses[0].body).url, "/after");
    } finally {
      await child.stop();
    }
  });

  it("deno serve edge/worker.ts (the shipped entry)", async () => {
    const port = await freePort();
    const child = start(deno, ["serve", ...perms, "--host", "127.0.0.1", "--port", String(port), path.join(ROOT, "edge", "worker.ts")], ROOT);
    try {
      await waitForPort(child, port, "deno serve", 30000);
      const r = await httpRequest(port, "GET", "/");
      assert.equal(r.responses[0].status, 200);
      assert.equal(r.responses[0].body.toString(), "<html><body>OK</body></html>");
    } finally {
      await child.stop();
    }
  });
});
