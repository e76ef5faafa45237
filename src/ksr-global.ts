// The global `KSR`, as Kamailio's JavaScript and Lua engines install it: one object
// for the whole process that forwards to the KSR of the request whose code is
// running, found through the async context store (AsyncLocalStorage) where a
// route awaits, or the synchronous "current request" otherwise. Also what the
// pipeline uses to run a route in its request's context.
import type { RequestContext } from "./context.ts";
import type { KsrApi } from "./ksr-api.ts";
import { Ksr, ksrOf } from "./ksr.ts";
import type { Logger } from "./log.ts";

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
export function runWithKsr(ctx: RequestContext, route: (ctx: RequestContext) => unknown, acrossAwaits: boolean): unknown {
  if (acrossAwaits && state.asyncStore) return state.asyncStore.run(ctx, () => route(ctx));
  const prev = state.syncCurrent;
  state.syncCurrent = ctx;
  try {
    return route(ctx);
  } finally {
    state.syncCurrent = prev;
  }
}

/** The request whose code is running, where that can be known: inside a route's
 * synchronous call, or (a route that awaits, where the runtime has an async store)
 * in anything that call started, its timers and promises included. */
export function runningRequest(): RequestContext | undefined {
  return state.syncCurrent ?? state.asyncStore?.getStore();
}

function currentKsr(): Ksr {
  const ctx = state.syncCurrent ?? state.asyncStore?.getStore();
  if (ctx) return ksrOf(ctx);
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
  get jansson() {
    return currentKsr().jansson;
  },
  get crypto() {
    return currentKsr().crypto;
  },
  get uuid() {
    return currentKsr().uuid;
  },
  get cfgutils() {
    return currentKsr().cfgutils;
  },
  get http_client() {
    return currentKsr().http_client;
  },
  get sqlops() {
    return currentKsr().sqlops;
  },
  get ndb_redis() {
    return currentKsr().ndb_redis;
  },
  get statistics() {
    return currentKsr().statistics;
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
} satisfies KsrApi);
