// KSR.sqlops: Kamailio's sqlops KEMI exports (sqlops.c, sr_kemi_sqlops_exports),
// with their return codes, over the engine the cfg functions use (sqlops.ts). The
// queries return promises here: the route awaits them.
import type { RequestContext } from "../context.ts";
import type { KsrSqlopsApi, PvValue } from "../ksr-api.ts";
import type { Logger } from "../log.ts";
import { lookupPv, PvError, splitPvList } from "../pv.ts";
import type { SqlParam } from "./sql-drivers.ts";
import { freeResult, resultOf, sqlPvquery, sqlQuery, sqlQueryAsync, sqlXquery, type SqlCaller } from "./sqlops.ts";
import { NO_REQUEST } from "./sqlops-pvs.ts";

const SCRIPT = "<script>";

/** A KEMI value to bind: text, a number or null; anything else is refused (its position named). */
export function bindable(values: unknown): SqlParam[] | string {
  if (!Array.isArray(values)) return `the values must be an array, got ${values === null ? "null" : typeof values}`;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v)))) {
      return `value ${i + 1} is ${typeof v === "number" ? String(v) : typeof v}: bind a string, a finite number or null`;
    }
  }
  return values as SqlParam[];
}

export class KsrSqlops implements KsrSqlopsApi {
  readonly #caller: SqlCaller & object;
  constructor(
    ctx: RequestContext | undefined,
    private readonly logger: Logger,
  ) {
    this.#caller = ctx ?? Object.assign(NO_REQUEST as { logger?: Logger }, { logger }) as SqlCaller;
  }

  /** Kamailio's KEMI sql_query returns 0 when the query ran (rows or not), -1 on error. */
  async sql_query(con: string, query: string, res?: string): Promise<number> {
    const code = await sqlQuery(this.#caller, "sql_query", String(con), String(query), undefined, res === undefined ? undefined : String(res));
    return code < 0 ? -1 : 0;
  }

  /** mhttpd: the query with `values` bound to its placeholders (? on SQLite, $1 on
   * PostgreSQL); the cfg's codes: 1 rows stored, 2 no rows, 3 rows and no `res`, -1 error. */
  async sql_query_bind(con: string, query: string, values: SqlParam[], res?: string): Promise<number> {
    const params = bindable(values);
    if (typeof params === "string") return this.#refuse("sql_query_bind", params);
    return sqlQuery(this.#caller, "sql_query_bind", String(con), String(query), params, res === undefined ? undefined : String(res));
  }

  /** 1 when the query ran (rows or not), -1 on error; the rows as $xavp(xavp[i]=>column). */
  async sql_xquery(con: string, query: string, xavp: string): Promise<number> {
    return (await sqlXquery(this.#caller, "sql_xquery", String(con), String(query), String(xavp))) < 0 ? -1 : 1;
  }

  /** The first row's values into the variables of `pvs` ("$var(a), $vn(b)"): 1, 2 no rows, -1. */
  async sql_pvquery(con: string, query: string, pvs: string): Promise<number> {
    const targets: ((v: PvValue) => void)[] = [];
    const names = splitPvList(String(pvs));
    for (const [i, name] of names.entries()) {
      const pv = lookupPv(name);
      if (pv instanceof PvError) return this.#refuse("sql_pvquery", `result variable ${i + 1}: ${pv.message}`);
      const set = pv.set;
      if (!set) return this.#refuse("sql_pvquery", `result variable ${i + 1} (${name}) is read-only`);
      const ctx = this.#caller === NO_REQUEST ? undefined : (this.#caller as RequestContext);
      targets.push((v) => set.call(pv, ctx, v));
    }
    if (targets.length === 0) return this.#refuse("sql_pvquery", "no result variables");
    return sqlPvquery(this.#caller, "sql_pvquery", String(con), String(query), targets);
  }

  /** Run without waiting for it (its failure is logged later): 1, or -1 for an unknown connection. */
  sql_query_async(con: string, query: string): number {
    return sqlQueryAsync(this.#caller, "sql_query_async", String(con), String(query));
  }

  sql_result_free(res: string): number {
    freeResult(this.#caller, String(res));
    return 1;
  }
  sql_num_rows(res: string): number {
    return resultOf(this.#caller, String(res))?.rows.length ?? 0;
  }
  sql_num_columns(res: string): number {
    return resultOf(this.#caller, String(res))?.columns.length ?? 0;
  }
  /** 1 when the value at (row, col) is NULL, 0 when not, -1 (and an error log) out of bounds. */
  sql_is_null(res: string, row: number, col: number): number {
    const cell = this.#cell("sql_is_null", res, row, col);
    return cell === undefined ? -1 : cell === null ? 1 : 0;
  }
  /** the value at (row, col); null when NULL or out of bounds */
  sql_result_get(res: string, row: number, col: number): PvValue {
    return this.#cell(undefined, res, row, col) ?? null;
  }
  /** "" instead of null */
  sql_result_gete(res: string, row: number, col: number): string | number {
    return this.#cell(undefined, res, row, col) ?? "";
  }
  /** 0 instead of null */
  sql_result_getz(res: string, row: number, col: number): string | number {
    return this.#cell(undefined, res, row, col) ?? 0;
  }

  /** the cell, or undefined out of bounds (logged when `fn` is given, as sqlops_is_null does) */
  #cell(fn: string | undefined, res: string, row: number, col: number): PvValue | undefined {
    const result = resultOf(this.#caller, String(res));
    const r = Math.trunc(Number(row));
    const c = Math.trunc(Number(col));
    const rows = result?.rows.length ?? 0;
    const cols = result?.columns.length ?? 0;
    if (!(r >= 0 && r < rows && c >= 0 && c < cols)) {
      if (fn) this.logger.err(`${fn}: [${row},${col}] is out of bounds of result "${res}" (${rows} rows, ${cols} columns)`, SCRIPT);
      return undefined;
    }
    return result!.rows[r][c];
  }

  #refuse(fn: string, why: string): number {
    this.logger.err(`${fn}: ${why}`, SCRIPT);
    return -1;
  }
}
