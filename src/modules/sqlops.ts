// The sqlops module's engine, one implementation for the cfg functions
// (src/cfg/sqlops.ts) and for KSR.sqlops (ksr-sqlops.ts), as Kamailio exports one
// C function to both: connections declared by modparam("sqlops", "sqlcon",
// "name=>url"), queries, and the results that $dbr(...), $xavp(...) and
// $sqlrows(...) read.
//
// Results belong to the request that made them. Kamailio keeps them per process
// and reuses them across requests, which is safe there because a process runs one
// request at a time; here requests interleave at every await, so a result shared by
// the process would let one request read another's rows (docs/differences.md).
//
// The state lives on globalThis under a registry symbol, not in this module: on
// Node the core runs bundled while a route's `import { KSR } from "mhttpd"` loads a
// second copy of this file, and both must see the same connections.
import type { PvValue } from "../ksr-api.ts";
import type { Logger } from "../log.ts";
import type { SqlConnection, SqliteBinding, SqlParam, SqlResult } from "./sql-drivers.ts";

/** the drivers, loaded with the first connection that opens (a route that declares
 * none, which is every TypeScript route not loaded by a .cfg, never loads them) */
const drivers = () => import("./sql-drivers.ts");

/** What a query runs for: a request (its RequestContext), a timer, or no request. */
export interface SqlCaller {
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** A declared connection; opened on first use (SQLite at start-up, see openConnections). */
interface ConnectionEntry {
  name: string;
  url: DbUrl;
  open?: SqlConnection;
}

export type DbUrl = { kind: "sqlite"; path: string; shown: string } | { kind: "postgres"; url: string; shown: string };

/** A row of sql_xquery: column name -> value. */
export type XavpRow = Map<string, PvValue>;

interface RequestSql {
  results: Map<string, SqlResult>;
  xavps: Map<string, XavpRow[]>;
  affected: Map<string, number>;
}

export interface SqliteFileOptions {
  readonly: boolean;
  /** ms; -1: none set (SQLite's default: no waiting) */
  busyTimeout: number;
  journalMode?: string;
}

interface SqlopsState {
  connections: Map<string, ConnectionEntry>;
  /** the runtime's SQLite, loaded by the adapter when first needed */
  sqlite: (() => Promise<SqliteBinding>) | undefined;
  /** db_sqlite's per-file modparams, by the path as resolved */
  sqliteFiles: Map<string, SqliteFileOptions>;
  postgresTimeout: number;
  /** sqlops log_buf_size: how much of a failed query the error log shows */
  logBufSize: number;
  /** sqlops results_maxsize: result containers one request may hold */
  resultsMax: number;
  perCaller: WeakMap<object, RequestSql>;
}

const state: SqlopsState = ((globalThis as { [key: symbol]: SqlopsState })[Symbol.for("mhttpd.sqlops")] ??= {
  connections: new Map(),
  sqlite: undefined,
  sqliteFiles: new Map(),
  postgresTimeout: 0,
  logBufSize: 128,
  resultsMax: 32,
  perCaller: new WeakMap(),
});

/** The adapter's SQLite (Platform.sqlite): without one, a sqlite:// connection cannot open. */
export function setSqliteBinding(load: (() => Promise<SqliteBinding>) | undefined): void {
  state.sqlite = load;
}

export function setSqlopsLimits(limits: { logBufSize?: number; resultsMax?: number; postgresTimeout?: number }): void {
  if (limits.logBufSize !== undefined) state.logBufSize = limits.logBufSize;
  if (limits.resultsMax !== undefined) state.resultsMax = limits.resultsMax;
  if (limits.postgresTimeout !== undefined) state.postgresTimeout = limits.postgresTimeout;
}

export function setSqliteFileOptions(path: string, change: (o: SqliteFileOptions) => void): void {
  const options = state.sqliteFiles.get(path) ?? { readonly: false, busyTimeout: -1 };
  change(options);
  state.sqliteFiles.set(path, options);
}

/** "postgres://user:secret@host/db" as logs may show it: without the password. */
function withoutPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}

/** A Kamailio database URL: sqlite://PATH (sqlite:///abs/path; a relative PATH is
 * made absolute by `resolvePath`, from the cfg's directory) or
 * postgres://[user[:pass]@]host[:port]/db. Throws an Error naming what is wrong. */
