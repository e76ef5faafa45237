// The core as a platform's Fetch handler: Cloudflare Workers (workerd), Deno
// Deploy, `deno serve`, Deno.serve (and Bun.serve, @hono/node-server). There is no
// listen step, no socket and no process here: the platform listens, so the
// parameters about those are refused, and the client's address is whatever the
// platform says it is. mhttpd/hono (src/hono.ts) builds its handler here too.
//
//   export default createFetchHandler({ route, params: { allowed_ips: "10.0.0.0/8" } });
//   Deno.serve(createFetchHandler({ route }).fetch);
import ipaddr from "ipaddr.js";
import { RE2JS } from "re2js";
import { webDefaults, type RequestAdapter } from "./adapter.ts";
import { compileCfg, CfgSyntaxError } from "./cfg/index.ts";
import { resolveParams } from "./config.ts";
import { ereEngine } from "./ere.ts";
import { ConfigError, StartupError } from "./errors.ts";
import { createHandler, type Handler } from "./handler.ts";
import { addressLibrary } from "./ip.ts";
import { SyncContextStore, type ContextStore } from "./ksr-global.ts";
import { Logger, type LogSink } from "./log.ts";
import { PARAM_NAMES, type Params } from "./params.ts";
import { kemiRoute, resolveCallback, routeMiddleware, type LoadedRoute, type RouteFunction, type RouteMiddleware } from "./route.ts";
import { ON_WORKERD, runtimeRequestsOf } from "./runtime-requests.ts";
import { onGlobalErrorEvents, reportStrayErrors } from "./stray-errors.ts";

// A fetch handler is made synchronously, often in a Worker's module scope, and
// checks its parameters and compiles its .cfg then: the libraries the server
// loads only when a configuration needs them (src/on-demand.ts) are here from
// the start. Importing "mhttpd" (src/index.ts) brings them for the same reason.
ereEngine.provide(RE2JS);
addressLibrary.provide(ipaddr);

/** What the platform calls: Workers pass (request, env, ctx), Deno.serve (request, info). */
export type EdgeFetch = (request: Request, env?: unknown, ctx?: unknown) => Promise<Response>;

export interface FetchHandlerOptions {
  /** a route function, a route module's namespace (`import * as mod`: its default
   * export or the one named by event_callback, and its `config`), or .cfg source text */
  route?: RouteFunction | Record<string, unknown> | string;
  /** .cfg source text (the same as a string `route`); include_file cannot reach files here */
  cfg?: string;
  /** how messages name the route; "route.cfg" for cfg text */
  routeName?: string;
  /** parameters; over the route's own config. Listening and connection parameters are refused. */
  params?: Record<string, unknown>;
  /** where log lines go (default console.error) */
  log?: LogSink;
  /** keeps the global KSR per request across awaits. By default one
   * AsyncLocalStorage shared by every handler of the isolate, where the platform
   * has one; a store given here must be the same for every handler. */
  contextStore?: ContextStore;
}

export interface FetchHandler {
  fetch: EdgeFetch;
  /** the parameters in force */
  params: Params;
}

/** Parameters about sockets, connections and the process: the platform owns those. */
const PLATFORM_OWNED: Record<string, string> = {
  listen_addr: "the platform listens",
  listen_port: "the platform listens",
  listen_socket: "the platform listens",
  workers: "the platform runs the instances",
  header_timeout: "the platform reads request heads",
  idle_timeout: "the platform keeps connections",
  max_connections: "the platform accepts connections",
  shutdown_timeout: "the platform stops instances",
};

function platformOwned(name: string): string | undefined {
  if (name.startsWith("tls_")) return "the platform terminates TLS";
  return Object.hasOwn(PLATFORM_OWNED, name) ? PLATFORM_OWNED[name] : undefined;
}

/** Refuse, naming it, a parameter given to a handler whose platform owns it
 * (`where`: "a fetch handler", "mhttpd/hono"). */
export function refusePlatformOwned(given: Record<string, unknown>, where: string): void {
  for (const [name, value] of Object.entries(given)) {
    const why = value === undefined ? undefined : platformOwned(name);
    if (why) throw new ConfigError(`${name} has no meaning in ${where} (${why})`);
  }
}

