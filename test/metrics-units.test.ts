// The metrics without a server: the exposition writer against prom-client's own
// output for the same figures (fast-check, seeded: MHTTPD_FC_SEED=N replays a
// run), snapshots adding up, the supervisor's sum with a slow and a dead worker,
// the metrics check in the pipeline (in-process, the fake adapter's peer from
// env), and the statistics module in a .cfg and through KSR.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import client from "prom-client";
import { webDefaults, type RequestAdapter } from "../src/adapter.ts";
import { resolveParams } from "../src/config.ts";
import { createFetchHandler } from "../src/edge.ts";
import { createHandler } from "../src/handler.ts";
import { Logger } from "../src/log.ts";
import { ClusterMetrics } from "../src/metrics/cluster.ts";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { FAMILIES, helpText, labelValue, renderExposition } from "../src/metrics/exposition.ts";
import { addSnapshot, DURATION_BOUNDS, emptySnapshot, isSnapshot, METHODS, REFUSAL_REASONS, REFUSALS, type MetricsSnapshot, type RefusalReason } from "../src/metrics/snapshot.ts";
import { applyRouteModparams } from "../src/modules/modparam.ts";
import { parseUpdateValue } from "../src/modules/statistics.ts";
import { validateParam } from "../src/config.ts";
import { kemiRoute, type RouteFunction } from "../src/route.ts";
import { parseExposition, value } from "./_prometheus.ts";

const seed = Number(process.env.MHTTPD_FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const runs = { seed, numRuns: 200 };
const INFO = { version: "0.1.0", runtime: "test" };

const observation = fc.record({
  method: fc.oneof(fc.constantFrom(...METHODS.filter((m) => m !== "other")), fc.string({ maxLength: 8 })),
  status: fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 599 })),
  seconds: fc.oneof(fc.constantFrom(...DURATION_BOUNDS), fc.double({ min: 0, max: 100, noNaN: true })),
  requestBytes: fc.nat(1 << 20),
  responseBytes: fc.nat(1 << 20),
});
const figures = fc.record({
  requests: fc.array(observation, { maxLength: 40 }),
  refusals: fc.array(fc.constantFrom(...REFUSAL_REASONS), { maxLength: 20 }),
  errors: fc.nat(5),
  timeouts: fc.nat(5),
  inflight: fc.nat(50),
  // names that Object.prototype has too (a statistic may be called "constructor")
  stats: fc.dictionary(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,12}$/), fc.constantFrom("constructor", "__proto__", "valueOf", "hasOwnProperty")), fc.integer({ min: -1000, max: 1000 }), { maxKeys: 4 }),
  memory: fc.option(fc.record({ rss: fc.nat(), heapTotal: fc.nat(), heapUsed: fc.nat() }), { nil: undefined }),
});
type Figures = typeof figures extends fc.Arbitrary<infer T> ? T : never;

/** our collector, fed the figures */
function collected(f: Figures): MetricsSnapshot {
  const c = new MetricsCollector({ inflight: () => f.inflight, memory: () => f.memory });
  for (const r of f.requests) c.count(r.method, r.status, r.seconds, r.requestBytes, r.responseBytes);
  for (const reason of f.refusals) c.refused(reason);
  for (let i = 0; i < f.errors; i++) c.routeFailed();
  for (let i = 0; i < f.timeouts; i++) c.routeTimedOut();
  const s = c.snapshot();
  s.stats = f.stats;
  return s;
}