export function parseDbUrl(url: string, resolvePath: (file: string) => string): DbUrl {
  const m = /^([a-z0-9]+):\/\/(.*)$/is.exec(url);
  if (!m) throw new Error(`${JSON.stringify(url)} is not a database URL (sqlite:///path/file.db or postgres://user:pass@host/db)`);
  const scheme = m[1].toLowerCase();
  if (scheme === "sqlite") {
    const file = m[2];
    if (file === "") throw new Error(`${JSON.stringify(url)}: no database file after sqlite://`);
    const path = file === ":memory:" ? file : resolvePath(file);
    return { kind: "sqlite", path, shown: url };
  }
  if (scheme === "postgres") {
    if (!/^[^/]+\/[^/?#]+/.test(m[2])) throw new Error(`${JSON.stringify(withoutPassword(url))}: expected postgres://[user[:password]@]host[:port]/database`);
    return { kind: "postgres", url, shown: withoutPassword(url) };
  }
  throw new Error(`${JSON.stringify(withoutPassword(url))}: mhttpd provides db_sqlite (sqlite://) and db_postgres (postgres://), not db_${scheme}`);
}

/** The database module a URL needs loaded: db_sqlite or db_postgres. */
export const dbModuleOf = (url: DbUrl) => (url.kind === "sqlite" ? "db_sqlite" : "db_postgres");

/** modparam("sqlops", "sqlcon", "name=>url"), parsed as sql_parse_param does. */
export function parseSqlcon(spec: string): { name: string; url: string } {
  const m = /^[ \t\r\n]*([^= \t\r\n]+)[ \t\r\n]*=>[ \t\r\n]*(.*)$/s.exec(spec);
  if (!m) throw new Error(`expected "name=>database_url", found ${JSON.stringify(withoutPassword(spec))}`);
  return { name: m[1], url: m[2] };
}

export function declareConnection(name: string, url: DbUrl): void {
  if (state.connections.has(name) && state.connections.get(name)!.url.shown !== url.shown) {
    // another configuration of this process (tests, a reload) may name it again
    void state.connections.get(name)!.open?.close();
  }
  state.connections.set(name, { name, url });
}

export function hasConnection(name: string): boolean {
  return state.connections.has(name);
}

export function connectionNames(): string[] {
  return [...state.connections.keys()];
}

async function openSqlite(entry: ConnectionEntry & { url: { kind: "sqlite" } }): Promise<SqlConnection> {
  const { SqlError, SqliteConnection } = await drivers();
  if (!state.sqlite) throw new SqlError("this runtime gives mhttpd no SQLite (db_sqlite runs under the mhttpd command on Bun, Deno and Node)");
  const binding = await state.sqlite();
  const path = entry.url.path;
  const options = state.sqliteFiles.get(path) ?? { readonly: false, busyTimeout: -1 };
  let db;
  try {
    db = binding.open(path, { readonly: options.readonly });
  } catch (e) {
    throw new SqlError(`cannot open ${path} with ${binding.name}: ${(e as Error).message}`);
  }
  const connection = new SqliteConnection(db);
  // both numbers and names were checked when the modparams were read
  if (options.busyTimeout >= 0) connection.query(`PRAGMA busy_timeout = ${options.busyTimeout}`, undefined);
  if (options.journalMode) connection.query(`PRAGMA journal_mode = ${options.journalMode}`, undefined);
  return connection;
}

async function connectionOf(entry: ConnectionEntry): Promise<SqlConnection> {
  if (entry.open) return entry.open;
  const url = entry.url;
  const opened = url.kind === "sqlite" ? await openSqlite(entry as ConnectionEntry & { url: typeof url }) : new (await drivers()).PostgresConnection(url.url, { timeoutSeconds: state.postgresTimeout });
  return (entry.open ??= opened);
}

/** Start-up (sqlops connect_mode): open every SQLite file, and with mode 0 also
 * check that every PostgreSQL server answers. Throws an Error naming the connection. */
export async function openConnections(connectMode: number): Promise<void> {
  for (const entry of state.connections.values()) {
    if (connectMode === 2) return;
    try {
      const con = await connectionOf(entry);
      if (entry.url.kind === "postgres" && connectMode === 0) await con.query("SELECT 1", undefined, AbortSignal.timeout(10_000));
    } catch (e) {
      // connect_mode 1: start without the database; each query tries again and logs why it fails
      if (connectMode === 1) continue;
      throw new Error(`sqlops connection "${entry.name}" (${entry.url.shown}): ${(e as Error).message}`);
    }
  }
}

function callerState(caller: object): RequestSql {
  let s = state.perCaller.get(caller);
  if (!s) state.perCaller.set(caller, (s = { results: new Map(), xavps: new Map(), affected: new Map() }));
  return s;
}

/** The result container `name` of the caller, or undefined when it has none. */
export function resultOf(caller: object, name: string): SqlResult | undefined {
  return state.perCaller.get(caller)?.results.get(name);
}

export function xavpOf(caller: object, name: string): XavpRow[] | undefined {
  return state.perCaller.get(caller)?.xavps.get(name);
}

export function affectedRows(caller: object, con: string): number | null {
  return state.perCaller.get(caller)?.affected.get(con) ?? null;
}

/** sql_result_free: the container emptied (rows and cols 0). */
export function freeResult(caller: object, name: string): void {
  state.perCaller.get(caller)?.results.delete(name);
}

function logFailure(caller: SqlCaller, fn: string, con: string, sql: string, e: unknown): void {
  const why = e instanceof Error ? e.message : String(e);
  const shown = sql.length > state.logBufSize ? `${sql.slice(0, state.logBufSize)}...` : sql;
  caller.logger.err(`${fn}: connection "${con}": ${why} [query: ${shown}]`, "<script>");
}

/** Run one query on a named connection: its result, or undefined after an error log. */
async function run(caller: SqlCaller, fn: string, con: string, sql: string, params: SqlParam[] | undefined): Promise<SqlResult | undefined> {
  const entry = state.connections.get(con);
  if (!entry) {
    caller.logger.err(`${fn}: no connection "${con}" (declared: ${connectionNames().join(", ") || "none"}; modparam("sqlops", "sqlcon", "${con}=>..."))`, "<script>");
    return undefined;
  }
  try {
    const result = await (await connectionOf(entry)).query(sql, params, caller.signal);
    callerState(caller).affected.set(con, result.affected);
    return result;
  } catch (e) {
    logFailure(caller, fn, con, sql, e);
    return undefined;
  }
}

/** sql_query / sql_query_bind: -1 error, 1 rows stored in `resultName`, 2 no rows,
 * 3 rows but no result named. The container is emptied first, whatever happens. */
export async function sqlQuery(caller: SqlCaller, fn: string, con: string, sql: string, params: SqlParam[] | undefined, resultName: string | undefined): Promise<number> {
  const mine = callerState(caller);
  if (resultName !== undefined) {
    if (!mine.results.has(resultName) && mine.results.size >= state.resultsMax) {
      caller.logger.err(`${fn}: more than ${state.resultsMax} result containers in one request (sqlops results_maxsize)`, "<script>");
      return -1;
    }
    mine.results.delete(resultName);
  }
  const result = await run(caller, fn, con, sql, params);
  if (!result) return -1;
  if (result.rows.length === 0 || result.columns.length === 0) return 2;
  if (resultName === undefined) return 3;
  mine.results.set(resultName, result);
  return 1;
}

/** sql_xquery: the rows as $xavp(name[i]=>column), added before the rows already
 * there (Kamailio adds each row at the head of the list). 1, 2 no rows, -1. */
export async function sqlXquery(caller: SqlCaller, fn: string, con: string, sql: string, xavpName: string, params?: SqlParam[]): Promise<number> {
  const result = await run(caller, fn, con, sql, params);
  if (!result) return -1;
  if (result.rows.length === 0 || result.columns.length === 0) return 2;
  const mine = callerState(caller);
  const rows = result.rows.map((row) => new Map(result.columns.map((c, i) => [c, row[i]] as const)));
  mine.xavps.set(xavpName, [...rows, ...(mine.xavps.get(xavpName) ?? [])]);
  return 1;
}

/** sql_pvquery: the values into the variables, last row first so that the first
 * row is what stays, column i into variable i. 1, 2 no rows, -1 (also when a
 * column has no variable: what was assigned before stays). */
export async function sqlPvquery(caller: SqlCaller, fn: string, con: string, sql: string, targets: ((v: PvValue) => void)[], params?: SqlParam[]): Promise<number> {
  const result = await run(caller, fn, con, sql, params);
  if (!result) return -1;
  if (result.rows.length === 0 || result.columns.length === 0) return 2;
  for (let r = result.rows.length - 1; r >= 0; r--) {
    for (let c = 0; c < result.columns.length; c++) {
      if (c >= targets.length) {
        caller.logger.err(`${fn}: no variable for column ${c + 1} (${result.columns[c]}): the query returns ${result.columns.length} columns, ${targets.length} variable(s) given`, "<script>");
        return -1;
      }
      targets[c](result.rows[r][c]);
    }
  }
  return 1;
}

/** sql_query_async: run without waiting; the result is not kept. 1 (a failure is logged later), -1 for an unknown connection. */
export function sqlQueryAsync(caller: SqlCaller, fn: string, con: string, sql: string): number {
  if (!state.connections.has(con)) return run(caller, fn, con, sql, undefined), -1;
  // detached from the request: its end (or route_timeout) does not cancel the query
  const detached: SqlCaller = { logger: caller.logger };
  setTimeout(() => void run(detached, fn, con, sql, undefined), 0);
  return 1;
}
