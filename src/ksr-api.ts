// The KSR surface a TypeScript or JavaScript route sees: the part of Kamailio's
// KEMI API that an HTTP route uses, with KEMI's argument and return conventions
// (>0 success, <0 failure; the log functions return 0). Written out as interfaces
// so that the per-request object (src/ksr.ts, `implements KsrApi`) and the global
// `KSR` (src/ksr-global.ts, `satisfies KsrApi`) are both checked against it: a
// function added here and missing in either does not compile.

import type { KsrHttpClientApi } from "./modules/http-client-api.ts";

export type { KsrHttpClientApi } from "./modules/http-client-api.ts";

/** A pseudo-variable's value: a string, an integer, or null. */
export type PvValue = string | number | null;

/** KSR.pv: read and write pseudo-variables by name, as "$mhttpd(url)", "$var(x)". */
export interface KsrPvApi {
  /** the value, or null when unset or the name is invalid (which logs an error) */
  get(pvn: string): PvValue;
  /** "" instead of null */
  gete(pvn: string): string | number;
  /** "<null>" instead of null */
  getw(pvn: string): string | number;
  /** an integer; 0 when null, invalid or not numeric */
  geti(pvn: string): number;
  /** the value, or `dflt` when null */
  getvs(pvn: string, dflt: string): string | number;
  /** the value, or `dflt` when null */
  getvn(pvn: string, dflt: number): string | number;
  /** true when null, and also when the name is invalid */
  is_null(pvn: string): boolean;
  /** set a string; false (and an error log) for a read-only or invalid name */
  sets(pvn: string, value: string): boolean;
  /** set an integer; false (and an error log) for a read-only or invalid name */
  seti(pvn: string, value: number): boolean;
  /** set to null ($var becomes 0) */
  unset(pvn: string): boolean;
}

/** KSR.microhttpd: the module's function, and what the Fetch world adds. */
export interface KsrMicrohttpdApi {
  /** Queue the reply: 1 when queued, -1 (and an error log) when refused. */
  mhttpd_reply(code: number | string, reason: string, ctype: string, body: string | Uint8Array | ArrayBuffer): number;
  /** Add a header to the reply (any number; Set-Cookie may repeat): 1, or -1 with
   * an error log for a bad name or value. */
  mhttpd_reply_header(name: string, value: string): number;
  /** The request's abort signal: fires when the client goes away before the
   * response (or at route_timeout), never after a normal response. */
  readonly signal: AbortSignal;
  /** The request body as bytes, exactly as received (binary-safe $mhttpd(data)). */
  body_bytes(): Uint8Array;
}

/** KSR.jansson: Kamailio's KEMI export of the jansson module (only get; the cfg
 * also has jansson_set, jansson_append, jansson_array_size, jansson_get_field). */
export interface KsrJanssonApi {
  /** jansson_get(path, json, dst): the value at path ("a.b[0]") of the JSON text
   * stored in the variable named dst ("$var(x)"), as jansson gives it (text,
   * integer, 1/0 for a boolean, JSON text for an object or array); 1, or -1 when the
   * text is not JSON (logged), the path is not there, or dst cannot be set (logged). */
  get(path: string, json: string, dst: string): number;
}

/** KSR.crypto: Kamailio's KEMI export of crypto_hmac_sha256. */
export interface KsrCryptoApi {
  /** HMAC-SHA256 of text (UTF-8) keyed by key (UTF-8), base64url without padding,
   * stored in the variable named dst; 1, or -1 when dst cannot be set (logged). */
  hmac_sha256(text: string, key: string, dst: string): number;
}

/** KSR.statistics: Kamailio's KEMI exports of the statistics module, on the
 * variables the route module declares (`export const modparams = [["statistics",
 * "variable", "name"]]`). Read a value with KSR.pv.get("$stat(name)"). */
export interface KsrStatisticsApi {
  /** Add sval (an integer, negative to lower it) to statistic sname: 1, or -1 for
   * a name never declared (logged). */
  update_stat(sname: string, sval: number): number;
  /** Set statistic sname to 0 (one declared no_reset keeps its value): 1, or -1
   * for a name never declared (logged). */
  reset_stat(sname: string): number;
}

/** KSR.uuid: Kamailio's KEMI exports of the uuid module. */
export interface KsrUuidApi {
  /** a random (version 4) UUID, lower case: $uuid(g) */
  get(): string;
  /** a random (version 4) UUID: $uuid(r) */
  rget(): string;
  /** a time-based (version 1) UUID: $uuid(t) */
  tget(): string;
}

/** KSR.cfgutils: Kamailio's cfgutils functions that a route uses. They wait, so
 * they return a promise: `await KSR.cfgutils.sleep(1)`. The request waits, the
 * server does not. */
export interface KsrCfgutilsApi {
  /** Wait `seconds`: 1, or -1 when the request ended first (route_timeout, the
   * client gone) or the time is negative. */
  sleep(seconds: number): Promise<number>;
  /** Wait `microseconds` (to the millisecond): 1, or -1 as sleep. */
  usleep(microseconds: number): Promise<number>;
}

