// Loading the user's route: a .ts/.js module whose default export (or the export
// named by event_callback) is called as fn("microhttpd:request", KSR) per request.
import type { Ksr } from "./ksr.ts";

export { EVENT_NAME } from "./ksr.ts";

export type RouteFunction = (evname: string, ksr: Ksr) => unknown;

export interface RouteModule {
  /** file URL of the module, for messages */
  url: string;
  exports: Record<string, unknown>;
  /** the module's exported `config` object: parameter defaults for this route */
  config: Record<string, unknown>;
}

/** A start-up that cannot go on because of the configuration: the command line, the
 * environment, the route file, a parameter, the TLS files. Exits EXIT_CONFIG. */
export class StartupError extends Error {}

/** Exit status for a configuration error (sysexits.h EX_CONFIG): a restart cannot
 * cure it, and a service manager can tell it from the rest (systemd:
 * RestartPreventExitStatus=78). */
export const EXIT_CONFIG = 78;
/** Exit status for a start-up that failed otherwise (a port in use, a crash while
 * starting), which a restart may cure. A clean stop exits 0. */
export const EXIT_FAILURE = 1;

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
  /** the per-request function, once the parameters are final (event_callback) */
  callback(eventCallback: string): RouteFunction;
}

/** Load a route file by URL: a kamailio.cfg (by its .cfg extension) or a module.
 * `defines` (-A on the command line) are #!define lines, which only a .cfg has. */
export async function loadRoute(url: string, opts: { defines?: Record<string, string> } = {}): Promise<LoadedRoute> {
  const defines = opts.defines ?? {};
  if (/\.cfg$/i.test(url.replace(/[?#].*$/, ""))) {
    const { loadCfgRoute } = await import("./cfg/index.ts");
    return loadCfgRoute(url, defines);
  }
  const names = Object.keys(defines);
  if (names.length > 0) {
    throw new StartupError(`-A ${names[0]}: -A defines a #!define for a .cfg route's preprocessor; ${displayPath(url)} is a module, which has none`);
  }
  const mod = await importRouteModule(url);
  return {
    label: `the config export of ${displayPath(url)}`,
    config: mod.config,
    callback: (eventCallback) => resolveCallback(mod, eventCallback),
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
