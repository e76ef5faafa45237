// The KSR surface a TypeScript or JavaScript route sees: the part of Kamailio's
// KEMI API that an HTTP route uses, with KEMI's argument and return conventions
// (>0 success, <0 failure; the log functions return 0). Written out as interfaces
// so that the per-request object (src/ksr.ts, `implements KsrApi`) and the global
// `KSR` (src/ksr-global.ts, `satisfies KsrApi`) are both checked against it: a
// function added here and missing in either does not compile.

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

export interface KsrApi {
  readonly pv: KsrPvApi;
  readonly microhttpd: KsrMicrohttpdApi;
  readonly x: KsrXApi;
  readonly ndb_redis: KsrNdbRedisApi;
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
