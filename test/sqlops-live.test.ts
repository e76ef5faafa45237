// sqlops on a live server under each runtime, through KSR (a TypeScript route
// loaded by app_jsdt from a .cfg that declares the connections), against SQLite
// files in a temporary folder and a PostgreSQL server the suite starts itself
// (test/_postgres.ts). The same cases on both databases: typed values, every
// return code, bound values that stay values, results that stay with their
// request; then what only a server can do: not answer, or answer too late.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES, ROOT, RUNTIMES, httpRequest, runToExit, runtimeCommand, startServer, waitForLog, type Runtime, type Server } from "./_harness.ts";
import { freePort, startPostgres, type Postgres } from "./_postgres.ts";

const ROUTE = path.join(FIXTURES, "sqlops", "route.ts");
let pg: Postgres;
let dir: string;
let closedPort: number;

before(async () => {
  pg = await startPostgres();
  dir = mkdtempSync(path.join(tmpdir(), "mhttpd-sqlops-"));
  closedPort = await freePort();
});
after(() => {
  pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Deno writes a SQLite file only with --allow-write: given for the test's folder alone, as the README advises. */
const launch = (runtime: Runtime) =>
  runtime === "deno" ? { command: [runtimeCommand("deno")[0], "run", "--allow-net", "--allow-read", "--allow-env", `--allow-write=${dir}`, path.join(ROOT, "adapters/deno.ts")] } : {};

function cfg(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, ["#!KAMAILIO", 'loadmodule "microhttpd.so"', 'loadmodule "sqlops.so"', ...lines, ""].join("\n"));
  return file;
}

function kemiCfg(runtime: string): string {
  return cfg(`${runtime}.cfg`, [
    'loadmodule "db_sqlite.so"',
    'loadmodule "db_postgres.so"',
    'loadmodule "app_jsdt.so"',
    `modparam("sqlops", "sqlcon", "lite=>sqlite://${runtime}.db")`,
    `modparam("sqlops", "sqlcon", "pg=>${pg.url}")`,
    `modparam("sqlops", "sqlcon", "down=>postgres://postgres@127.0.0.1:${closedPort}/postgres")`,
    // start although "down" does not answer; each query tries again
    'modparam("sqlops", "connect_mode", 1)',
    `modparam("app_jsdt", "load", "${ROUTE}")`,
    'modparam("microhttpd", "event_callback", "ksr_request")',
    'modparam("microhttpd", "route_timeout", 2)',
  ]);
}

async function json(srv: Server, target: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await httpRequest(srv.port, body === undefined ? "GET" : "POST", target, body === undefined ? {} : { body: JSON.stringify(body) });
  const res = r.responses[0];
  assert.ok(res, `no response to ${target}`);
  assert.equal(res.status, 200, `${target}: ${res.body.toString()}`);
  return JSON.parse(res.body.toString()) as Record<string, unknown>;
}

const EVIL = "o'brien'); drop table t; --\\";
const ROWS = [
  [1, "alice", 2.5, null],
  [2, EVIL, -1, "x"],
  [3, "ünï 😀", 0.125, ""],
];

for (const runtime of RUNTIMES) {
  describe(`sqlops through KSR on ${runtime}`, () => {
    let srv: Server;
    before(async () => {
      srv = await startServer(runtime, [kemiCfg(runtime), "--listen-addr", "127.0.0.1", "--listen-port", "0", "--debug", "3"], launch(runtime));
    });
    after(async () => {
      await srv?.stop();
    });

    for (const con of ["lite", "pg"]) {
      it(`${con}: rows in, the same typed values out (integers, reals as text, text, NULL)`, async () => {
        assert.deepEqual(await json(srv, `/${con}/setup`), { drop: 0, create: 0 });
        assert.deepEqual(await json(srv, `/${con}/insert`, ROWS), { codes: [2, 2, 2], sqlrows: 1 });
        const got = await json(srv, `/${con}/select?from=1`);
        assert.equal(got.code, 1);
        assert.deepEqual([got.rows, got.cols], [3, 4]);
        assert.deepEqual(got.cells, [
          [1, "alice", "2.5", null],
          [2, EVIL, "-1", "x"],
          [3, "ünï 😀", "0.125", ""],
        ]);
        assert.deepEqual(got.dbr, { rows: 3, cols: 4, cell: "alice", colname: "score", outside: null });
        assert.deepEqual(got.nulls, { is_null: 1, not_null: 0, out_of_bounds: -1, gete: "", getz: 0 });
        assert.deepEqual([got.freed, got.after_free, got.sqlrows], [1, 0, 3]);
      });

      it(`${con}: Kamailio's return codes, and a -1 with an error log naming the connection`, async () => {
        assert.deepEqual(await json(srv, `/${con}/codes`), {
          kemi_query_rows: 0,
          kemi_query_none: 0,
          kemi_rows_kept: 0,
          bind_none: 2,
          bind_no_result: 3,
          syntax_error: -1,
          two_statements: -1,
          missing_values: -1,
          bad_value: -1,
          unknown_connection: -1,
        });
        await waitForLog(srv, new RegExp(`sql_query: connection "${con}": .*syntax error.*\\[query: selec 1\\]`));
        await waitForLog(srv, /sql_query_bind: value 1 is object: bind a string, a finite number or null/);
        await waitForLog(srv, /sql_query: no connection "nosuch"/);
      });

      it(`${con}: sql_pvquery sets the first row's columns; sql_xquery's rows read as $xavp`, async () => {
        assert.deepEqual(await json(srv, `/${con}/pvquery`), { code: 1, name: "alice", score: "2.5", note: null, none: 2, short: -1, readonly: -1 });
        assert.deepEqual(await json(srv, `/${con}/xquery`), { code: 1, none: 1, first: "alice", second: EVIL, last: 3, missing: null, empty: null, after_unset: EVIL });
      });

      it(`${con}: a bound value is a value, whatever it holds; results stay with their request`, async () => {
        const got = await json(srv, `/${con}/injection?name=${encodeURIComponent("' or '1'='1")}`);
        assert.deepEqual(got, { code: 1, matches: 0, still: 0, count: 3 });
        assert.deepEqual(await json(srv, `/${con}/isolated`), { rows: 0, dbr: 0 });
      });
    }

    it("pg: a query still running at route_timeout is cancelled; the request gets its 503", async () => {
      const r = await httpRequest(srv.port, "GET", "/pg/slow");
      assert.equal(r.responses[0]?.status, 503);
      await waitForLog(srv, /connection "pg": the request ended \(route_timeout or the client went away\) before the query did/, 6000);
      assert.equal((await httpRequest(srv.port, "GET", "/pg/isolated")).responses[0]?.status, 200, "the server answers on");
    });

    it("a PostgreSQL server that does not answer: -1 and an error log, the request answered", async () => {
      const got = await json(srv, "/down/codes");
      assert.equal(got.kemi_query_rows, -1);
      assert.equal(got.bind_none, -1);
      await waitForLog(srv, /sql_query: connection "down": .*ECONNREFUSED/);
    });
  });

  it(`examples/webhook-store.cfg (its TypeScript route) on ${runtime}: deliveries stored and read back`, async () => {
    const db = path.join(dir, `webhooks-${runtime}.db`);
    const srv = await startServer(runtime, [path.join(ROOT, "examples", "webhook-store.cfg"), "--listen-addr", "127.0.0.1", "--listen-port", "0"], { env: { MHTTPD_WEBHOOK_DB: db }, ...launch(runtime) });
    try {
      const send = async (method: string, target: string, body?: string) => {
        const res = (await httpRequest(srv.port, method, target, body === undefined ? {} : { body, headers: { "Content-Type": "application/json" } })).responses[0];
        assert.ok(res, `${method} ${target}`);
        return { status: res.status, json: JSON.parse(res.body.toString()) as Record<string, unknown> };
      };
      assert.deepEqual(await send("GET", "/hooks/github/latest"), { status: 404, json: { error: "nothing from github yet" } });
      assert.deepEqual(await send("POST", "/hooks/github", '{"event":"push","ref":"main"}'), { status: 202, json: { id: 1 } });
      const hostile = `{"event":"x'); drop table hooks; --","n":1}`;
      assert.deepEqual(await send("POST", "/hooks/github", hostile), { status: 202, json: { id: 2 } });
      assert.deepEqual(await send("POST", "/hooks/gitlab", "[]"), { status: 202, json: { id: 3 } });
      const last = await send("GET", "/hooks/github/latest");
      assert.equal(last.status, 200);
      assert.deepEqual([last.json.id, last.json.payload], [2, JSON.parse(hostile)]);
      assert.equal(typeof last.json.received, "number");
      assert.equal((await send("POST", "/hooks/github", "not json")).status, 400);
      assert.equal((await send("POST", "/hooks/Bad%20Source", "{}")).status, 400);
      assert.equal((await send("GET", "/hooks/github")).status, 405);
      await waitForLog(srv, /webhook-store: stored delivery 3 from gitlab/);
    } finally {
      await srv.stop();
    }
  });

  it(`examples/webhook-store.cfg on ${runtime}: rtimer runs ksr_purge, which deletes what is older than the retention`, async () => {
    const db = path.join(dir, `webhooks-purge-${runtime}.db`);
    const env = { MHTTPD_WEBHOOK_DB: db, MHTTPD_WEBHOOK_PURGE_S: "1", MHTTPD_WEBHOOK_KEEP_S: "1" };
    const srv = await startServer(runtime, [path.join(ROOT, "examples", "webhook-store.cfg"), "--listen-addr", "127.0.0.1", "--listen-port", "0"], { env, ...launch(runtime) });
    try {
      const post = await httpRequest(srv.port, "POST", "/hooks/old", { body: "{}", headers: { "Content-Type": "application/json" } });
      assert.equal(post.responses[0]?.status, 202);
      await waitForLog(srv, /webhook-store: purged 1 deliveries older than 1 s/, 8000);
      assert.equal((await httpRequest(srv.port, "GET", "/hooks/old/latest")).responses[0]?.status, 404, "the purged delivery is gone");
    } finally {
      await srv.stop();
    }
  });

  describe(`sqlops start-up errors on ${runtime}`, () => {
    if (runtime === "deno") {
      it("Deno without --allow-write: the SQLite file cannot be opened, and start-up says why", async () => {
        const r = await runToExit("deno", [cfg("deno-nowrite.cfg", ['loadmodule "db_sqlite.so"', 'modparam("sqlops", "sqlcon", "ca=>sqlite://nowrite.db")']), "--listen-port", "0"]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /sqlops connection "ca" \(sqlite:\/\/nowrite\.db\): cannot open .*nowrite\.db with node:sqlite: .*write access/i);
      });
    }

    const fails = async (name: string, lines: string[], re: RegExp) => {
      const r = await runToExit(runtime, [cfg(`${runtime}-${name}.cfg`, lines), "--listen-port", "0"], undefined, 20000, launch(runtime));
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stdout, /listening/);
    };

    it("a connection whose database module is not loaded", () =>
      fails("nomodule", ['modparam("sqlops", "sqlcon", "ca=>sqlite:///tmp/x.db")'], /:4:1: sqlops connection "ca" needs loadmodule "db_sqlite.so"/));

    it("a database mhttpd does not provide", () =>
      fails("mysql", ['modparam("sqlops", "sqlcon", "ca=>mysql://u:secret@h/db")'], /not db_mysql/));

    it("a SQLite file that cannot be opened (connect_mode 0)", () =>
      fails("badfile", ['loadmodule "db_sqlite.so"', 'modparam("sqlops", "sqlcon", "ca=>sqlite:///nonexistent-dir/x.db")'], /sqlops connection "ca" \(sqlite:\/\/\/nonexistent-dir\/x\.db\): cannot open/));

    it("a PostgreSQL server that does not answer at start-up (connect_mode 0)", () =>
      fails("pgdown", ['loadmodule "db_postgres.so"', `modparam("sqlops", "sqlcon", "ca=>postgres://postgres:secret@127.0.0.1:${closedPort}/db")`], /sqlops connection "ca" \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/db\): .*ECONNREFUSED/));

    it("a db_postgres parameter mhttpd does not run", () =>
      fails("retries", ['loadmodule "db_postgres.so"', 'modparam("db_postgres", "retries", 3)'], /modparam db_postgres\.retries is not supported/));
  });
}
