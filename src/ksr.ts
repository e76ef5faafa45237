// The KSR facade for TypeScript and JavaScript routes: the subset of Kamailio's
// KEMI API that an HTTP route uses, with KEMI's argument and return conventions.
// One Ksr is made per request and bound to its RequestContext, so it only ever
// sees its own request. The exported `KSR` (also installed as a global, as
// Kamailio's JavaScript and Lua engines do) forwards to the Ksr of the request
// whose code is running, found through the adapter's async context store.
import type { RequestContext } from "./context.ts";
import { L_CRIT, L_DBG, L_ERR, L_INFO, L_NOTICE, L_WARN, quote, type Logger } from "./log.ts";
import { lookupPv, ownEntry, PvError, type PvValue } from "./pv.ts";
import { queueReply, queueReplyHeader } from "./reply.ts";

const NO_REQUEST = "no HTTP request is being processed";

/** What KSR.x.exit() throws, as app_jsdt does; a try/catch around it swallows it. */
export const KSR_EXIT = "~~ksr~exit~~";

const SCRIPT = "<script>";
const NEVER_ABORTED = new AbortController().signal;

class KsrPv {
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

class KsrMicrohttpd {
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

class KsrX {
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

const KEMI_LEVELS: Record<string, number> = { dbg: L_DBG, info: L_INFO, notice: L_NOTICE, warn: L_WARN, err: L_ERR, crit: L_CRIT };

export class Ksr {
  // made on first use: a route reads one or two of them, a .cfg route none
  #pv: KsrPv | undefined;
  #microhttpd: KsrMicrohttpd | undefined;
  #x: KsrX | undefined;

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

export type KsrApi = Ksr;

/** Where the running request's context is kept across awaits. Adapters give an
 * AsyncLocalStorage; without one, only the synchronous part of a route can use the
 * global KSR (the KSR passed to the route function is always right). */
export interface ContextStore {
  run<R>(ctx: RequestContext, fn: () => R): R;
  getStore(): RequestContext | undefined;
}

export class SyncContextStore implements ContextStore {
  private current: RequestContext | undefined;
  run<R>(ctx: RequestContext, fn: () => R): R {
    const prev = this.current;
    this.current = ctx;
    try {
      return fn();
    } finally {
      this.current = prev;
    }
  }
  getStore() {
    return this.current;
  }
}

/** Where the running request is found, kept once per process (on globalThis under
 * a registry symbol), not once per copy of this module: on Node the core runs
 * bundled (dist/node.mjs) while a route's `import { KSR } from "mhttpd"` loads
 * another copy, and both must see the same request. */
interface KsrState {
  /** the async store (AsyncLocalStorage) of this process, shared by every handler */
  asyncStore: ContextStore | undefined;
  /** the request whose route runs synchronously right now (set and cleared within
   * one call, so no other request's code can run while it is set) */
  syncCurrent: RequestContext | undefined;
  idleKsr: Ksr | undefined;
  idleLogger: Logger | undefined;
}
const state: KsrState = ((globalThis as { [key: symbol]: KsrState })[Symbol.for("mhttpd.ksr")] ??= {
  asyncStore: undefined,
  syncCurrent: undefined,
  idleKsr: undefined,
  idleLogger: undefined,
});

/** Called once per handler: where to find the running request, and the global
 * `KSR` that Kamailio KEMI scripts use without importing anything. */
export function setKsrEnvironment(store: ContextStore | undefined, logger: Logger): void {
  if (store && !(store instanceof SyncContextStore)) state.asyncStore = store;
  state.idleLogger = logger;
  state.idleKsr = undefined;
  (globalThis as { KSR?: KsrApi }).KSR = KSR;
}

/** Run a route for a request. `acrossAwaits`: through the async store, so the
 * global KSR follows the route past its awaits (an `async function` route);
 * otherwise only for the synchronous call, which costs nothing (on Node 20 an
 * AsyncLocalStorage.run hooks every promise of the process). */
export function runWithKsr(ctx: RequestContext, route: (evname: string, ksr: Ksr) => unknown, acrossAwaits: boolean): unknown {
  if (acrossAwaits && state.asyncStore) return state.asyncStore.run(ctx, () => route(EVENT_NAME, ctx.ksr));
  const prev = state.syncCurrent;
  state.syncCurrent = ctx;
  try {
    return route(EVENT_NAME, ctx.ksr);
  } finally {
    state.syncCurrent = prev;
  }
}

/** The event name a microhttpd route is called with, as in Kamailio. */
export const EVENT_NAME = "microhttpd:request";

/** The request whose code is running, where that can be known: inside a route's
 * synchronous call, or (a route that awaits, where the runtime has an async store)
 * in anything that call started, its timers and promises included. */
export function runningRequest(): RequestContext | undefined {
  return state.syncCurrent ?? state.asyncStore?.getStore();
}

function currentKsr(): Ksr {
  const ctx = state.syncCurrent ?? state.asyncStore?.getStore();
  if (ctx) return ctx.ksr;
  // outside a request (module top level, timers): logging works, request access is null
  return (state.idleKsr ??= new Ksr(undefined, state.idleLogger ?? ({ log() {}, err() {}, level: 2 } as unknown as Logger)));
}

/** KSR of the request whose code is running: import it, or use the global `KSR`. */
export const KSR: KsrApi = Object.freeze({
  get pv() {
    return currentKsr().pv;
  },
  get microhttpd() {
    return currentKsr().microhttpd;
  },
  get x() {
    return currentKsr().x;
  },
  dbg: (m: string) => currentKsr().dbg(m),
  info: (m: string) => currentKsr().info(m),
  notice: (m: string) => currentKsr().notice(m),
  warn: (m: string) => currentKsr().warn(m),
  err: (m: string) => currentKsr().err(m),
  crit: (m: string) => currentKsr().crit(m),
  log: (l: string, m: string) => currentKsr().log(l, m),
  set_drop: () => currentKsr().set_drop(),
  get_debug: () => currentKsr().get_debug(),
}) as unknown as KsrApi;
