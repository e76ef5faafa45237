// mhttpd inside a Hono app (src/hono.ts, `mhttpd/hono`), and a route module's
// `middleware`: the app of test/fixtures/hono/app.ts (hono's own logger and cors,
// the .cfg route at /kamailio/*, the TypeScript route at /ts/*) served as each
// runtime serves a Hono app (Bun.serve, Deno.serve, @hono/node-server's serve) and
// as a Worker on workerd, over real sockets; the route module's middleware under
// the mhttpd server too; the options refused as the server refuses them, in-process.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { createFetchHandler } from "../src/edge.ts";
import { mhttpd, type MhttpdOptions } from "../src/hono.ts";
import type { KsrApi } from "../src/index.ts";
import { FIXTURES, ROOT, RUNTIMES, fields, httpRequest, rawRequest, sleep, startServer, type Runtime, type Server } from "./_harness.ts";
import { exchange, fuzzCase, type Exchange, type FuzzCase } from "./_fuzz.ts";
import { startWorkerd, type Workerd } from "./_workerd.ts";
import { parseExposition, value, type Exposition } from "./_prometheus.ts";
import { VERSION } from "../src/version.ts";

const SEED = Number(process.env.MHTTPD_FC_SEED ?? 20261130);
const BIN = path.join(ROOT, "node_modules", ".bin");
const HONO = path.join(FIXTURES, "hono");
const BIG = 70 * 1024; // over the app's max_body_size 64k

/** How each runtime runs the app's launcher (test/fixtures/hono/serve.ts). */
const LAUNCH: Record<Runtime, string[]> = {
  bun: [path.join(BIN, "bun"), path.join(HONO, "serve.ts")],
  deno: [path.join(BIN, "deno"), "run", "--allow-net", "--allow-read", "--allow-env", path.join(HONO, "serve.ts")],
  node: [process.execPath, "--import", "tsx", path.join(HONO, "serve.ts")],
};

const echo = (_evname: string, ksr: KsrApi) =>
  ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", `url=${ksr.pv.get("$mhttpd(url)")}\nsrcip=${ksr.pv.get("$mhttpd(srcip)")}\nh:X-Test=${ksr.pv.get("$mhttpd(h:X-Test)")}\n`);

/** The app's behaviour, the same wherever it runs: `send` is a GET or POST with
 * headers (on workerd, CF-Connecting-IP is what the edge would add). */
