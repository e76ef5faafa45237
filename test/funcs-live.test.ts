// jansson, crypto, uuid and the time variables on live servers, on every runtime,
// through a .cfg and a TypeScript route (test/fixtures/funcs/); hostile JSON on
// the server's own stack; and the start-up rules for what a cfg has that is not
// run: one warning for the SIP parts, an error for an event route Kamailio would run.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import path from "node:path";
import { describe, it } from "node:test";
import { FIXTURES, RUNTIMES, fields, httpRequest, runToExit, startServer, waitForLog, type Server } from "./_harness.ts";

const DIR = path.join(FIXTURES, "funcs");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];
const MAX_DEPTH = 2048;

async function post(srv: Server, target: string, body: string, headers: Record<string, string> = {}) {
  const r = await httpRequest(srv.port, "POST", target, { body, headers });
  assert.ok(r.responses[0], `a response to POST ${target}`);
  return r.responses[0];
}

for (const runtime of RUNTIMES) {
  for (const ext of ["cfg", "ts"]) {
    describe(`funcs.${ext} on ${runtime}`, () => {
      it("builds JSON from JSON, signs, and reads the clock and the generators", async () => {
        const srv = await startServer(runtime, [path.join(DIR, `funcs.${ext}`), ...LOCAL]);
        try {
          const json = await post(srv, "/json", JSON.stringify({ name: 'Zoë "Z" \\ <b>', tags: ["a", { b: [1, 2] }, 3] }));
          assert.equal(json.status, 200);
          assert.deepEqual(JSON.parse(json.body.toString("utf8")), { name: 'Zoë "Z" \\ <b>', count: 3, tags: ["a", { b: [1, 2] }, 3, "seen"], meta: { first: "a" } });
          assert.equal((await post(srv, "/json", '{"name":"x","name":"y","tags":[]}')).status, 400, "duplicate keys refused");
          assert.equal((await post(srv, "/json", '{"name":"x","tags":[1e999]}')).status, 400, "real overflow refused");

          const body = "héllo wörld ✓";
          const key = "s3cret-key";
          const mac = await post(srv, "/hmac", body, { "X-Key": key });
          assert.equal(mac.body.toString(), createHmac("sha256", key).update(body).digest("base64url"));

          const before = Math.floor(Date.now() / 1000);
          const t = fields((await httpRequest(srv.port, "GET", "/time")).responses[0].body);
          const after = Math.floor(Date.now() / 1000);
          for (const name of ["TS", "Ts", "TVs"]) assert.ok(Number(t[name]) >= before && Number(t[name]) <= after, `${name}=${t[name]}`);
          assert.equal(t.Ts, t.TVs);
          assert.match(t.Tf, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
          assert.equal(t.year, String(new Date().getUTCFullYear()));
          assert.ok(Number(t.random) >= 0 && Number(t.random) < 2 ** 31 && Number.isInteger(Number(t.random)), t.random);
          assert.match(t.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          assert.match(t.tuuid, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        } finally {
          assert.equal((await srv.stop()).code, 0);
        }
      });

      it(`hostile JSON: ${MAX_DEPTH} levels are read, deeper and 100 000 levels are refused, the server keeps serving`, async () => {
        const srv = await startServer(runtime, [path.join(DIR, `funcs.${ext}`), ...LOCAL]);
        try {
          const nested = (n: number) => "[".repeat(n) + "]".repeat(n);
          assert.equal((await post(srv, "/whole", nested(MAX_DEPTH))).body.toString(), `1 ${MAX_DEPTH * 2}`);
          assert.equal((await post(srv, "/whole", nested(MAX_DEPTH + 1))).body.toString(), "-1 0");
          assert.equal((await post(srv, "/whole", nested(100000))).body.toString(), "-1 0");
          assert.equal((await post(srv, "/whole", '{"a":'.repeat(100000))).body.toString(), "-1 0");
          assert.equal((await post(srv, "/whole", '{"__proto__":{"x":1},"constructor":2}')).body.toString(), "1 37");
          assert.equal((await post(srv, "/whole", '{"n":123456789012345678901234567890}')).body.toString(), "-1 0", "an integer beyond 64 bits is refused, never rounded");
          assert.equal((await httpRequest(srv.port, "GET", "/time")).responses[0]?.status, 200, "still serving");
          await waitForLog(srv, /maximum parsing depth reached/);
        } finally {
          assert.equal((await srv.stop()).code, 0);
        }
      });
    });
  }

  describe(`cfg start-up rules on ${runtime}`, () => {
    it("a cfg's SIP parts are accepted and named in one warning at start-up", async () => {
      const r = await runToExit(runtime, ["-c", path.join(DIR, "sip.cfg")]);
      assert.equal(r.code, 0, r.stderr);
      const warnings = r.stderr.split("\n").filter((l) => /WARNING/.test(l));
      assert.equal(warnings.length, 1, r.stderr);
      assert.match(warnings[0], /sip\.cfg: SIP only, accepted and not run: loadmodule sl, tm; request_route \(line 11\)/);
      assert.match(r.stderr, /config file ok, exiting/);
    });

    it("jansson_get_field on a live server (cfg only: KEMI has JSON.parse)", async () => {
      const srv = await startServer(runtime, [path.join(DIR, "funcs.cfg"), ...LOCAL]);
      try {
        assert.equal((await post(srv, "/field?f=a.b", '{"a.b":"dotted","a":{"b":"nested"}}')).body.toString(), "1 dotted");
        assert.equal((await post(srv, "/field?f=c", '{"a":1}')).body.toString(), "-1 absent");
      } finally {
        await srv.stop();
      }
    });

    it("an event route Kamailio would run at start-up stops start-up, naming it", async () => {
      const r = await runToExit(runtime, [path.join(DIR, "mod-init.cfg"), ...LOCAL]);
      assert.equal(r.code, 78);
      assert.match(r.stderr, /mod-init\.cfg:8:1: event_route\[htable:mod-init\] is not run by mhttpd/);
      assert.doesNotMatch(r.stdout + r.stderr, /listening/);
    });
  });
}