/** the same figures through prom-client, family by family, in our order */
async function promClientText(f: Figures, s: MetricsSnapshot): Promise<string> {
  const registers = [new client.Registry()];
  const help = (name: keyof typeof FAMILIES) => FAMILIES[name][1];
  const gauge = (name: keyof typeof FAMILIES, v: number) => new client.Gauge({ name, help: help(name), registers }).set(v);
  const counter = (name: keyof typeof FAMILIES, v: number) => new client.Counter({ name, help: help(name), registers }).inc(v);
  new client.Gauge({ name: "mhttpd_info", help: help("mhttpd_info"), labelNames: ["version", "runtime"], registers }).set(INFO, 1);
  const requests = new client.Counter({ name: "mhttpd_requests_total", help: help("mhttpd_requests_total"), labelNames: ["method", "status"], registers });
  const byKey = new Map<string, number>();
  for (const r of f.requests) {
    const method = (METHODS as readonly string[]).includes(r.method) ? r.method : "other";
    const key = `${method} ${r.status === 0 ? "dropped" : r.status}`;
    byKey.set(key, (byKey.get(key) ?? 0) + 1);
  }
  for (const key of [...byKey.keys()].sort()) {
    const [method, status] = key.split(" ");
    requests.inc({ method, status }, byKey.get(key));
  }
  const h = new client.Histogram({ name: "mhttpd_request_duration_seconds", help: help("mhttpd_request_duration_seconds"), buckets: [...DURATION_BOUNDS], registers });
  for (const r of f.requests) h.observe(r.seconds);
  gauge("mhttpd_requests_in_flight", f.inflight);
  counter("mhttpd_request_body_bytes_total", f.requests.reduce((n, r) => n + r.requestBytes, 0));
  counter("mhttpd_response_body_bytes_total", f.requests.reduce((n, r) => n + r.responseBytes, 0));
  const errors = new client.Counter({ name: "mhttpd_route_errors_total", help: help("mhttpd_route_errors_total"), labelNames: ["kind"], registers });
  errors.inc({ kind: "thrown" }, f.errors);
  errors.inc({ kind: "stray" }, s.strayErrors);
  counter("mhttpd_route_timeouts_total", f.timeouts);
  const refusals = new client.Counter({ name: "mhttpd_refusals_total", help: help("mhttpd_refusals_total"), labelNames: ["reason", "status"], registers });
  for (const key of REFUSAL_REASONS) refusals.inc({ ...REFUSALS[key] }, f.refusals.filter((r) => r === key).length);
  gauge("mhttpd_workers", 1);
  counter("mhttpd_worker_restarts_total", 0);
  const names = Object.keys(f.stats).sort();
  if (names.length) {
    const stat = new client.Gauge({ name: "mhttpd_stat", help: help("mhttpd_stat"), labelNames: ["name"], registers });
    for (const name of names) stat.set({ name }, f.stats[name]);
  }
  if (f.memory) {
    gauge("process_resident_memory_bytes", f.memory.rss);
    gauge("mhttpd_heap_total_bytes", f.memory.heapTotal);
    gauge("mhttpd_heap_used_bytes", f.memory.heapUsed);
  }
  return registers[0].metrics();
}

describe(`the exposition writer, against prom-client (seed ${seed})`, () => {
  it("writes the same text as prom-client for the same figures, and the strict reader takes it", async () => {
    await fc.assert(
      fc.asyncProperty(figures, async (f) => {
        const s = collected(f);
        const ours = renderExposition(s, INFO);
        assert.equal(ours, await promClientText(f, s));
        const e = parseExposition(ours);
        assert.equal(value(e, "mhttpd_request_duration_seconds_count"), f.requests.length);
      }),
      runs,
    );
  });

  it("escapes label values and HELP texts as prom-client does, whatever they hold", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 30 }), fc.string({ unit: "binary", minLength: 1, maxLength: 30 }), async (label, help) => {
        const registers = [new client.Registry()];
        new client.Gauge({ name: "g", help, labelNames: ["l"], registers }).set({ l: label }, 1);
        assert.equal(await registers[0].metrics(), `# HELP g ${helpText(help)}\n# TYPE g gauge\ng{l="${labelValue(label)}"} 1\n`);
      }),
      runs,
    );
  });
});

