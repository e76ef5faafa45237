// The request path in-process: createHandler with a fake adapter (the Fetch
// defaults, the peer taken from env), one step at a time. The live suites check
// the same behaviour over real sockets on each runtime; these pin the order of
// the steps and what each answers, without a server.
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { describe, it } from "node:test";
import { webDefaults, type RequestAdapter } from "../src/adapter.ts";
import { resolveParams } from "../src/config.ts";
import { createHandler } from "../src/handler.ts";
import { Ksr } from "../src/ksr.ts";
import { KSR } from "../src/ksr-global.ts";
import { Lifecycle } from "../src/lifecycle.ts";
import { Logger } from "../src/log.ts";
import { kemiRoute, type RouteFunction } from "../src/route.ts";
import "./_libraries.ts";

type Env = { peer: string };

function fakeAdapter(over: Partial<RequestAdapter> = {}): RequestAdapter & { drops: number } {
  const adapter = {
    ...webDefaults,
    name: "fake",
    limits: { connections: false, head: Infinity, bodyStall: false, timersPerRequest: false },
    peer: (_r: Request, env: unknown) => ({ address: (env as Env).peer, port: 4444 }),
    asyncContext: () => undefined,
    drops: 0,
    ...over,
  };
  adapter.drop = () => {
    adapter.drops++;
    return webDefaults.drop();
  };
  return adapter;
}

const echo: RouteFunction = (_ev, ksr) => ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", `${ksr.pv.get("$mhttpd(method)")} ${ksr.pv.get("$mhttpd(url)")} [${ksr.pv.get("$mhttpd(data)")}]`);

function handlerFor(route: RouteFunction, params: Record<string, unknown> = {}, opts: { adapter?: RequestAdapter; lifecycle?: Lifecycle } = {}) {
  const lines: string[] = [];
  const adapter = opts.adapter ?? fakeAdapter();
  const handler = createHandler({
    route: kemiRoute(route),
    params: resolveParams({ route: params }),
    logger: new Logger(3, (l) => lines.push(l)),
    adapter,
    lifecycle: opts.lifecycle,
  });
  const fetch = (url: string, init: RequestInit = {}, peer = "192.0.2.1") => handler.fetch(new Request(url, init), { peer } satisfies Env);
  return { handler, fetch, lines, adapter };
}

const text = async (r: Response | Promise<Response>) => {
  const res = await r;
  return `${res.status} ${await res.text()}`;
};

describe("pipeline, step 1: admit", () => {
  it("checks in order: Host, allowed_ips, url filters, max_connections; the first that refuses answers", async () => {
    const lifecycle = new Lifecycle();
    const { fetch } = handlerFor(echo, { allowed_ips: "192.0.2.0/24", url_skip: "^/admin", max_connections: 1 }, { lifecycle });
    // a bad Host is refused before the client is even looked at
    assert.equal(await text(fetch("http://x/", { headers: { host: "a/b" } }, "198.51.100.1")), "400 Bad Request\n");
    assert.equal(await text(fetch("http://x/admin", {}, "198.51.100.1")), "403 Forbidden\n");
    assert.equal(await text(fetch("http://x/admin")), "404 Not Found\n");
    lifecycle.enter(); // one request in flight already
    assert.equal(await text(fetch("http://x/ok")), "503 Service Unavailable\n");
    lifecycle.leave();
    assert.equal(await text(fetch("http://x/ok")), "200 GET /ok []");
  });

  it("leaves max_connections to a runtime that caps sockets itself", async () => {
    const lifecycle = new Lifecycle();
    const { fetch } = handlerFor(echo, { max_connections: 1 }, { lifecycle, adapter: fakeAdapter({ limits: { connections: true, head: Infinity, bodyStall: false, timersPerRequest: false } }) });
    lifecycle.enter();
    assert.equal(await text(fetch("http://x/ok")), "200 GET /ok []");
  });
});

