// The KSR of one request (src/ksr-api.ts says what it offers): made on first use
// and bound to its RequestContext, so it only ever sees its own request. The
// global `KSR` (src/ksr-global.ts) forwards to the one of the request whose code
// is running.
import type { RequestContext } from "./context.ts";
import { KSR_EXIT, type KsrApi, type KsrMicrohttpdApi, type KsrPvApi, type KsrXApi } from "./ksr-api.ts";
import { KsrNdbRedis } from "./modules/ndb_redis/kemi.ts";
import { L_CRIT, L_DBG, L_ERR, L_INFO, L_NOTICE, L_WARN, quote, type Logger } from "./log.ts";
import { lookupPv, ownEntry, PvError, type PvValue } from "./pv.ts";
import { queueReply, queueReplyHeader } from "./reply.ts";
import { KsrCrypto } from "./modules/crypto.ts";
import { KsrJansson } from "./modules/jansson.ts";
import { KsrUuid } from "./modules/uuid.ts";
import { KsrCfgutils } from "./modules/cfgutils.ts";
import { KsrHttpClient } from "./modules/http-client-ksr.ts";
import { KsrSqlops } from "./modules/ksr-sqlops.ts";
import { KsrStatistics } from "./modules/statistics.ts";

const NO_REQUEST = "no HTTP request is being processed";

const SCRIPT = "<script>";
const NEVER_ABORTED = new AbortController().signal;

class KsrPv implements KsrPvApi {
  constructor(
    private readonly ctx: RequestContext | undefined,
    private readonly logger: Logger,
  ) {}

  private read(pvn: unknown): PvValue | undefined {
    const pv = lookupPv(String(pvn));
    if (pv instanceof PvError) {
      this.logger.err(`pv: ${pv.message}`, SCRIPT);
      return undefined; // invalid: callers map it like null
    }
    return pv.get(this.ctx);
  }

  /** the value, or null when unset or the name is invalid */
  get(pvn: string): PvValue {
    return this.read(pvn) ?? null;
  }
  /** "" instead of null */
  gete(pvn: string): string | number {
    return this.read(pvn) ?? "";
  }
  /** "<null>" instead of null */
  getw(pvn: string): string | number {
    return this.read(pvn) ?? "<null>";
  }
  /** an integer; 0 when null, invalid or not numeric */
  geti(pvn: string): number {
    const v = this.read(pvn);
    if (typeof v === "number") return Math.trunc(v);
    if (typeof v !== "string") return 0;
    const n = parseInt(v, 10);
    return Number.isNaN(n) ? 0 : n;
  }
  getvs(pvn: string, dflt: string): string | number {
    return this.read(pvn) ?? dflt;
  }
  getvn(pvn: string, dflt: number): string | number {
    return this.read(pvn) ?? dflt;
  }
  /** true when null, and also when the name is invalid */
  is_null(pvn: string): boolean {
    return (this.read(pvn) ?? null) === null;
  }
  sets(pvn: string, value: string): boolean {
    return this.write(pvn, String(value));
  }
  seti(pvn: string, value: number): boolean {
    return this.write(pvn, Math.trunc(Number(value)) || 0);
  }
  unset(pvn: string): boolean {
    return this.write(pvn, null);
  }
  private write(pvn: string, value: PvValue): boolean {
    const pv = lookupPv(String(pvn));
    if (pv instanceof PvError || !pv.set) {
      this.logger.err(`pv: cannot set ${quote(String(pvn))}: ${pv instanceof PvError ? pv.message : "read-only variable"}`, SCRIPT);
      return false;
    }
    pv.set(this.ctx, value);
    return true;
  }
}

class KsrMicrohttpd implements KsrMicrohttpdApi {
  constructor(
    private readonly ctx: RequestContext | undefined,
    private readonly logger: Logger,
  ) {}

  /** Queue the reply: 1 when queued, -1 (and an error log) when refused. */
  mhttpd_reply(code: number | string, reason: string, ctype: string, body: string | Uint8Array | ArrayBuffer): number {
    return this.result("mhttpd_reply", this.ctx ? queueReply(this.ctx, code, reason, ctype, body) : NO_REQUEST);
  }

  /** Add a header to the reply this route sends (any number; Set-Cookie may repeat):
   * 1, or -1 with an error log for a bad name or value. */
  mhttpd_reply_header(name: string, value: string): number {
    return this.result("mhttpd_reply_header", this.ctx ? queueReplyHeader(this.ctx, name, value) : NO_REQUEST);
  }

  private result(fn: string, error: string | undefined): number {
    if (error === undefined) return 1;
    this.logger.err(`${fn}: ${error}`, SCRIPT);
    return -1;
  }

  /** The request's abort signal: fires when the client goes away before the response
   * (or at route_timeout), never after a normal response. Outside a request it never fires. */
  get signal(): AbortSignal {
    return this.ctx ? this.ctx.signal : NEVER_ABORTED;
  }

