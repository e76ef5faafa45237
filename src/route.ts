// Routes: what the pipeline runs per request, and loading a route module (a
// .ts/.js module whose default export, or the export named by event_callback, is
// called as fn("microhttpd:request", KSR) per request). A .cfg route is compiled by
// src/cfg/; src/load-route.ts picks one or the other by the file's name.
import type { MiddlewareHandler } from "hono";
import type { RequestContext } from "./context.ts";
import { StartupError } from "./errors.ts";
import { EVENT_NAME, type KsrApi } from "./ksr-api.ts";
import { ksrOf } from "./ksr.ts";
import type { Logger } from "./log.ts";
import type { RouteTimer } from "./modules/rtimer.ts";

/** A KEMI route function, as the user writes it (the app_jsdt signature). */
export type RouteFunction = (evname: string, ksr: KsrApi) => unknown;

/** What the pipeline runs per request. A .cfg route is compiled to one directly;
 * a KEMI function is wrapped once, when loaded (kemiRoute). */
export interface Route {
  (ctx: RequestContext): unknown;
  /** it is an `async function`: the global KSR must follow it across awaits from
   * its first request */
  readonly awaits?: boolean;
}

/** A KEMI function as a Route: it gets the event name and its request's KSR. */
export function kemiRoute(fn: RouteFunction): Route {
  const awaits = fn.constructor?.name === "AsyncFunction";
  return Object.assign((ctx: RequestContext) => fn(EVENT_NAME, ksrOf(ctx)), { awaits });
}

export interface RouteModule {
  /** file URL of the module, for messages */
  url: string;
  exports: Record<string, unknown>;
  /** the module's exported `config` object: parameter defaults for this route */
  config: Record<string, unknown>;
}

/** How user modules (route files, KEMI scripts) are imported. Bun and Deno run
 * TypeScript themselves; the Node adapter sets one that turns TypeScript support
 * on first when the file is TypeScript (its loader costs ~30 MiB, so a .cfg or
 * .js route runs without it). */
let importer: (url: string) => Promise<unknown> = (url) => import(url);

export function setModuleImporter(fn: (url: string) => Promise<unknown>): void {
  importer = fn;
}

export function importUserModule(url: string): Promise<unknown> {
  return importer(url);
}

/** A route file, loaded: the parameters it sets and how to get its function. */
export interface LoadedRoute {
  /** how messages name the route's parameter source */
  label: string;
  /** parameters the route file sets (a module's `config` export) */
  config: Record<string, unknown>;
  /** what the route file has that is accepted but not run, logged once at start-up */
  warnings?: string[];
  /** the per-request function, once the parameters are final (event_callback) */
  callback(eventCallback: string): Route;
  /** rtimer's timers: a .cfg's modparams, a module's `export const timers` */
  timers: RouteTimer[];
  /** a module's `export const middleware`: Hono middleware run before the route */
  middleware?: RouteMiddleware[];
  /** what the modules the route configured do before the first socket listens
   * (Kamailio's child_init: ndb_redis connects its servers); absent when it configured none */
  startModules?(logger: Logger): Promise<void>;
}

/** One of a route module's `middleware`: a Hono middleware, `(c, next) => ...`. */
export type RouteMiddleware = MiddlewareHandler;

/** A route module's `middleware` export, checked: an array of functions (Hono
 * middleware), in the order they run before the route. `where` names the module. */
export function routeMiddleware(exported: unknown, where: string): RouteMiddleware[] {
  if (exported === undefined) return [];
  const shape = "an array of Hono middleware, such as [cors(), logger()]";
  if (!Array.isArray(exported)) throw new StartupError(`${where}: the exported "middleware" must be ${shape}; it is ${describeValue(exported)}`);
  for (let i = 0; i < exported.length; i++) {
    const m: unknown = exported[i];
    if (typeof m !== "function") throw new StartupError(`${where}: middleware[${i}] is ${describeValue(m)}, not a Hono middleware ((c, next) => ...); the export must be ${shape}`);
  }
  return exported as RouteMiddleware[];
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value)}`;
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A route module's route: its `config` and its function (`defines`, -A on the
 * command line, are for a .cfg's preprocessor: a module has none). */
export async function loadModuleRoute(url: string, defines: Record<string, string> = {}): Promise<LoadedRoute> {
  const names = Object.keys(defines);
  if (names.length > 0) {
    throw new StartupError(`-A ${names[0]}: -A defines a #!define for a .cfg route's preprocessor; ${displayPath(url)} is a module, which has none`);
  }
  const mod = await importRouteModule(url);
  // rtimer's and the modules' code is loaded only for a route that uses them
  const timers = Object.hasOwn(mod.exports, "timers") ? (await import("./modules/rtimer.ts")).moduleTimers(mod.exports.timers, `route module ${displayPath(url)}`) : [];
  if (typeof timers === "string") throw new StartupError(timers);
  const modparams = mod.exports.modparams === undefined ? undefined : await import("./modules/modparam.ts");
  modparams?.applyRouteModparams(mod.exports.modparams, displayPath(url));
  const middleware = routeMiddleware(mod.exports.middleware, `route module ${displayPath(url)}`);
  return {
    label: `the config export of ${displayPath(url)}`,
    config: mod.config,
    middleware,
    callback: (eventCallback) => kemiRoute(resolveCallback(mod, eventCallback)),
    timers,
    startModules: modparams && (await import("./modules/startup.ts")).startModules,
  };
}

export async function importRouteModule(url: string): Promise<RouteModule> {
  let exports: Record<string, unknown>;
  try {
    exports = (await importUserModule(url)) as Record<string, unknown>;
  } catch (e) {
    const err = e as Error & { code?: string };
    const why = err?.code === "ERR_MODULE_NOT_FOUND" || /cannot find|not found/i.test(String(err?.message))
      ? String(err.message).split("\n")[0]
      : `${err?.name ?? "Error"}: ${String(err?.message ?? err).split("\n")[0]}`;
    throw new StartupError(`cannot load route module ${displayPath(url)}: ${why}`);
  }
  const config = exports.config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StartupError(`route module ${displayPath(url)}: the exported "config" must be an object of parameters`);
  }
  return { url, exports, config: config as Record<string, unknown> };
}

/** The function to run per request: the export named by event_callback, else the default export.
 * A missing name is a start-up error (the C module silently hangs every client instead). */
export function resolveCallback(mod: RouteModule, eventCallback: string): RouteFunction {
  const name = eventCallback || "default";
  // a module namespace has no prototype, but a route object given to createFetchHandler does
  const fn = Object.hasOwn(mod.exports, name) ? mod.exports[name] : undefined;
  if (typeof fn !== "function") {
    // sorted: runtimes list a module's exports in different orders
    const exported = Object.keys(mod.exports).filter((k) => typeof mod.exports[k] === "function").sort();
    const what = eventCallback ? `event_callback "${eventCallback}"` : "a default export";
    throw new StartupError(
      `route module ${displayPath(mod.url)} has no function for ${what}` +
        (exported.length ? ` (exported functions: ${exported.join(", ")})` : " (it exports no function)"),
    );
  }
  return fn as RouteFunction;
}

export function displayPath(url: string): string {
  return url.startsWith("file://") ? decodeURIComponent(url.slice(7)) : url;
}