function appBehaviour(label: string, target: () => { port: number; peer: string; headers: Record<string, string>; out(): string }) {
  const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer) => {
    const t = target();
    return httpRequest(t.port, method, path, { headers: { ...t.headers, ...headers }, body });
  };

  it(`${label}: the .cfg route sees the full path, the query, the peer and the headers`, async () => {
    const r = await send("GET", "/kamailio/a/b?x=1", { "X-Test": "from the client" });
    assert.equal(r.responses[0]?.status, 200, r.raw.toString());
    assert.deepEqual(fields(r.responses[0].body), { route: "cfg", method: "GET", url: "/kamailio/a/b", query: "x=1", srcip: target().peer, "h:X-Test": "from the client", size: "0" });
    const post = await send("POST", "/kamailio/post", {}, "sip:alice@example.com");
    assert.equal(fields(post.responses[0].body).size, "21");
    const nf = await send("GET", "/kamailio/missing");
    assert.equal(nf.responses[0].status, 404);
    assert.equal(nf.responses[0].body.toString(), "no /kamailio/missing\n");
  });

  it(`${label}: HEAD is answered with the head GET would have, its Content-Length too (RFC 9110 §8.6)`, async () => {
    // an answer that does not say the method
    const get = await send("GET", "/kamailio/missing");
    const t = target();
    const head = await rawRequest(t.port, `HEAD /kamailio/missing HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(t.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`, { methods: ["HEAD"] });
    assert.equal(head.responses[0]?.status, 404, head.raw.toString());
    assert.equal(head.responses[0].body.length, 0);
    assert.equal(head.responses[0].headers["content-length"], String(get.responses[0].body.length));
    assert.equal(head.responses[0].headers["content-type"], "text/plain");
  });

  it(`${label}: allowed_ips decides on the peer the server gives; a client's CF-Connecting-IP or X-Forwarded-For is not it`, async () => {
    const spoofed = { "X-Forwarded-For": "10.1.2.3", ...(label === "workerd" ? {} : { "CF-Connecting-IP": "10.1.2.3" }) };
    const r = await send("GET", "/kamailio/who", spoofed);
    assert.equal(fields(r.responses[0].body).srcip, target().peer);
    const refused = await send("GET", "/guarded/x", spoofed);
    assert.equal(refused.responses[0]?.status, 403, refused.raw.toString());
    assert.equal(refused.responses[0].body.toString(), "Forbidden\n");
    if (label === "workerd") {
      // there the edge's CF-Connecting-IP is the peer
      const admitted = await send("GET", "/guarded/x", { "CF-Connecting-IP": "10.1.2.3" });
      assert.equal(fields(admitted.responses[0].body).srcip, "10.1.2.3");
    }
  });

  it(`${label}: the TypeScript route runs after its module's middleware, which can answer itself`, async () => {
    const r = await send("GET", "/ts/x", { "X-Test": "ts" });
    assert.equal(r.responses[0]?.status, 200, r.raw.toString());
    assert.deepEqual(fields(r.responses[0].body), { route: "ts", method: "GET", url: "/ts/x", srcip: target().peer, "h:X-Test": "ts", size: "0" });
    assert.equal(r.responses[0].headers["x-route-middleware"], "ran", "the middleware changed the route's reply on its way out");
    const denied = await send("GET", "/ts/x", { "X-Deny": "1" });
    assert.equal(denied.responses[0].status, 401);
    assert.equal(denied.responses[0].body.toString(), "denied by the route's middleware\n");
  });

  it(`${label}: hono's cors answers the preflight and marks mhttpd's replies; the app's own handler and 404 stay the app's`, async () => {
    const pre = await send("OPTIONS", "/kamailio/a", { Origin: "https://portal.example", "Access-Control-Request-Method": "POST" });
    assert.equal(pre.responses[0].status, 204);
    assert.equal(pre.responses[0].headers["access-control-allow-origin"], "https://portal.example");
    assert.match(pre.responses[0].headers["access-control-allow-methods"] ?? "", /POST/);
    const r = await send("GET", "/kamailio/a", { Origin: "https://portal.example" });
    assert.equal(r.responses[0].status, 200);
    assert.equal(r.responses[0].headers["access-control-allow-origin"], "https://portal.example");
    assert.equal(r.responses[0].headers["access-control-expose-headers"], "X-Route");
    assert.equal((await send("GET", "/health")).responses[0].body.toString(), "ok\n");
    assert.equal((await send("GET", "/elsewhere")).responses[0].status, 404);
  });

  it(`${label}: hono's logger logs mhttpd's requests with their status`, async () => {
    await send("GET", "/kamailio/logged");
    const end = Date.now() + 3000;
    while (!/--> GET \/kamailio\/logged \S*200/.test(target().out()) && Date.now() < end) await sleep(20);
    assert.match(target().out(), /<-- GET \/kamailio\/logged\n/);
    assert.match(target().out(), /--> GET \/kamailio\/logged \S*200\S* \d+m?s/);
  });

  it(`${label}: max_body_size answers 413, declared or chunked; a body under it reaches the route`, async () => {
    const declared = await send("POST", "/kamailio/big", {}, Buffer.alloc(BIG, "a"));
    assert.equal(declared.responses[0]?.status, 413, declared.raw.toString().slice(0, 200));
    const t = target();
    const chunk = Buffer.alloc(BIG, "b");
    const head = `POST /kamailio/big HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(t.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}Transfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n`;
    const chunked = await rawRequest(t.port, [Buffer.from(head), chunk, Buffer.from("\r\n0\r\n\r\n")]);
    assert.equal(chunked.responses[0]?.status, 413, chunked.raw.toString().slice(0, 200));
    const fits = await send("POST", "/kamailio/fits", {}, Buffer.alloc(60 * 1024, "c"));
    assert.equal(fields(fits.responses[0].body).size, String(60 * 1024));
  });

  it(`${label}: route_timeout answers 503 to a route that does not reply in time`, async () => {
    const r = await send("GET", "/ts/slow");
    assert.equal(r.responses[0]?.status, 503);
    assert.equal(r.responses[0].body.toString(), "Service Unavailable\n");
  });

  it(`${label}: metrics: the mount counts its own requests and answers them to its scraper at its path; another client's request there is the route's`, async () => {
    const scrape = async (): Promise<Exposition> => {
      const r = await send("GET", "/kamailio/metrics");
      assert.equal(r.responses[0]?.status, 200, r.raw.toString().slice(0, 300));
      assert.equal(r.responses[0].headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
      return parseExposition(r.responses[0].body.toString());
    };
    const count = (e: Exposition, method: string, status: string) => {
      try {
        return value(e, "mhttpd_requests_total", { method, status });
      } catch {
        return 0; // no such series yet
      }
    };
    const before = await scrape();
    await send("GET", "/kamailio/counted");
    await send("GET", "/kamailio/missing");
    await send("POST", "/kamailio/counted", {}, "abc");
    await send("GET", "/ts/x"); // another mount: counted there, not here
    const after = await scrape();
    assert.equal(count(after, "GET", "200") - count(before, "GET", "200"), 1);
    assert.equal(count(after, "GET", "404") - count(before, "GET", "404"), 1);
    assert.equal(count(after, "POST", "200") - count(before, "POST", "200"), 1);
    assert.ok([...after.samples.keys()].some((k) => k.startsWith("mhttpd_info{") && k.includes(`version=${JSON.stringify(VERSION)}`)), "mhttpd_info names the version");
    if (label === "workerd") {
      // a client not in metrics_allowed_ips reaches the route at that path
      const stranger = await send("GET", "/kamailio/metrics", { "CF-Connecting-IP": "198.51.100.7" });
      assert.equal(fields(stranger.responses[0].body).url, "/kamailio/metrics");
    }
  });

  it(`${label}: drop closes the connection without a complete response`, async () => {
    for (const path of ["/kamailio/drop", "/ts/drop"]) {
      const r = await send("GET", path);
      assert.equal(r.responses.length, 0, `${path}: ${r.raw.toString()}`);
      assert.ok(r.serverClosed, path);
    }
    assert.equal((await send("GET", "/kamailio/after-drop")).responses[0].status, 200);
  });
}

