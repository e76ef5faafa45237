// The sqlops module in the cfg: its functions (SQLOPS_FUNCTIONS, gathered into the
// table of functions.ts), its
// modparams and those of db_sqlite and db_postgres, over the engine that KSR.sqlops
// uses too (src/modules/sqlops.ts). Every query function may suspend the route
// (PostgreSQL answers later): they are `async` in the function table.
//
// sql_query_bind is mhttpd's: the query is taken as written and the values of the
// variables listed are bound to its placeholders, never read as SQL. Building the
// query text from request data (sql_query with $mhttpd(...) in it, Kamailio's way)
// is SQL injection; docs/cfg.md says so where it documents each function.
import type { RequestContext } from "../context.ts";
import { quote } from "../log.ts";
import type { PvValue } from "../pv.ts";
import type { SqlParam } from "../modules/sql-drivers.ts";
import {
  dbModuleOf,
  declareConnection,
  freeResult,
  openConnections,
  parseDbUrl,
  parseSqlcon,
  setSqliteFileOptions,
  setSqlopsLimits,
  sqlPvquery,
  sqlQuery,
  sqlQueryAsync,
  sqlXquery,
} from "../modules/sqlops.ts";
import "../modules/sqlops-pvs.ts";
import type { Compiled, FunctionSpec } from "./function-spec.ts";
import { resolveFrom } from "./host.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import type { CfgPv } from "./pvs.ts";
import type { Exec } from "./runtime.ts";
import { sqlValBuffer } from "./transformations.ts";

/** The sqlops settings of one cfg, read with its modparams. */
export interface SqlSettings {
  /** connections declared, with where (the db module they need is checked once all modules are known) */
  connections: Map<string, { module: string; pos: Pos }>;
  connectMode: number;
  trBufSize: number;
  logBufSize: number;
  resultsMax: number;
  postgresTimeout: number;
}

export const newSqlSettings = (): SqlSettings => ({ connections: new Map(), connectMode: 0, trBufSize: 2048, logBufSize: 128, resultsMax: 32, postgresTimeout: 0 });

const JOURNAL_MODES = new Set(["DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF"]);

/** "path=value;path2=value2" (db_sqlite's per-file modparams), the paths made absolute from the cfg. */
function perFile(value: string, pos: Pos, what: string): [string, string][] {
  return value
    .split(";")
    .filter((e) => e.trim() !== "")
    .map((e) => {
      const eq = e.lastIndexOf("=");
      if (eq <= 0) throw new CfgSyntaxError(pos, `${what}: expected "path=value;", found ${quote(e)}`);
      return [resolveFrom(pos.file, e.slice(0, eq).trim()), e.slice(eq + 1).trim()];
    });
}

function nonNegative(value: string | number, pos: Pos, what: string, max = 2 ** 31 - 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) throw new CfgSyntaxError(pos, `${what}: expected an integer from 0 to ${max}, got ${quote(String(value))}`);
  return value;
}

/** One modparam of sqlops, db_sqlite or db_postgres (`key` is "module.param"). */
export function applySqlModparam(key: string, value: string | number, pos: Pos, sql: SqlSettings): void {
  const text = String(value);
  switch (key) {
    case "sqlops.sqlcon": {
      let con;
      try {
        const { name, url } = parseSqlcon(text);
        con = { name, url: parseDbUrl(url, (file) => resolveFrom(pos.file, file)) };
      } catch (e) {
        throw new CfgSyntaxError(pos, `modparam("sqlops", "sqlcon"): ${(e as Error).message}`);
      }
      const first = sql.connections.get(con.name);
      if (first) throw new CfgSyntaxError(pos, `sqlops connection ${quote(con.name)} is declared twice (first at ${first.pos.file}:${first.pos.line}:${first.pos.col})`);
      sql.connections.set(con.name, { module: dbModuleOf(con.url), pos });
      declareConnection(con.name, con.url);
      return;
    }
    case "sqlops.sqlres":
      return; // a result container by name: here one is made by the query that fills it
    case "sqlops.tr_buf_size":
      sql.trBufSize = Math.max(2, nonNegative(value, pos, key));
      return;
    case "sqlops.log_buf_size":
      sql.logBufSize = nonNegative(value, pos, key);
      return;
    case "sqlops.connect_mode":
      sql.connectMode = nonNegative(value, pos, key, 2);
      return;
    case "sqlops.results_maxsize":
      sql.resultsMax = nonNegative(value, pos, key);
      return;
    case "db_sqlite.db_set_readonly":
      setSqliteFileOptions(resolveFrom(pos.file, text.trim()), (o) => (o.readonly = true));
      return;
    case "db_sqlite.db_set_busy_timeout":
      for (const [file, ms] of perFile(text, pos, key)) {
        if (!/^\d{1,9}$/.test(ms)) throw new CfgSyntaxError(pos, `${key}: the timeout of ${file} is ${quote(ms)}, not a number of milliseconds`);
        setSqliteFileOptions(file, (o) => (o.busyTimeout = Number(ms)));
      }
      return;
    case "db_sqlite.db_set_journal_mode":
      for (const [file, mode] of perFile(text, pos, key)) {
        if (!JOURNAL_MODES.has(mode.toUpperCase())) throw new CfgSyntaxError(pos, `${key}: journal mode ${quote(mode)} of ${file} is not one of ${[...JOURNAL_MODES].join(", ")}`);
        setSqliteFileOptions(file, (o) => (o.journalMode = mode.toUpperCase()));
      }
      return;
    case "db_postgres.timeout":
      sql.postgresTimeout = nonNegative(value, pos, key);
      return;
    default:
      throw new CfgSyntaxError(pos, `modparam ${key} is not supported by mhttpd's ${key.split(".")[0]} (it supports: timeout); remove it`);
  }
}

