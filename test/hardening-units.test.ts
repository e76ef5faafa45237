// The hardening parameters' parsing, without a server (the client-address rules:
// test/addresses.test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveParams } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";
import { StallWatch } from "../src/pipeline/body.ts";
import { parseSeconds, parseSize } from "../src/params.ts";
import { sleep } from "./_harness.ts";
import "./_libraries.ts";

describe("hardening parameters", () => {
  it("reads sizes as bytes with k and m suffixes", () => {
    assert.equal(parseSize("65536", 1, 2 ** 30), 65536);
    assert.equal(parseSize("64k", 1, 2 ** 30), 65536);
    assert.equal(parseSize(" 1M ", 1, 2 ** 30), 1048576);
    assert.equal(parseSize(4096, 1, 2 ** 30), 4096);
    for (const bad of ["", "1.5k", "-1", "10x", "1g", "k", 0, 1.5]) assert.throws(() => parseSize(bad, 1, 2 ** 30), /expected a size/, String(bad));
  });

  it("reads times as seconds with fractions", () => {
    assert.equal(parseSeconds("10", 0.05, 86400), 10);
    assert.equal(parseSeconds("0.5", 0.05, 86400), 0.5);
    assert.equal(parseSeconds(2.25, 0.05, 86400), 2.25);
    for (const bad of ["", "1s", "-1", "0", ".5", "1e3", "100000"]) assert.throws(() => parseSeconds(bad, 0.05, 86400), /expected seconds/, bad);
  });

  it("has the documented defaults and takes flags and environment", () => {
    const p = resolveParams({});
    assert.deepEqual(
      [p.max_body_size, p.max_header_size, p.header_timeout, p.body_timeout, p.idle_timeout, p.route_timeout, p.max_connections, p.shutdown_timeout, p.trusted_proxies],
      // max_header_size 0: not set, the runtime's own limit (issue 15: Deno 64 KiB, no per-request walk)
      [1048576, 0, 10, 30, 60, 30, 10000, 10, []],
    );
    const q = resolveParams({ cli: { max_body_size: "64k", header_timeout: "2" }, env: { MHTTPD_ROUTE_TIMEOUT: "0.5", MHTTPD_TRUSTED_PROXIES: "10.0.0.0/8, ::1" } });
    assert.equal(q.max_body_size, 65536);
    assert.equal(q.header_timeout, 2);
    assert.equal(q.route_timeout, 0.5);
    assert.deepEqual(q.trusted_proxies, ["10.0.0.0/8", "::1"]);
    assert.throws(() => resolveParams({ cli: { max_body_size: "10x" } }), (e: Error) => e instanceof ConfigError && /invalid max_body_size "10x" \(from --max-body-size\)/.test(e.message));
    assert.throws(() => resolveParams({ cli: { max_connections: "0" } }), /invalid max_connections/);
  });
});

describe("body stall watch (body_timeout)", () => {
  for (const perBody of [false, true]) {
    it(`fires once no byte came for its window, not while bytes come (${perBody ? "a timer per body" : "one shared sweeper"})`, async () => {
      const watch = new StallWatch(200, perBody);
      const fired: string[] = [];
      const t0 = Date.now();
      const quiet = watch.start(() => fired.push(`quiet ${Date.now() - t0}`));
      const steady = watch.start(() => fired.push("steady"));
      // the steady body gets a byte every 50 ms for 600 ms, three windows in all
      for (let i = 0; i < 12; i++) {
        await sleep(50);
        steady.last = Date.now();
      }
      watch.stop(steady);
      assert.equal(fired.length, 1, JSON.stringify(fired));
      const ms = Number(fired[0].split(" ")[1]);
      assert.ok(ms >= 190 && ms < 500, `the quiet body stalled after ${ms} ms (window 200 ms)`);
      watch.stop(quiet);
      // nothing left to watch: the shared sweeper stops with the last body
      await sleep(100);
      assert.equal(watch.watching, 0);
    });
  }
});