describe(`the parameters and values taken from outside (seed ${seed})`, () => {
  it("metrics: any text is off, a path the request's path can equal, or an error naming it", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 20 }).map((t) => "/" + t)), (raw) => {
        let got: string;
        try {
          got = validateParam("metrics", raw, "test");
        } catch (e) {
          assert.match((e as Error).message, /^invalid metrics .* \(from test\): expected "off" or a path that starts with "\/"/);
          return;
        }
        assert.ok(got === "off" || /^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(got), got);
      }),
      runs,
    );
    assert.equal(validateParam("metrics", " /metrics ", "test"), "/metrics");
    assert.equal(validateParam("metrics", "OFF", "test"), "off");
    assert.throws(() => validateParam("metrics_allowed_ips", "", "test"), /the list is empty/);
  });

  it("update_stat's value: an integer from -65535 to 65535 as Kamailio's str2s reads it, or nothing", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 8 }), fc.integer().map(String), fc.integer({ min: -70000, max: 70000 }).map((n) => (n > 0 ? `+${n}` : String(n)))), (raw) => {
        const n = parseUpdateValue(raw);
        if (n === undefined) return;
        assert.ok(Number.isInteger(n) && Math.abs(n) <= 65535, `${JSON.stringify(raw)} -> ${n}`);
        assert.equal(n, Number(raw.trim()));
      }),
      runs,
    );
  });
});

describe(`snapshots (seed ${seed})`, () => {
  it("two processes' snapshots add up to what one process counting both would say", () => {
    fc.assert(
      fc.property(figures, figures, (a, b) => {
        const both: Figures = { ...a, requests: [...a.requests, ...b.requests], refusals: [...a.refusals, ...b.refusals], errors: a.errors + b.errors, timeouts: a.timeouts + b.timeouts };
        const sum = addSnapshot(addSnapshot(emptySnapshot(), collected(a)), collected(b));
        const one = collected(both);
        assert.deepEqual({ ...sum.requests }, { ...one.requests });
        assert.deepEqual(sum.durationBuckets, one.durationBuckets);
        assert.equal(sum.requestBodyBytes, one.requestBodyBytes);
        assert.deepEqual({ ...sum.refusals }, { ...one.refusals });
        const stats: Record<string, number> = Object.create(null);
        for (const [k, n] of [...Object.entries(a.stats), ...Object.entries(b.stats)]) stats[k] = (Object.hasOwn(stats, k) ? stats[k] : 0) + n;
        assert.deepEqual({ ...sum.stats }, { ...stats });
        assert.equal(sum.processes, 2);
        assert.ok(isSnapshot(sum));
      }),
      runs,
    );
  });

  it("a message that is not a snapshot of numbers is refused", () => {
    const good = emptySnapshot();
    assert.ok(isSnapshot(good));
    assert.equal(isSnapshot({ ...good, requests: { "GET 200": "1" } }), false);
    assert.equal(isSnapshot({ ...good, refusals: { nosuch: 1 } }), false);
    assert.equal(isSnapshot({ ...good, durationBuckets: [1] }), false);
    assert.equal(isSnapshot({ ...good, memory: { rss: 1 } }), false);
    assert.equal(isSnapshot({ ...good, inflight: Infinity }), false);
  });
});

describe("the supervisor's sum (ClusterMetrics)", () => {
  const report = (requests: number): MetricsSnapshot => ({ ...emptySnapshot(), requests: { "GET 200": requests }, processes: 1, inflight: 1 });

  it("sums fresh reports, uses a slow worker's last one, keeps a dead worker's counts, counts restarts", async () => {
    const sent: [number, unknown][] = [];
    let live = [0, 1];
    const answers = new Map<number, number>([[0, 5], [1, 7]]);
    const cluster: ClusterMetrics = new ClusterMetrics({
      live: () => live,
      send: (slot, m) => {
        sent.push([slot, m]);
        const msg = m as { t: string; id: number };
        const n = answers.get(slot);
        // a worker that answers (at once, as a message would come back)
        if (msg.t === "collect" && n !== undefined) queueMicrotask(() => cluster.onMessage(slot, { mhttpd: "metrics", t: "report", id: msg.id, snapshot: report(n) }));
      },
    });
    let s = await cluster.gather();
    assert.equal(s.requests["GET 200"], 12);
    assert.equal(s.processes, 2);
    // worker 1 now busy: its last report (7) stands in, after GATHER_MS
    answers.set(0, 6);
    answers.delete(1);
    s = await cluster.gather();
    assert.equal(s.requests["GET 200"], 13);
    // worker 1 dies and is restarted: its 7 stay, in-flight does not; the new one reports 1
    cluster.onExit(1, true);
    answers.set(1, 1);
    s = await cluster.gather();
    assert.equal(s.requests["GET 200"], 6 + 7 + 1);
    assert.equal(s.inflight, 2);
    assert.equal(s.workerRestarts, 1);
    // a scrape from worker 0 gets the figures back over its channel
    live = [0];
    cluster.onMessage(0, { mhttpd: "metrics", t: "scrape", id: 41 });
    await new Promise((r) => setTimeout(r, 20));
    const figures = sent.find(([slot, m]) => slot === 0 && (m as { t: string }).t === "figures") as [number, { id: number; snapshot: MetricsSnapshot }];
    assert.equal(figures[1].id, 41);
    assert.equal(figures[1].snapshot.requests["GET 200"], 6 + 7 + 1 - 1);
  });

  it("ignores messages that are not its own", async () => {
    const cluster = new ClusterMetrics({ live: () => [0], send: () => {} });
    cluster.onMessage(0, { cmd: "NODE_CLUSTER" });
    cluster.onMessage(0, { mhttpd: "metrics", t: "report", id: 0, snapshot: { requests: "all" } });
    cluster.onMessage(0, null);
    const s = await cluster.gather();
    assert.deepEqual(Object.keys(s.requests), []);
  });
});