/**
 * The request facts of whichever server called (src/runtime-requests.ts): Bun's
 * server, Deno's info (Deno.serve, `deno serve`, Deno Deploy), @hono/node-server's
 * bindings; on Cloudflare Workers, CF-Connecting-IP, which the edge sets (read
 * only on workerd: anywhere else the client could write it).
 */
const HOSTLESS_ADAPTER: Omit<RequestAdapter, "asyncContext"> = {
  name: ON_WORKERD ? "workerd" : "fetch",
  // the platform owns the connections and the heads; a Worker's timers die with
  // the request that set them
  limits: { connections: true, head: Infinity, bodyStall: false, timersPerRequest: true },
  peer: (request, env) => runtimeRequestsOf(env).peer(request, env),
  local: (request, env) => runtimeRequestsOf(env).local(request, env),
  httpVersion: (request, env) => runtimeRequestsOf(env).httpVersion(request, env),
  drop: (request, env) => runtimeRequestsOf(env).drop(request, env),
  readBody: webDefaults.readBody,
  respond: (request, env, reply) => runtimeRequestsOf(env).respond(request, env, reply),
};

let sharedStore: Promise<ContextStore> | undefined;

/** One store for every handler of the isolate: the global KSR reads the store
 * installed last, so handlers with stores of their own would not find each
 * other's requests. */
function contextStore(): Promise<ContextStore> {
  return (sharedStore ??= findContextStore().then((store) => store ?? new SyncContextStore()));
}

/** AsyncLocalStorage where the platform has one: a global AsyncLocalStorage if
 * the platform sets one, else node:async_hooks (Deno; workerd only with the
 * nodejs_compat or nodejs_als flag). Without it the global KSR is right only in
 * the synchronous part of a route; the KSR argument is always right. */
async function findContextStore(): Promise<ContextStore | undefined> {
  type Als = new () => ContextStore;
  const global = (globalThis as { AsyncLocalStorage?: Als }).AsyncLocalStorage;
  if (typeof global === "function") return new global();
  try {
    const mod = "node:async_hooks"; // a variable: bundlers leave it to the platform
    const { AsyncLocalStorage } = (await import(mod)) as { AsyncLocalStorage: Als };
    return new AsyncLocalStorage();
  } catch {
    return undefined;
  }
}

/** rtimer needs a process that lives between requests */
const NO_TIMERS = "rtimer timers cannot run in a fetch handler: the platform runs code only for a request (use its scheduler, such as Cron Triggers, to call a route)";

/** A route as a handler without a host takes it: no timers (nothing starts or stops them). */
export type HostlessRoute = Omit<LoadedRoute, "timers">;

/** The route's function and its own parameters, from whichever form was given
 * (`noTimers`: why rtimer timers are refused here). */
export function loadEdgeRoute(opts: Pick<FetchHandlerOptions, "route" | "cfg" | "routeName">, noTimers = NO_TIMERS): HostlessRoute {
  const route = opts.cfg ?? opts.route;
  if (typeof route === "string") {
    const file = opts.routeName ?? "route.cfg";
    let program;
    try {
      program = compileCfg(file, { text: route });
    } catch (e) {
      throw e instanceof CfgSyntaxError ? new StartupError(e.message) : e;
    }
    if (program.timers.some((t) => t.execs.length > 0)) throw new StartupError(`${file}: ${noTimers}`);
    return {
      label: `the modparams of ${file}`,
      config: program.config,
      warnings: program.warnings,
      callback(eventCallback) {
        if (eventCallback) throw new StartupError(`${file}: event_callback "${eventCallback}": a KEMI script is a file, which a fetch handler cannot load; pass the KEMI module as route instead`);
        if (!program.event) throw new StartupError(`${file}: no event_route[microhttpd:request] block`);
        return program.event;
      },
    };
  }
  if (typeof route === "function") return { label: "the route", config: {}, callback: () => kemiRoute(route as RouteFunction) };
  if (route && typeof route === "object") {
    const name = opts.routeName ?? "the route module";
    if (route.timers !== undefined) throw new StartupError(`${name} exports timers: ${noTimers}`);
    const config = route.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
      throw new StartupError(`${name}: the exported "config" must be an object of parameters`);
    }
    return {
      label: `the config export of ${name}`,
      config: config as Record<string, unknown>,
      middleware: routeMiddleware(route.middleware, name),
      callback: (eventCallback) => kemiRoute(resolveCallback({ url: name, exports: route, config: config as Record<string, unknown> }, eventCallback)),
    };
  }
  throw new StartupError("createFetchHandler: give a route (a function, a module namespace or .cfg text)");
}

