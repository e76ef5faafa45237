// The databases behind sqlops, behind one small interface: a query in, columns and
// rows of typed values out, the same values on every runtime and for both
// databases. db_sqlite runs on the runtime's SQLite binding, given by the adapter
// (bun:sqlite on Bun, node:sqlite on Deno, better-sqlite3 on Node, which has no
// SQLite of its own before 22.5); db_postgres on the `postgres` package, plain
// JavaScript over the runtime's sockets on all three.
//
// A value is what a pseudo-variable holds: an integer (as a number when it is
// exact in one, else its decimal text), text, or null. Reals and numerics come as
// their text (Kamailio gives null for them), blobs and bytea as their bytes read as
// UTF-8, booleans as 1 and 0, anything else as the database's text for it.
import type { PvValue } from "../ksr-api.ts";
import { sqliteShape } from "./sql-text.ts";

/** a value bound to a placeholder: text, an integer, or SQL NULL */
export type SqlParam = string | number | null;

export interface SqlResult {
  columns: string[];
  rows: PvValue[][];
  /** rows changed by INSERT/UPDATE/DELETE, or returned by a query ($sqlrows) */
  affected: number;
}

export interface SqlConnection {
  /** one statement; `params` bound to its placeholders (`?` on SQLite, `$1` on PostgreSQL) */
  query(sql: string, params: SqlParam[] | undefined, signal: AbortSignal | undefined): SqlResult | Promise<SqlResult>;
  close(): void | Promise<void>;
}

/** What an adapter gives for db_sqlite: its runtime's SQLite. */
export interface SqliteBinding {
  /** the library, named in messages: "bun:sqlite", "node:sqlite", "better-sqlite3" */
  readonly name: string;
  open(path: string, options: { readonly: boolean }): SqliteDatabase;
}

/** A value as a binding returns it: integers as bigint (so that 2 and 2.0 differ). */
export type SqliteCell = bigint | number | string | Uint8Array | null;

export interface SqliteDatabase {
  /** run one statement: the rows of a statement that returns rows, else the rows changed */
  run(sql: string, params: (string | bigint | number | null)[]): { columns: string[]; rows: SqliteCell[][]; changes: number };
  close(): void;
}

const utf8 = new TextDecoder();