/** Once all modules are loaded: each connection's database module must be. */
export function checkSqlSettings(sql: SqlSettings, loaded: Set<string>): void {
  for (const [name, { module, pos }] of sql.connections) {
    if (!loaded.has(module)) throw new CfgSyntaxError(pos, `sqlops connection ${quote(name)} needs loadmodule "${module}.so"`);
  }
}

export function applySqlSettings(sql: SqlSettings): void {
  setSqlopsLimits({ logBufSize: sql.logBufSize, resultsMax: sql.resultsMax, postgresTimeout: sql.postgresTimeout });
  sqlValBuffer.size = sql.trBufSize;
}

/** Start-up, after the cfg compiled: open the connections as connect_mode says. */
export async function connectSql(sql: SqlSettings): Promise<void> {
  if (sql.connections.size > 0) await openConnections(sql.connectMode);
}

const text = (a: Compiled, ctx: RequestContext) => (a as (ctx: RequestContext) => string)(ctx);
const pvs = (a: Compiled) => a as unknown as CfgPv[];

/** A value to bind, as the variable holds it: integer, text, or null (SQL NULL). */
const bound = (list: CfgPv[], ctx: RequestContext): SqlParam[] => list.map((pv) => pv.get(ctx));

const targets = (list: CfgPv[], ctx: RequestContext): ((v: PvValue) => void)[] => list.map((pv) => (v) => pv.set!(ctx, v));

type AsyncRun = (x: Exec, args: Compiled[], pos: Pos) => number | Promise<number>;

/** A function that may suspend the route (the FunctionSpec `async` flag). */
const suspending = (spec: Omit<FunctionSpec, "run"> & { run: AsyncRun }): FunctionSpec => ({ ...spec, async: true, run: spec.run as FunctionSpec["run"] });

const CODES = "-1 error (logged), 1 rows stored, 2 no rows, 3 rows and no result named";

/** sqlops's cfg functions, gathered into the table of functions.ts */
export const SQLOPS_FUNCTIONS: Record<string, FunctionSpec> = {};

SQLOPS_FUNCTIONS.sql_query = suspending({
  module: "sqlops",
  doc: `sql_query(con, query[, result]): run the query (variables in it are substituted: never put request data there, use sql_query_bind); ${CODES}`,
  forms: [["sqlcon", "fmt"], ["sqlcon", "fmt", "literal"]],
  run: (x, args) => sqlQuery(x.ctx, "sql_query", text(args[0], x.ctx), text(args[1], x.ctx), undefined, args[2] ? text(args[2], x.ctx) : undefined),
});

SQLOPS_FUNCTIONS.sql_query_bind = suspending({
  module: "sqlops",
  doc: `sql_query_bind(con, query, "$var(a), $mhttpd(arg:b)"[, result]) (mhttpd): the query as written, the variables' values bound to its placeholders (? on SQLite, $1 $2 on PostgreSQL); ${CODES}`,
  forms: [["sqlcon", "literal", "pvs"], ["sqlcon", "literal", "pvs", "literal"]],
  run: (x, args) => sqlQuery(x.ctx, "sql_query_bind", text(args[0], x.ctx), text(args[1], x.ctx), bound(pvs(args[2]), x.ctx), args[3] ? text(args[3], x.ctx) : undefined),
});

SQLOPS_FUNCTIONS.sql_xquery = suspending({
  module: "sqlops",
  doc: "sql_xquery(con, query, xavp): the rows as $xavp(xavp[i]=>column); 1, 2 no rows, -1 error",
  forms: [["sqlcon", "fmt", "fmt"]],
  run: (x, args) => sqlXquery(x.ctx, "sql_xquery", text(args[0], x.ctx), text(args[1], x.ctx), text(args[2], x.ctx)),
});

SQLOPS_FUNCTIONS.sql_pvquery = suspending({
  module: "sqlops",
  doc: 'sql_pvquery(con, query, "$var(a), $vn(b)"): the first row\'s columns into the variables; 1, 2 no rows, -1 error',
  forms: [["sqlcon", "fmt", "pvsdst"]],
  run: (x, args) => sqlPvquery(x.ctx, "sql_pvquery", text(args[0], x.ctx), text(args[1], x.ctx), targets(pvs(args[2]), x.ctx)),
});

SQLOPS_FUNCTIONS.sql_query_async = {
  module: "sqlops",
  doc: "sql_query_async(con, query): run the query without waiting for it (no result; a failure is logged); 1",
  forms: [["sqlcon", "fmt"]],
  run: (x, args) => sqlQueryAsync(x.ctx, "sql_query_async", text(args[0], x.ctx), text(args[1], x.ctx)),
};

SQLOPS_FUNCTIONS.sql_result_free = {
  module: "sqlops",
  doc: "sql_result_free(result): empty the result ($dbr(result=>rows) is 0); 1",
  forms: [["literal"]],
  run: (x, args) => (freeResult(x.ctx, text(args[0], x.ctx)), 1),
};