for (const runtime of RUNTIMES) {
  describe(`mhttpd/hono in a Hono app on ${runtime}`, () => {
    let srv: Server;
    before(async () => {
      srv = await startServer(runtime, [], { command: LAUNCH[runtime], timeoutMs: 30000 });
    });
    after(async () => {
      await srv?.stop();
    });
    appBehaviour(runtime, () => ({ port: srv.port, peer: "127.0.0.1", headers: {}, out: () => srv.stdout() }));
  });
}

describe("mhttpd/hono in a Hono app on workerd (export default app)", () => {
  let workerd: Workerd;
  before(async () => {
    workerd = await startWorkerd({ hono: path.join(HONO, "worker.ts") });
  });
  after(async () => {
    await workerd?.stop();
  });
  appBehaviour("workerd", () => ({ port: workerd.ports.hono, peer: "203.0.113.9", headers: { "CF-Connecting-IP": "203.0.113.9" }, out: () => workerd.child.out() + workerd.child.err() }));
});

describe("a route module's middleware under the mhttpd server", () => {
  for (const runtime of RUNTIMES) {
    it(`run before the route on ${runtime}, and change its reply on the way out`, async () => {
      const srv = await startServer(runtime, [path.join(HONO, "route.ts"), "--listen-addr", "127.0.0.1", "--listen-port", "0", "--route-timeout", "1"]);
      try {
        const r = await httpRequest(srv.port, "GET", "/any/path", { headers: { "X-Test": "server" } });
        assert.equal(r.responses[0]?.status, 200, r.raw.toString());
        assert.deepEqual(fields(r.responses[0].body), { route: "ts", method: "GET", url: "/any/path", srcip: "127.0.0.1", "h:X-Test": "server", size: "0" });
        assert.equal(r.responses[0].headers["x-route-middleware"], "ran");
        const post = await httpRequest(srv.port, "POST", "/post", { body: "payload" });
        assert.equal(fields(post.responses[0].body).size, "7");
        const denied = await httpRequest(srv.port, "GET", "/x", { headers: { "X-Deny": "1" } });
        assert.equal(denied.responses[0].status, 401);
        assert.equal(denied.responses[0].body.toString(), "denied by the route's middleware\n");
        assert.equal((await httpRequest(srv.port, "GET", "/slow")).responses[0].status, 503);
        const dropped = await httpRequest(srv.port, "GET", "/drop");
        assert.equal(dropped.responses.length, 0, dropped.raw.toString());
      } finally {
        await srv.stop();
      }
    });
  }
});