type Env = { peer: string };
const adapter: RequestAdapter = {
  ...webDefaults,
  name: "fake",
  limits: { connections: false, head: Infinity, bodyStall: false, timersPerRequest: false },
  peer: (_r, env) => ({ address: (env as Env).peer, port: 4444 }),
  asyncContext: () => undefined,
};
const echo: RouteFunction = (_e, ksr) => ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", `route saw ${ksr.pv.get("$mhttpd(method)")} ${ksr.pv.get("$mhttpd(url)")}`);

function handlerFor(params: Record<string, unknown>, route: RouteFunction = echo) {
  const handler = createHandler({ route: kemiRoute(route), params: resolveParams({ route: params }), logger: new Logger(2, () => {}), adapter });
  return (url: string, init: RequestInit = {}, peer = "192.0.2.1") => Promise.resolve(handler.fetch(new Request(url, init), { peer } satisfies Env));
}
const scrapeOf = async (res: Response) => {
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
};

describe("the metrics check in the pipeline (in-process)", () => {
  it("answers a scraper in metrics_allowed_ips before allowed_ips; anyone else's request for the path goes on as any other", async () => {
    const fetch = handlerFor({ metrics: "/metrics", metrics_allowed_ips: "198.51.100.7", allowed_ips: "192.0.2.0/24" });
    // the scraper is no client of the API
    assert.equal((await fetch("http://x/api", {}, "198.51.100.7")).status, 403);
    const e = await scrapeOf(await fetch("http://x/metrics?x=1", {}, "198.51.100.7"));
    assert.equal(value(e, "mhttpd_refusals_total", { reason: "allowed_ips", status: "403" }), 1);
    // an API client asking for the path reaches the route; a stranger gets allowed_ips' 403
    assert.equal(await (await fetch("http://x/metrics")).text(), "route saw GET /metrics");
    assert.equal((await fetch("http://x/metrics", {}, "203.0.113.9")).status, 403);
    // the scraper's other methods and paths are requests like any other
    assert.equal((await fetch("http://x/metrics", { method: "POST", body: "x" }, "198.51.100.7")).status, 403);
    assert.equal((await fetch("http://x/metrics/", {}, "198.51.100.7")).status, 403);
    const head = await fetch("http://x/metrics", { method: "HEAD" }, "198.51.100.7");
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    assert.ok(Number(head.headers.get("content-length")) > 100);
    // the scrapes were not counted; everything else was
    const after = await scrapeOf(await fetch("http://x/metrics", {}, "198.51.100.7"));
    assert.equal(value(after, "mhttpd_requests_total", { method: "GET", status: "200" }), 1);
    assert.equal(value(after, "mhttpd_requests_total", { method: "GET", status: "403" }), 3);
    assert.equal(value(after, "mhttpd_requests_total", { method: "POST", status: "403" }), 1);
    assert.equal(after.samples.has('mhttpd_requests_total{method="HEAD",status="200"}'), false);
  });

  it("metrics off (the default): the path is the route's, and nothing is counted", async () => {
    const fetch = handlerFor({});
    assert.equal(await (await fetch("http://x/metrics", {}, "127.0.0.1")).text(), "route saw GET /metrics");
  });

  it("counts refusals by reason, route errors, timeouts, drops, body bytes and methods not listed", async () => {
    const route: RouteFunction = async (_e, ksr) => {
      const url = ksr.pv.get("$mhttpd(url)");
      if (url === "/throw") throw new Error("on purpose");
      if (url === "/drop") ksr.x.drop();
      if (url === "/slow") await new Promise((r) => setTimeout(r, 300));
      ksr.microhttpd.mhttpd_reply(201, "Created", "text/plain", "é");
    };
    const fetch = handlerFor({ metrics: "/m", metrics_allowed_ips: "127.0.0.1", max_body_size: 8, max_header_size: 1024, url_skip: "^/admin", route_timeout: 0.1 }, route);
    assert.equal((await fetch("http://x/a", { method: "POST", body: "x".repeat(9) })).status, 413);
    assert.equal((await fetch("http://x/a", { headers: { "x-big": "v".repeat(2000) } })).status, 431);
    assert.equal((await fetch("http://x/admin")).status, 404);
    assert.equal((await fetch("http://x/throw")).status, 500);
    assert.equal((await fetch("http://x/slow")).status, 503);
    await fetch("http://x/drop").then((r) => r.text()).catch(() => {});
    assert.equal((await fetch("http://x/a", { method: "PROPFIND" })).status, 201);
    assert.equal((await fetch("http://x/a", { method: "POST", body: "12345" })).status, 201);
    const e = await scrapeOf(await fetch("http://x/m", {}, "127.0.0.1"));
    const refused = (reason: RefusalReason) => value(e, "mhttpd_refusals_total", { ...REFUSALS[reason] });
    assert.equal(refused("max_body_size"), 1);
    assert.equal(refused("max_header_size"), 1);
    assert.equal(refused("url_filter"), 1);
    assert.equal(refused("allowed_ips"), 0);
    assert.equal(value(e, "mhttpd_route_errors_total", { kind: "thrown" }), 1);
    assert.equal(value(e, "mhttpd_route_timeouts_total"), 1);
    assert.equal(value(e, "mhttpd_requests_total", { method: "GET", status: "dropped" }), 1);
    assert.equal(value(e, "mhttpd_requests_total", { method: "other", status: "201" }), 1);
    assert.equal(value(e, "mhttpd_requests_total", { method: "GET", status: "503" }), 1);
    assert.equal(value(e, "mhttpd_request_body_bytes_total"), 5);
    // "é" is two bytes, twice; the refusals' own short texts add theirs
    assert.ok(value(e, "mhttpd_response_body_bytes_total") >= 4);
    assert.equal(value(e, "mhttpd_request_duration_seconds_count"), 8);
  });
});

