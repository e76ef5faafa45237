// htable's autoexpire on a live server under each runtime: an item is gone once
// its seconds have passed; an unknown table attribute stops start-up, naming it.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { FIXTURES, RUNTIMES, httpRequest, runToExit, sleep, startServer } from "./_harness.ts";

const DIR = path.join(FIXTURES, "htable");

for (const runtime of RUNTIMES) {
  describe(`htable on ${runtime}`, () => {
    it("an item set with autoexpire=1 is read back, then gone after its second", async () => {
      const srv = await startServer(runtime, [path.join(DIR, "expire.cfg"), "--listen-addr", "127.0.0.1", "--listen-port", "0"]);
      try {
        assert.equal((await httpRequest(srv.port, "PUT", "/a", { body: "blue" })).responses[0]?.status, 201);
        const fresh = await httpRequest(srv.port, "GET", "/a");
        assert.equal(fresh.responses[0]?.status, 200);
        assert.equal(fresh.responses[0].body.toString(), "blue\n");
        await sleep(2500);
        const later = await httpRequest(srv.port, "GET", "/a");
        assert.equal(later.responses[0]?.status, 404, "expired");
        assert.equal(later.responses[0].body.toString(), "expired\n");
      } finally {
        assert.equal((await srv.stop()).code, 0);
      }
    });

    it("an unknown table attribute is a start-up error at file:line:col", async () => {
      const r = await runToExit(runtime, [path.join(DIR, "unknown-attribute.cfg"), "--listen-port", "0"]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown-attribute\.cfg:4:1: htable "cache": unknown attribute "autoexpires"/);
      assert.doesNotMatch(r.stdout, /listening/);
    });
  });
}
