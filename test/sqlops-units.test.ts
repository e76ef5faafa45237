// sqlops without a server: the checks every SQLite binding gets alike
// (src/modules/sql-text.ts) against SQLite itself (better-sqlite3, which refuses a
// second statement and a wrong number of values on its own), {sql.val}'s quoting
// against SQLite reading it back, and the start-up errors of the cfg functions.
// Property tests are seeded: MHTTPD_FC_SEED=<seed> replays a run (fast-check
// prints the seed and the counterexample when one fails).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import fc from "fast-check";
import { compileCfg } from "../src/cfg/index.ts";
import { TRANSFORMATIONS, sqlValBuffer } from "../src/cfg/transformations.ts";
import { sqliteShape } from "../src/modules/sql-text.ts";

const SEED = Number(process.env.MHTTPD_FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = { seed: SEED, numRuns: 1500 };
type Statement = { reader: boolean; bind(...v: unknown[]): unknown };
const Database = createRequire(import.meta.url)("better-sqlite3") as new (p: string) => { prepare(s: string): Statement; exec(s: string): void };
const db = new Database(":memory:");
db.exec("create table t(a, b)");

/** SQLite's answer: "many" (a second statement), "invalid" (any other error), or how many values it binds. */
function sqliteSays(sql: string): "many" | "invalid" | number {
  let st: Statement;
  try {
    st = db.prepare(sql);
  } catch (e) {
    return /more than one statement/.test((e as Error).message) ? "many" : "invalid";
  }
  for (let n = 0; n < 40; n++) {
    try {
      st.bind(...Array(n).fill(null));
      return n;
    } catch {
      // not this many
    }
  }
  return "invalid";
}

const expr = fc.constantFrom("?", "?3", "?12", ":a", "@b", "$c", ":a", "$c::x", "1", "'x;y'", "'it''s -- no comment'", '"a"', "[b;]", "`c`", "x'00'");
const gap = fc.constantFrom(" ", "\n", " /* ; */ ", " -- ; comment\n", "\t");
const select = fc.array(expr, { minLength: 1, maxLength: 5 }).map((xs) => `select ${xs.join(", ")}`);
const trigger = fc.constant("create temp trigger if not exists tr after insert on t begin select 1; update t set a = 2; end");
const statement = fc.oneof({ weight: 4, arbitrary: select }, { weight: 1, arbitrary: trigger });
const text = fc.tuple(fc.array(fc.tuple(gap, statement), { minLength: 1, maxLength: 3 }), fc.constantFrom("", ";", "; ", ";;", "; -- end", " /* x */")).map(([parts, end]) => parts.map(([g, s]) => g + s).join(";") + end);

describe("the statement and placeholder checks agree with SQLite", () => {
  it(`counts statements and placeholders as SQLite does (seed ${SEED})`, () => {
    fc.assert(
      fc.property(text, (sql) => {
        const says = sqliteSays(sql);
        const shape = sqliteShape(sql);
        if (says === "invalid") return;
        if (says === "many") assert.ok(shape.statements > 1, `${JSON.stringify(sql)}: SQLite sees more than one statement, the check ${shape.statements}`);
        else {
          assert.equal(shape.statements, 1, JSON.stringify(sql));
          assert.equal(shape.params, says, JSON.stringify(sql));
        }
      }),
      RUNS,
    );
  });

  it("a text of blanks and comments holds no statement; a trigger body is one", () => {
    assert.equal(sqliteShape(" -- x\n /* y */ ;").statements, 0);
    assert.equal(sqliteShape("create trigger tr after insert on t begin select 1; select 2; end;").statements, 1);
    assert.equal(sqliteShape("select 1; select 2").statements, 2);
    assert.deepEqual(sqliteShape("select ?, ?5, :a, :a, ?"), { statements: 1, params: 7 });
  });
});

describe("{sql.val}", () => {
  const val = TRANSFORMATIONS["sql.val"].fn;
  it(`quotes any text so that SQLite reads back the same text, as one statement (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }).filter((s) => !s.includes("\0")), (s) => {
        const literal = val(s, []) as string;
        const sql = `select ${literal} as v`;
        assert.equal(sqliteShape(sql).statements, 1);
        const row = (db.prepare(sql) as unknown as { get(): { v: string } }).get();
        assert.equal(row.v, s);
      }),
      RUNS,
    );
  });

  it("gives integers as they are, null as NULL / 0 / '', and fails (null) on a NUL or past tr_buf_size", () => {
    assert.equal(val(42, []), "42");
    assert.equal(val("o'brien\\", []), "'o''brien\\'");
    assert.deepEqual(["sql.val", "sql.val.int", "sql.val.str"].map((t) => TRANSFORMATIONS[t].ofNull), ["NULL", "0", "''"]);
    assert.equal(val("a\0b", []), null);
    assert.equal(val("x".repeat(sqlValBuffer.size / 2 - 1), []), `'${"x".repeat(sqlValBuffer.size / 2 - 1)}'`);
    assert.equal(val("x".repeat(sqlValBuffer.size / 2), []), null);
  });
});

describe("sqlops in the cfg: start-up errors", () => {
  const head = ['loadmodule "microhttpd.so"', 'loadmodule "xlog.so"', 'loadmodule "sqlops.so"', 'loadmodule "db_sqlite.so"', 'modparam("sqlops", "sqlcon", "ca=>sqlite://:memory:")'];
  const compile = (body: string) => compileCfg("/x/s.cfg", { text: [...head, `event_route[microhttpd:request] {`, body, "}"].join("\n") });

  it("an unknown connection, at file:line:col", () => {
    assert.throws(() => compile('sql_query_async("nope", "delete from t");'), /s\.cfg:7:\d+: sql_query_async: no sqlops connection "nope" \(declared: ca/);
  });
  it("a variable in sql_query_bind's query: it is taken as written", () => {
    assert.throws(() => compile('sql_query_bind("ca", "select $mhttpd(url)", "$var(a)", "ra");'), /sql_query_bind: expected a plain string, taken as written/);
  });
  it("a read-only variable among sql_pvquery's results", () => {
    assert.throws(() => compile('sql_pvquery("ca", "select 1, 2", "$var(a), $mhttpd(url)");'), /sql_pvquery: result variable 2 \(\$mhttpd\(url\)\) is read-only/);
  });
  it("$sqlrows of a connection not declared", () => {
    assert.throws(() => compile('xlog("$sqlrows(nope)");'), /no sqlops connection "nope"/);
  });
  it("a second connection of the same name", () => {
    assert.throws(() => compileCfg("/x/d.cfg", { text: [...head, 'modparam("sqlops", "sqlcon", "ca=>sqlite://b.db")'].join("\n") }), /d\.cfg:6:1: sqlops connection "ca" is declared twice \(first at \/x\/d\.cfg:5:1\)/);
  });
  it("a journal mode SQLite does not have", () => {
    assert.throws(() => compileCfg("/x/j.cfg", { text: [...head, 'modparam("db_sqlite", "db_set_journal_mode", "x.db=FAST;")'].join("\n") }), /journal mode "FAST" of \/x\/x\.db is not one of DELETE/);
  });
});
