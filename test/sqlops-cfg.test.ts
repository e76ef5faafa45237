// sqlops's cfg functions in a native .cfg route, live on Bun, Deno and Node, on a
// SQLite file in a temporary folder: the functions wait (the route suspends at each
// query and the server serves others meanwhile), their return codes and $dbr.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES, ROOT, RUNTIMES, fields, httpRequest, runtimeCommand, startServer, waitForLog, type Runtime, type Server } from "./_harness.ts";

const CFG = path.join(FIXTURES, "sqlops", "native.cfg");

/** Deno writes a SQLite file only with --allow-write (given for the test's folder alone) */
const launch = (runtime: Runtime, dir: string) =>
  runtime === "deno" ? { command: [runtimeCommand("deno")[0], "run", "--allow-net", "--allow-read", "--allow-env", `--allow-write=${dir}`, path.join(ROOT, "adapters/deno.ts")] } : {};

for (const runtime of RUNTIMES) {
  describe(`sqlops in a .cfg route on ${runtime}`, () => {
    let dir: string;
    let srv: Server;
    const get = async (target: string) => {
      const r = await httpRequest(srv.port, "GET", target);
      assert.equal(r.responses[0]?.status, 200, `${target}: ${srv.stderr().slice(-800)}`);
      return fields(r.responses[0].body);
    };
    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), "mhttpd-sqlcfg-"));
      srv = await startServer(runtime, [CFG, "--listen-addr", "127.0.0.1", "--listen-port", "0"], { env: { MHTTPD_TEST_SQLITE: path.join(dir, "notes.db") }, ...launch(runtime, dir) });
    });
    after(async () => {
      await srv?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("sql_query, sql_query_bind, $dbr, sql_result_free and sql_pvquery", async () => {
      // Kamailio's codes: 2 for a query that gives no rows, 1 for rows
      assert.equal((await get("/init")).rc, "2");
      const hostile = "x'); drop table notes; --";
      assert.equal((await get(`/add?text=${encodeURIComponent(hostile)}`)).rc, "2");
      assert.equal((await get("/add?text=second")).rc, "2");
      const list = await get("/list");
      assert.deepEqual([list.rc, list.rows, list.first, list.col], ["1", "2", hostile, "text"]);
      const count = await get("/count");
      assert.deepEqual([count.rc, count.n, count.max], ["1", "2", "2"]);
    });

    it("a failed query is -1 and an error log, and the server goes on", async () => {
      assert.equal((await get("/bad")).rc, "-1");
      await waitForLog(srv, /no_such_table/);
      assert.equal((await get("/count")).n, "2");
    });
  });
}