/** A route's stray errors (an unawaited rejection, a throw in its timer) are
 * logged by the first handler made in this isolate, and the isolate keeps
 * serving (deno serve would end the process). Where the platform has no such
 * events (Node), the embedder's own process handlers decide. */
function catchStrayErrorsOnce(logger: Logger): void {
  const scope = globalThis as { [key: symbol]: boolean };
  const key = Symbol.for("mhttpd.strayErrors");
  if (!scope[key]) scope[key] = onGlobalErrorEvents(reportStrayErrors(logger));
}

export interface HostlessSettings {
  /** how messages name the parameters given: "the params of createFetchHandler" */
  paramsLabel: string;
  log?: LogSink;
  contextStore?: ContextStore;
  /** log a route's stray errors and keep the isolate serving */
  catchStrayErrors: boolean;
}

export interface Hostless {
  handler: Handler;
  params: Params;
  logger: Logger;
  /** the route module's Hono middleware, to run before the route */
  middleware: RouteMiddleware[];
}

/** The core's handler for a platform that listens itself, from a loaded route and
 * the parameters given (over the route's own). Throws a StartupError (a
 * ConfigError for parameters) when the route or a parameter is wrong. */
export function assembleHostless(route: HostlessRoute, given: Record<string, unknown>, settings: HostlessSettings): Hostless {
  // A route written for a host (a kamailio.cfg always sets listen_port) stays
  // deployable: what it says about sockets is dropped, with a note in the log.
  const own: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(route.config)) {
    if (platformOwned(name)) dropped.push(name);
    else own[name] = value;
  }
  const fromParams = resolveParams({ route: given, routeLabel: settings.paramsLabel });
  const fromRoute = resolveParams({ route: own, routeLabel: route.label });
  const params = { ...fromRoute };
  for (const name of PARAM_NAMES) if (given[name] !== undefined) (params as Record<string, unknown>)[name] = fromParams[name];

  const logger = new Logger(params.debug, settings.log);
  if (settings.catchStrayErrors) catchStrayErrorsOnce(logger);
  if (dropped.length) logger.info(`${route.label}: ${dropped.join(", ")} ignored: the platform listens and keeps the connections`);
  for (const w of route.warnings ?? []) logger.warn(w);
  const fn = route.callback(params.event_callback);
  const adapter: RequestAdapter = { ...HOSTLESS_ADAPTER, asyncContext: () => settings.contextStore ?? contextStore() };
  return { handler: createHandler({ route: fn, params, logger, adapter }), params, logger, middleware: route.middleware ?? [] };
}

/** Build the fetch handler. Throws a StartupError (a ConfigError for parameters)
 * when the route or a parameter is wrong, as the host start-up does. */
export function createFetchHandler(opts: FetchHandlerOptions): FetchHandler {
  const given = opts.params ?? {};
  refusePlatformOwned(given, "a fetch handler");
  const { handler, params, logger, middleware } = assembleHostless(loadEdgeRoute(opts), given, {
    paramsLabel: "the params of createFetchHandler",
    log: opts.log,
    contextStore: opts.contextStore,
    catchStrayErrors: true,
  });
  let serve: (request: Request, env?: unknown, ctx?: unknown) => Response | Promise<Response> = handler.fetch;
  // an async route waits for the context store before its first request (an
  // import may be async), and a module's middleware for Hono to load
  let ready: Promise<unknown> | undefined = handler.ready;
  if (middleware.length > 0) {
    const composing = import("./middleware.ts").then(async (m) => void (serve = await m.composeAround(middleware, handler.fetch, logger)));
    ready = Promise.all([handler.ready, composing]);
  }
  const fetch: EdgeFetch = async (request, second, ctx) => {
    if (ready) {
      await ready;
      ready = undefined;
    }
    return serve(request, second, ctx);
  };
  return { fetch, params };
}