describe("the statistics module", () => {
  const cfg = (body: string, decl = 'modparam("statistics", "variable", "hits")\nmodparam("statistics", "variable", "kept/no_reset")') =>
    `loadmodule "microhttpd.so"\nloadmodule "statistics.so"\nloadmodule "xlog.so"\n${decl}\nevent_route[microhttpd:request] {\n${body}\n}\n`;
  const run = async (text: string, params: Record<string, unknown> = {}, url = "http://x/") => {
    const lines: string[] = [];
    const h = createFetchHandler({ cfg: text, params, log: (l) => lines.push(l) });
    const res = await h.fetch(new Request(url), { remoteAddr: { hostname: "127.0.0.1", port: 1 } });
    return { res, body: await res.text(), lines, h };
  };

  it("update_stat, reset_stat and $stat as Kamailio's: a literal name is checked at start-up, a variable per call", async () => {
    const { body, lines } = await run(
      cfg(`
  update_stat("hits", "+5"); update_stat("hits", "-2"); update_stat("kept", 4);
  $var(n) = "hits"; $var(by) = "+10"; update_stat("$var(n)", "$var(by)");
  $var(a) = $stat(hits); reset_stat("hits"); reset_stat("kept");
  $var(bad) = "nosuch"; $var(r1) = update_stat("$var(bad)", "1"); $var(z) = "x1"; $var(r2) = update_stat("hits", "$var(z)");
  mhttpd_reply("200", "OK", "text/plain", "$var(a) $stat(hits) $stat(kept)");`),
    );
    assert.equal(body, "13 0 4");
    assert.ok(lines.some((l) => /update_stat: variable "nosuch" not defined/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /update_stat: "x1" is not an integer/.test(l)), lines.join("\n"));
  });

  for (const [what, body, decl, message] of [
    ["an undeclared name", 'update_stat("nosuch", "+1");', undefined, /route\.cfg:7:\d+: update_stat: variable <nosuch> not defined: declare it with modparam\("statistics", "variable", "nosuch"\)/],
    ["an update of 0", 'update_stat("hits", "0");', undefined, /update_stat: update with 0 has no sense/],
    ["a value that is not a number", 'update_stat("hits", "one");', undefined, /update_stat: bad update number "one"/],
    ["a value past 65535", 'update_stat("hits", "+70000");', undefined, /update_stat: bad update number "\+70000"/],
    ["$stat of an undeclared name", 'xlog("$stat(nosuch)");', undefined, /no statistic "nosuch": declare it with modparam\("statistics", "variable", "nosuch"\)/],
    ["a name declared twice", "", 'modparam("statistics", "variable", "a")\nmodparam("statistics", "variable", "a")', /route\.cfg:5:\d+: .*statistic a is declared twice/],
    ["an unknown flag", "", 'modparam("statistics", "variable", "a/forever")', /unsupported flag "forever" \(the one flag is no_reset\)/],
    ["a name with a space", "", 'modparam("statistics", "variable", "a b")', /statistic name "a b": expected 1 to 128 letters, digits and _ \. : -/],
  ] as const) {
    it(`stops start-up for ${what}, naming it and the place`, () => {
      assert.throws(() => createFetchHandler({ cfg: cfg(body, decl) }), message);
    });
  }

  it("exports each statistic at the metrics path as mhttpd_stat{name}", async () => {
    const text = cfg('update_stat("hits", "+3"); mhttpd_reply("200", "OK", "text/plain", "ok");', 'modparam("statistics", "variable", "hits")\nmodparam("statistics", "variable", "other.one")');
    const { h } = await run(text, { metrics: "/metrics" });
    const res = await h.fetch(new Request("http://x/metrics"), { remoteAddr: { hostname: "127.0.0.1", port: 1 } });
    const e = parseExposition(await res.text());
    assert.equal(e.types.get("mhttpd_stat"), "gauge");
    assert.ok(value(e, "mhttpd_stat", { name: "hits" }) >= 3);
    assert.equal(value(e, "mhttpd_stat", { name: "other.one" }), 0);
  });

  it("KSR.statistics and $stat, on variables declared by a route module's modparams export", async () => {
    applyRouteModparams([["statistics", "variable", "logins"]], "route.ts");
    assert.throws(() => applyRouteModparams([["statistics", "variable", "x"], ["statistics", "variable", "x"]], "route.ts"), /the modparams export of route\.ts, entry 1 \("variable"\): statistic x is declared twice/);
    assert.throws(() => applyRouteModparams([["statistics", "counter", "x"]], "route.ts"), /module statistics has no parameter "counter" \(known: variable\)/);
    const lines: string[] = [];
    const h = createFetchHandler({
      route: (_e, ksr) => {
        const codes = [ksr.statistics.update_stat("logins", 2), ksr.statistics.update_stat("nosuch", 1), ksr.statistics.update_stat("logins", 1.5), ksr.statistics.reset_stat("nosuch")];
        ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", `${codes.join(" ")} ${ksr.pv.get("$stat(logins)")} ${ksr.pv.get("$stat(nosuch)")}`);
      },
      log: (l) => lines.push(l),
    });
    const res = await h.fetch(new Request("http://x/"), { remoteAddr: { hostname: "127.0.0.1", port: 1 } });
    assert.match(await res.text(), /^1 -1 -1 -1 \d+ null$/);
    assert.ok(lines.some((l) => /update_stat: no statistic "nosuch"/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /pv: no statistic "nosuch"/.test(l)), lines.join("\n"));
  });
});