  /** The request body as bytes, exactly as received (binary-safe $mhttpd(data)). */
  body_bytes(): Uint8Array {
    return this.ctx ? this.ctx.body : new Uint8Array(0);
  }
}

class KsrX implements KsrXApi {
  constructor(private readonly ctx: RequestContext | undefined) {}
  /** End the route now; a reply already queued is sent. */
  exit(): never {
    throw KSR_EXIT;
  }
  /** End the route and close the connection without a response. */
  drop(): never {
    if (this.ctx && !this.ctx.timedOut) this.ctx.dropped = true;
    throw KSR_EXIT;
  }
}

/** KSR.uuid holds no request state: one for all */
const UUID = new KsrUuid();

const KEMI_LEVELS: Record<string, number> = { dbg: L_DBG, info: L_INFO, notice: L_NOTICE, warn: L_WARN, err: L_ERR, crit: L_CRIT };

export class Ksr implements KsrApi {
  // made on first use: a route reads one or two of them, a .cfg route none
  #pv: KsrPv | undefined;
  #microhttpd: KsrMicrohttpd | undefined;
  #x: KsrX | undefined;
  #jansson: KsrJansson | undefined;
  #crypto: KsrCrypto | undefined;
  #cfgutils: KsrCfgutils | undefined;
  #httpClient: KsrHttpClient | undefined;
  #sqlops: KsrSqlops | undefined;
  #ndbRedis: KsrNdbRedis | undefined;
  #statistics: KsrStatistics | undefined;

  constructor(
    /** @internal the request this KSR belongs to (the cfg runtime reads it directly) */
    readonly ctx: RequestContext | undefined,
    private readonly logger: Logger,
  ) {}

  get pv(): KsrPv {
    return (this.#pv ??= new KsrPv(this.ctx, this.logger));
  }
  get microhttpd(): KsrMicrohttpd {
    return (this.#microhttpd ??= new KsrMicrohttpd(this.ctx, this.logger));
  }
  get x(): KsrX {
    return (this.#x ??= new KsrX(this.ctx));
  }
  get jansson(): KsrJansson {
    return (this.#jansson ??= new KsrJansson(this.ctx, this.logger));
  }
  get crypto(): KsrCrypto {
    return (this.#crypto ??= new KsrCrypto(this.ctx, this.logger));
  }
  get uuid(): KsrUuid {
    return UUID;
  }
  get cfgutils(): KsrCfgutils {
    return (this.#cfgutils ??= new KsrCfgutils(this.ctx, this.logger));
  }
  get http_client(): KsrHttpClient {
    return (this.#httpClient ??= new KsrHttpClient(this.ctx, this.logger));
  }
  get sqlops(): KsrSqlops {
    return (this.#sqlops ??= new KsrSqlops(this.ctx, this.logger));
  }
  get ndb_redis(): KsrNdbRedis {
    return (this.#ndbRedis ??= new KsrNdbRedis(this.ctx, this.logger));
  }
  get statistics(): KsrStatistics {
    return (this.#statistics ??= new KsrStatistics(this.logger));
  }

  // KEMI log functions return 0, as Kamailio's do.
  dbg(msg: string): number {
    this.logger.log(L_DBG, String(msg), SCRIPT);
    return 0;
  }
  info(msg: string): number {
    this.logger.log(L_INFO, String(msg), SCRIPT);
    return 0;
  }
  notice(msg: string): number {
    this.logger.log(L_NOTICE, String(msg), SCRIPT);
    return 0;
  }
  warn(msg: string): number {
    this.logger.log(L_WARN, String(msg), SCRIPT);
    return 0;
  }
  err(msg: string): number {
    this.logger.log(L_ERR, String(msg), SCRIPT);
    return 0;
  }
  crit(msg: string): number {
    this.logger.log(L_CRIT, String(msg), SCRIPT);
    return 0;
  }
  /** KSR.log(level, msg): level is dbg|info|notice|warn|err|crit (any case); anything else logs as err. */
  log(level: string, msg: string): number {
    this.logger.log(ownEntry(KEMI_LEVELS, String(level).toLowerCase()) ?? L_ERR, String(msg), SCRIPT);
    return 0;
  }
  /** Mark the request to be dropped when the route ends, without ending it now. */
  set_drop(): boolean {
    if (this.ctx) this.ctx.dropped = true;
    return false;
  }
  /** The current `debug` level. */
  get_debug(): number {
    return this.logger.level;
  }
}

/** The KSR of a request: made on first use (a .cfg route never makes one). */
export function ksrOf(ctx: RequestContext): Ksr {
  return (ctx.ksrSlot ??= new Ksr(ctx, ctx.logger)) as Ksr;
}