/** KSR.ndb_redis: Kamailio's KEMI exports of ndb_redis. Asynchronous here: await
 * them (`if ((await KSR.ndb_redis.redis_cmd_p1("srv", "INCR %s", key, "r")) < 0) ...`).
 * The reply is read with KSR.pv.get("$redis(r=>value)"). */
export interface KsrNdbRedisApi {
  /** Run the command on the server (words cut at spaces, as hiredis does); its reply
   * into container `res`. 0 when done (Kamailio's KEMI code), -1 on failure or a
   * Redis error reply (logged), -2 while the server is disabled (allowed_timeouts). */
  redis_cmd(srv: string, cmd: string, res: string): Promise<number>;
  /** The same with one "%s" in `cmd`: p1 is one word, whatever it holds. */
  redis_cmd_p1(srv: string, cmd: string, p1: string, res: string): Promise<number>;
  redis_cmd_p2(srv: string, cmd: string, p1: string, p2: string, res: string): Promise<number>;
  redis_cmd_p3(srv: string, cmd: string, p1: string, p2: string, p3: string, res: string): Promise<number>;
  /** Free the reply in container `res`: 1, or -1 when no command filled it. */
  redis_free(res: string): number;
}

/** KSR.x: leave the route. */
export interface KsrXApi {
  /** End the route now; a reply already queued is sent. */
  exit(): never;
  /** End the route and close the connection without a response. */
  drop(): never;
}

/** KSR.sqlops: Kamailio's sqlops KEMI functions. The queries return a Promise:
 * await them (`if ((await KSR.sqlops.sql_query("db", "...", "ra")) < 0) ...`);
 * the request is held, the server is not. Connections come from
 * modparam("sqlops", "sqlcon", "name=>url") in the .cfg that loads the script. */
export interface KsrSqlopsApi {
  /** Kamailio's KEMI code: 0 when the query ran (with rows or without), -1 on error
   * (logged). Rows go to result `res` (read with sql_result_get, sql_num_rows,
   * $dbr(res=>...)). Never put request data into `query`: use sql_query_bind. */
  sql_query(con: string, query: string, res?: string): Promise<number>;
  /** mhttpd: `values` bound to the query's placeholders (`?` on SQLite, `$1` `$2` on
   * PostgreSQL), never read as SQL. 1 rows stored in `res`, 2 no rows, 3 rows and no
   * `res`, -1 on error (logged): the cfg function's codes. */
  sql_query_bind(con: string, query: string, values: (string | number | null)[], res?: string): Promise<number>;
  /** 1 when the query ran, -1 on error; the rows as $xavp(xavp[i]=>column). */
  sql_xquery(con: string, query: string, xavp: string): Promise<number>;
  /** The first row into the variables of `pvs` ("$var(a), $vn(b)"): 1, 2 no rows, -1 error. */
  sql_pvquery(con: string, query: string, pvs: string): Promise<number>;
  /** Run the query without waiting (no result): 1, or -1 for an unknown connection. */
  sql_query_async(con: string, query: string): number;
  /** Empty result `res`: 1. */
  sql_result_free(res: string): number;
  /** rows in result `res` (0 when it holds none) */
  sql_num_rows(res: string): number;
  /** columns in result `res` (0 when it holds none) */
  sql_num_columns(res: string): number;
  /** 1 when the value at (row, col) is NULL, 0 when not, -1 (logged) out of bounds */
  sql_is_null(res: string, row: number, col: number): number;
  /** the value at (row, col): an integer, text, or null (NULL, out of bounds) */
  sql_result_get(res: string, row: number, col: number): PvValue;
  /** as sql_result_get, "" instead of null */
  sql_result_gete(res: string, row: number, col: number): string | number;
  /** as sql_result_get, 0 instead of null */
  sql_result_getz(res: string, row: number, col: number): string | number;
}

export interface KsrApi {
  readonly pv: KsrPvApi;
  readonly sqlops: KsrSqlopsApi;
  readonly microhttpd: KsrMicrohttpdApi;
  readonly x: KsrXApi;
  readonly jansson: KsrJanssonApi;
  readonly crypto: KsrCryptoApi;
  readonly uuid: KsrUuidApi;
  readonly cfgutils: KsrCfgutilsApi;
  /** Kamailio's http_client exports; each returns a promise the route awaits */
  readonly http_client: KsrHttpClientApi;
  readonly ndb_redis: KsrNdbRedisApi;
  readonly statistics: KsrStatisticsApi;
  dbg(msg: string): number;
  info(msg: string): number;
  notice(msg: string): number;
  warn(msg: string): number;
  err(msg: string): number;
  crit(msg: string): number;
  /** level: dbg|info|notice|warn|err|crit (any case); anything else logs as err */
  log(level: string, msg: string): number;
  /** Mark the request to be dropped when the route ends, without ending it now. */
  set_drop(): boolean;
  /** The current `debug` level. */
  get_debug(): number;
}

/** What KSR.x.exit() throws, as app_jsdt does; a try/catch around it swallows it. */
export const KSR_EXIT = "~~ksr~exit~~";

/** The event name a microhttpd route is called with, as in Kamailio. */
export const EVENT_NAME = "microhttpd:request";