describe("pipeline, step 2: read", () => {
  it("431 for a head over max_header_size where the runtime does not limit it, and not where it does", async () => {
    const big = { headers: { "x-big": "v".repeat(2000) } };
    assert.equal((await handlerFor(echo, { max_header_size: 1024 }).fetch("http://x/", big)).status, 431);
    const limited = fakeAdapter({ limits: { connections: false, head: "max_header_size", bodyStall: false, timersPerRequest: false } });
    assert.equal((await handlerFor(echo, { max_header_size: 1024 }, { adapter: limited }).fetch("http://x/", big)).status, 200);
  });

  it("413 for a declared body over max_body_size without reading it, and for a streamed one as it passes", async () => {
    const { fetch } = handlerFor(echo, { max_body_size: 10 });
    assert.equal((await fetch("http://x/", { method: "POST", body: "x".repeat(11) })).status, 413);
    let pulled = 0;
    const stream = new ReadableStream({
      pull(c) {
        pulled++;
        c.enqueue(new TextEncoder().encode("abcdef"));
      },
    });
    const res = await fetch("http://x/", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    assert.equal(res.status, 413);
    assert.ok(pulled <= 3, `stopped reading at the limit (${pulled} chunks pulled)`);
    assert.equal(await text(fetch("http://x/p", { method: "POST", body: "0123456789" })), "200 POST /p [0123456789]");
  });

  it("408 once no body byte has come for body_timeout", async () => {
    const { fetch } = handlerFor(echo, { body_timeout: 0.2 });
    const stream = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("a")) }); // then nothing
    const res = await fetch("http://x/", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    assert.equal(res.status, 408);
  });

  it("answers a synchronous route on a body-less request within the call: no promise", () => {
    const { fetch } = handlerFor(echo);
    const res = fetch("http://x/sync");
    assert.ok(res instanceof Response, "a Response, not a Promise");
  });
});

describe("pipeline, step 3: run", () => {
  it("503 at route_timeout for a route that awaits too long; the route's late reply is refused", async () => {
    let late = 0;
    const route: RouteFunction = async (_e, ksr) => {
      await new Promise((r) => setTimeout(r, 300));
      late = ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", "late");
    };
    const { handler, fetch } = handlerFor(route, { route_timeout: 0.1 });
    await handler.ready;
    assert.equal((await fetch("http://x/")).status, 503);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(late, -1);
  });

  it("the global KSR is the request's own across awaits, for 50 requests at once", async () => {
    const route: RouteFunction = async () => {
      const before = KSR.pv.get("$mhttpd(url)");
      await new Promise((r) => setTimeout(r, Math.random() * 10));
      KSR.microhttpd.mhttpd_reply(200, "OK", "text/plain", `${before} ${KSR.pv.get("$mhttpd(url)")}`);
    };
    const { handler } = handlerFor(route, {}, { adapter: fakeAdapter({ asyncContext: () => new AsyncLocalStorage() }) });
    await handler.ready;
    const bodies = await Promise.all(Array.from({ length: 50 }, (_, i) => text(handler.fetch(new Request(`http://x/r${i}`), { peer: "192.0.2.1" }))));
    bodies.forEach((b, i) => assert.equal(b, `200 /r${i} /r${i}`));
  });
});

describe("pipeline, step 4: answer", () => {
  it("500 for a throw before any reply, the reply for a throw after one, 500 for no reply", async () => {
    const route: RouteFunction = (_e, ksr) => {
      const url = ksr.pv.get("$mhttpd(url)");
      if (url === "/after") ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", "replied");
      if (url !== "/none") throw new Error("on purpose");
    };
    const { fetch, lines } = handlerFor(route);
    assert.equal(await text(fetch("http://x/before")), "500 Internal Server Error\n");
    assert.equal(await text(fetch("http://x/after")), "200 replied");
    assert.equal(await text(fetch("http://x/none")), "500 Internal Server Error\n");
    assert.ok(lines.some((l) => /route ended without a reply for GET \/none/.test(l)));
  });

  it("drop asks the adapter to close the connection, even after a reply", async () => {
    const { fetch, adapter } = handlerFor((_e, ksr) => {
      ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", "never sent");
      ksr.x.drop();
    });
    await Promise.resolve(fetch("http://x/")).catch(() => {});
    assert.equal((adapter as ReturnType<typeof fakeAdapter>).drops, 1);
  });

  it("hands the reply to the adapter with Connection: close while draining", async () => {
    const lifecycle = new Lifecycle();
    let close: boolean | undefined;
    const adapter = fakeAdapter({
      respond: (r, e, out) => {
        close = out.close;
        return webDefaults.respond(r, e, out);
      },
    });
    const { fetch } = handlerFor(echo, {}, { lifecycle, adapter });
    lifecycle.draining = true;
    const res = await fetch("http://x/");
    assert.equal(close, true);
    assert.equal(res.headers.get("connection"), "close");
  });
});

describe("KSR: the global object and the per-request one offer the same", () => {
  it("every member of a request's Ksr is on the global KSR", () => {
    const members = Object.getOwnPropertyNames(Ksr.prototype).filter((n) => n !== "constructor");
    for (const name of members) assert.ok(name in KSR, `KSR.${name} is missing from the global object`);
  });
});