/** an integer that a number holds exactly, else its decimal text */
function integer(n: bigint): PvValue {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function sqliteValue(v: SqliteCell): PvValue {
  if (v === null || typeof v === "string") return v;
  if (typeof v === "bigint") return integer(v);
  if (typeof v === "number") return String(v);
  return utf8.decode(v);
}

export class SqlError extends Error {}

/** db_sqlite: the checks the bindings disagree on (sql-text.ts), then the binding. */
export class SqliteConnection implements SqlConnection {
  constructor(private readonly db: SqliteDatabase) {}

  query(sql: string, params: SqlParam[] | undefined): SqlResult {
    const shape = sqliteShape(sql);
    if (shape.statements === 0) throw new SqlError("the query is empty");
    if (shape.statements > 1) throw new SqlError(`the query holds ${shape.statements} statements: sqlops runs one statement per query`);
    const values = params ?? [];
    if (shape.params !== values.length) {
      throw new SqlError(params === undefined
        ? `the query has ${shape.params} placeholder(s) and no values: bind them with sql_query_bind`
        : `the query has ${shape.params} placeholder(s), ${values.length} value(s) given`);
    }
    // integers as bigint: bound as SQLite integers by all three bindings (better-sqlite3 binds a number as a real)
    const out = this.db.run(sql, values.map((v) => (typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : v)));
    const rows = out.rows.map((row) => row.map(sqliteValue));
    return { columns: out.columns, rows, affected: out.columns.length > 0 ? rows.length : out.changes };
  }

  close(): void {
    this.db.close();
  }
}

// PostgreSQL type OIDs (pg_type.dat) whose text is not kept as text
const PG_BOOL = 16;
const PG_BYTEA = 17;
const PG_INTEGERS = new Set([20, 21, 23, 26]);

function pgValue(raw: Uint8Array | null, type: number): PvValue {
  if (raw === null) return null;
  const text = utf8.decode(raw);
  if (PG_INTEGERS.has(type)) return integer(BigInt(text));
  if (type === PG_BOOL) return text === "t" ? 1 : 0;
  if (type === PG_BYTEA && text.startsWith("\\x")) {
    const hex = text.slice(2);
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return utf8.decode(bytes);
  }
  return text;
}

/** The part of the `postgres` package's client this uses. */
interface PgClient {
  unsafe(sql: string, params: SqlParam[], options: { prepare: boolean; simple: boolean }): PgQuery;
  end(options: { timeout: number }): Promise<void>;
}
interface PgQuery extends Promise<unknown> {
  raw(): Promise<(Uint8Array | null)[][] & { columns: { name: string; type: number }[]; count: number | null }>;
  cancel(): void;
}

export interface PostgresOptions {
  /** db_postgres "timeout": seconds to connect and to wait for a query; 0 waits (route_timeout still ends a request) */
  timeoutSeconds: number;
}

/** db_postgres: a pool per connection name (the package's own, up to 10
 * connections), the extended protocol always (so a query text is one statement,
 * and a value bound to $1 is never read as SQL), no prepared statements kept (a
 * cfg's query texts are endless when it interpolates values). */
export class PostgresConnection implements SqlConnection {
  #client: PgClient | undefined;
  constructor(
    private readonly url: string,
    private readonly options: PostgresOptions,
  ) {}

  async #connect(): Promise<PgClient> {
    if (this.#client) return this.#client;
    // a name the bundlers leave alone: an edge bundle (Workers) has no use for it
    const name = "postgres";
    const { default: postgres } = (await import(name)) as unknown as { default: (url: string, options: object) => PgClient };
    const timeout = this.options.timeoutSeconds;
    this.#client ??= postgres(this.url, {
      max: 10,
      prepare: false,
      fetch_types: false,
      // 0 waits as long as the package allows (30 s); a request is ended by route_timeout before that
      connect_timeout: timeout > 0 ? timeout : 30,
      idle_timeout: 60,
      // {sql.val} quotes as standard SQL does (a ' doubled, a backslash as it is):
      // right only while the server reads strings that way, its default since 9.1
      connection: { standard_conforming_strings: "on", application_name: "mhttpd" },
      onnotice: () => {},
    });
    return this.#client;
  }

  async query(sql: string, params: SqlParam[] | undefined, signal: AbortSignal | undefined): Promise<SqlResult> {
    const client = await this.#connect();
    const query = client.unsafe(sql, params ?? [], { prepare: false, simple: false });
    const result = await bounded(query.raw(), query, signal, this.options.timeoutSeconds);
    const columns = result.columns.map((c) => c.name);
    const types = result.columns.map((c) => c.type);
    const rows = result.map((row) => row.map((cell, i) => pgValue(cell, types[i])));
    return { columns, rows, affected: result.count ?? rows.length };
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end({ timeout: 1 });
  }
}

/** The query's answer, unless the request is aborted or `seconds` pass first: then
 * the query is cancelled on the server and the wait ends with an SqlError. */
function bounded<T>(answer: Promise<T>, query: PgQuery, signal: AbortSignal | undefined, seconds: number): Promise<T> {
  if (!signal && seconds <= 0) return answer;
  return new Promise<T>((resolve, reject) => {
    const stop = (why: string) => {
      cleanup();
      query.cancel();
      // the cancelled query's own rejection is this one's, already given
      answer.catch(() => {});
      reject(new SqlError(why));
    };
    const onAbort = () => stop("the request ended (route_timeout or the client went away) before the query did");
    const timer = seconds > 0 ? setTimeout(() => stop(`no answer within ${seconds} s (db_postgres timeout)`), seconds * 1000) : undefined;
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    answer.then(
      (v) => (cleanup(), resolve(v)),
      (e) => (cleanup(), reject(e)),
    );
  });
}