describe("a route module's middleware change no answer to hostile requests", () => {
  const CASES = Number(process.env.MHTTPD_HONO_FUZZ_RUNS ?? 150);
  const args = ["--listen-addr", "127.0.0.1", "--listen-port", "0", "--max-header-size", "8k", "--max-body-size", "16k", "--header-timeout", "2", "--body-timeout", "2"];
  /** what must be the same: the status, the route's X-Fuzz-* headers, Content-Type
   * and Connection, and the body of each response to a request that was sent (what
   * else arrives before the client hangs up, and when it sees the close, is timing).
   * The two servers' ports (dstport) and the two connections' (srcport) differ. */
  const ports = /^x-fuzz-(src|dst)port$/;
  // On Node the server without middleware reads the request from node:http itself
  // (@hono/node-server's lightweight headers, the body from the IncomingMessage);
  // under middleware it reads the Fetch Request they hand on. The two differ where
  // the Fetch API has its own rules, and those requests are left out on Node: a
  // header repeated with a blank copy ("X-A: a", "X-A: ") reads "a," and counts 1
  // one way, "a, " and 2 the other (as on Bun and Deno); a TRACE body is dropped
  // by the Fetch Request (as on Bun).
  const nodeReadsApart = (c: FuzzCase) =>
    c.requests.some((r) => {
      if (r.method.toUpperCase() === "TRACE" && r.body !== null) return true;
      const values = [...r.headers, ...(r.long ? [[r.long.name, r.long.fill.repeat(r.long.length)] as [string, string]] : [])];
      const names = values.map(([name]) => name.toLowerCase());
      return values.some(([name, value]) => /^[ \t]*$/.test(value) && names.filter((n) => n === name.toLowerCase()).length > 1);
    });
  // and @hono/node-server labels a reply without a type (an empty ctype) with this
  // one, where node:http written to directly sends none (README, mhttpd/hono)
  const nodeLabel = (runtime: Runtime, name: string, values: string[]) => runtime === "node" && name === "content-type" && values.join() === "text/plain; charset=UTF-8";
  const seen = (runtime: Runtime, x: Exchange) => ({
    responses: x.responses.slice(0, x.sent).map((r) => ({
      status: r.status,
      headers: [...r.headers].filter(([name, values]) => ((name.startsWith("x-fuzz-") && !ports.test(name)) || name === "content-type" || name === "connection") && !nodeLabel(runtime, name, values)).sort(),
      body: r.body.toString("latin1").replace(/"(src|dst)port":\d+/g, '"$1port":0'),
    })),
  });
  for (const runtime of RUNTIMES) {
    it(`${CASES} generated requests (fast-check, seeded) answered alike with and without one on ${runtime}`, async () => {
      const [alone, wrapped] = await Promise.all([
        startServer(runtime, [path.join(FIXTURES, "fuzz", "route.ts"), ...args]),
        startServer(runtime, [path.join(HONO, "fuzz-middleware.ts"), ...args]),
      ]);
      try {
        await fc.assert(
          fc.asyncProperty(fuzzCase, async (c) => {
            fc.pre(runtime !== "node" || !nodeReadsApart(c));
            const [a, b] = await Promise.all([exchange(alone.port, c, 15000), exchange(wrapped.port, c, 15000)]);
            assert.deepEqual(seen(runtime, b), seen(runtime, a));
          }),
          { numRuns: CASES, seed: SEED, verbose: 1, endOnFailure: true },
        );
      } finally {
        await Promise.all([alone.stop(), wrapped.stop()]);
      }
    });
  }
});

describe("mhttpd(): the options, checked as the server checks its parameters", () => {
  it("refuses what the app's server owns, naming it", () => {
    for (const [name, value, why] of [
      ["listen_port", 80, "the platform listens"],
      ["workers", 2, "the platform runs the instances"],
      ["max_connections", 10, "the platform accepts connections"],
      ["tls_cert", "/etc/cert.pem", "the platform terminates TLS"],
    ] as const) {
      assert.throws(() => mhttpd({ route: echo, [name]: value }), { message: `${name} has no meaning in mhttpd/hono (${why})` });
    }
  });

  it("validates every other parameter as start-up does, naming the value and where it came from", () => {
    assert.throws(() => mhttpd({ route: echo, max_body_size: "lots" }), /^ConfigError: invalid max_body_size "lots" \(from the options of mhttpd\(\)\)|invalid max_body_size "lots" \(from the options of mhttpd\(\)\)/);
    assert.throws(() => mhttpd({ route: echo, nosuch: 1 } as MhttpdOptions), /unknown parameter "nosuch" in the options of mhttpd\(\)/);
    // checked at once even for a route file, which loads later
    assert.throws(() => mhttpd({ route: path.join(HONO, "route.cfg"), allowed_ips: "10.0.0.300" }), /invalid allowed_ips "10.0.0.300" \(from the options of mhttpd\(\)\)/);
  });

  it("wants a route, and a path on one line (text goes in cfg)", () => {
    assert.throws(() => mhttpd({}), /mhttpd\(\): give a route/);
    assert.throws(() => mhttpd({ route: 'loadmodule "microhttpd.so"\nevent_route[microhttpd:request] { exit; }\n' }), /route is a file path, and this one has line breaks: give \.cfg text as cfg/);
  });

  it("refuses a route module whose middleware is not an array of functions", () => {
    assert.throws(() => mhttpd({ route: { default: echo, middleware: "cors" }, routeName: "m.ts" }), /m\.ts: the exported "middleware" must be an array of Hono middleware, such as \[cors\(\), logger\(\)\]; it is the string "cors"/);
    assert.throws(() => mhttpd({ route: { default: echo, middleware: [async () => {}, null] }, routeName: "m.ts" }), /m\.ts: middleware\[1\] is null, not a Hono middleware/);
  });

  it("a route file that does not load: ready rejects naming it, one line is logged, its requests get 500", async () => {
    const lines: string[] = [];
    const handler = mhttpd({ route: path.join(HONO, "no-such-route.ts"), log: (line) => lines.push(line) });
    await assert.rejects(handler.ready, /cannot load route module .*no-such-route\.ts/);
    const app = new Hono().all("/k/*", handler);
    const r = await app.request("/k/x");
    assert.equal(r.status, 500);
    assert.equal(await r.text(), "Internal Server Error\n");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /ERROR: .*mhttpd\/hono: the route did not load, its requests get 500: cannot load route module .*no-such-route\.ts/);
  });

  it("a .cfg file with an error: ready rejects with its file, line and column", async () => {
    const handler = mhttpd({ route: path.join(FIXTURES, "cfg", "bad-syntax.cfg"), log: () => {} });
    await assert.rejects(handler.ready, /bad-syntax\.cfg:\d+:\d+/);
  });

  it("refuses rtimer timers: nothing starts or stops them with the app", async () => {
    assert.throws(() => mhttpd({ route: { default: echo, timers: [{ name: "t", interval: 1, run: () => {} }] }, routeName: "t.ts" }), /t\.ts exports timers: rtimer timers cannot run under mhttpd\/hono/);
  });
});

describe("mhttpd/hono in-process: the same answers as the mhttpd handler", () => {
  const direct = createFetchHandler({ route: echo });
  const elsewhere = (_evname: string, ksr: KsrApi) => ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", "elsewhere\n");
  const app = new Hono();
  app.all("/kamailio/*", mhttpd({ route: echo }));
  app.all("*", mhttpd({ route: elsewhere }));

  const answer = async (r: Response) => ({ status: r.status, headers: [...r.headers].filter(([k]) => k !== "date"), body: await r.text() });
  const parts = fc.constantFrom("kamailio/", "/", ".", "..", "%2e", "%2F", "\\", "?", "#", "a", "é", "%", "%ff", "%41", ";", "&", "=", "+", " ", "*", "@", ":");

  it("answers every target as the handler does, and routes under /kamailio/* what the handler sees there", async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(parts, { maxLength: 12 }), fc.string({ maxLength: 20 }), async (mounted, pieces, header) => {
        const url = "http://example.test/" + (mounted ? "kamailio/" : "") + pieces.join("");
        let headers: Headers;
        try {
          headers = new Headers({ "x-test": header });
        } catch {
          headers = new Headers(); // not a header value the Fetch API takes
        }
        const viaHono = await answer(await app.request(new Request(url, { headers })));
        const viaHandler = await answer(await direct.fetch(new Request(url, { headers })));
        // what the route sees under /kamailio/ is what Hono routes there
        if (viaHandler.body.startsWith("url=/kamailio/")) assert.deepEqual(viaHono, viaHandler, url);
        else if (viaHandler.status === 200) assert.equal(viaHono.body, "elsewhere\n", url);
        else assert.deepEqual(viaHono, viaHandler, url);
      }),
      { numRuns: 500, seed: SEED, verbose: 1 },
    );
  });

  it("runs a module's middleware that throws Hono's HTTPException (bearer-auth) as Hono does, under createFetchHandler too", async () => {
    const route = { default: echo, middleware: [bearerAuth({ token: "s3cret" })] };
    const edge = createFetchHandler({ route, routeName: "auth.ts" });
    const hono = new Hono().all("/k/*", mhttpd({ route, routeName: "auth.ts" }));
    for (const fetch of [(r: Request) => edge.fetch(r), (r: Request) => hono.fetch(r)]) {
      assert.equal((await fetch(new Request("http://x/k/a"))).status, 401);
      const ok = await fetch(new Request("http://x/k/a", { headers: { authorization: "Bearer s3cret" } }));
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^url=\/k\/a\n/);
    }
  });
});
