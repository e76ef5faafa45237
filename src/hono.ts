// mhttpd as a Hono handler, `import { mhttpd } from "mhttpd/hono"`, for a Hono app
// on any runtime: Bun.serve(app), Deno.serve(app.fetch), @hono/node-server's
// serve(app), a Worker's `export default app`.
//
//   app.use(cors());
//   app.all("/kamailio/*", mhttpd({ route: "./route.cfg", max_body_size: "64k" }));
//
// The handler is the core's, built as createFetchHandler builds it (src/edge.ts:
// the same parameters, the same refusals of what the server owns, the same
// replies and limits). The route sees the request as the server got it
// (c.req.raw: the full path, not one a mount stripped), and the peer comes from
// the server that called the app (c.env, read by src/runtime-requests.ts). A route
// module's `middleware` run in the app's own context, after the app's middleware
// and before the route (src/middleware.ts).
import type { MiddlewareHandler } from "hono";
import { resolveParams } from "./config.ts";
import { assembleHostless, loadEdgeRoute, refusePlatformOwned, type Hostless, type HostlessSettings } from "./edge.ts";
import { StartupError } from "./errors.ts";
import type { ContextStore } from "./ksr-global.ts";
import { fileUrl, loadRoute } from "./load-route.ts";
import { Logger, type LogSink } from "./log.ts";
import type { ParamName } from "./params.ts";
import { routeHandler } from "./middleware.ts";
import { internalError } from "./pipeline/responses.ts";
/** The error a dropped request's response fails with (Deno sends a status line,
 * then closes): Deno.serve reports it to its onError, which may leave it out of the log. */
export { DROPPED } from "./pipeline/responses.ts";
import type { RouteFunction } from "./route.ts";
import { ON_WORKERD } from "./runtime-requests.ts";

/** How the route is given, and where its log lines go. */
export interface MhttpdRouteOptions {
  /** A path to a .cfg, .ts or .js route file: relative to the working directory,
   * or a file: URL (`new URL("./route.cfg", import.meta.url)`); or a route
   * function; or a route module's namespace (`import * as route from "./route.ts"`). */
  route?: string | URL | RouteFunction | Record<string, unknown>;
  /** .cfg source text, instead of a route file (include_file cannot reach files then) */
  cfg?: string;
  /** how messages name a route given as a function, a namespace or text */
  routeName?: string;
  /** where log lines go (default console.error) */
  log?: LogSink;
  /** keeps the global KSR per request across awaits (see createFetchHandler) */
  contextStore?: ContextStore;
}

/** The route, and any mhttpd parameter (max_body_size: "64k", route_timeout,
 * allowed_ips, ...) over the route's own, as its value would be written in a
 * route's `config`; those of the server the app runs on (listen_*, workers,
 * tls_*, ...) are refused. */
export type MhttpdOptions = MhttpdRouteOptions & { [name in ParamName]?: unknown };

/** A Hono handler; `ready` settles once the route is loaded (a route file is
 * loaded after mhttpd() returns): await it to stop at start-up on a bad route. */
export type MhttpdHandler = MiddlewareHandler & { ready: Promise<void> };

const OWN_OPTIONS = new Set(["route", "cfg", "routeName", "log", "contextStore"]);
const WHERE = "mhttpd/hono";
const PARAMS_LABEL = "the options of mhttpd()";
/** rtimer needs a process whose start and stop mhttpd knows */
const NO_TIMERS = `rtimer timers cannot run under ${WHERE}: nothing starts or stops them with the Hono app (run the route under the mhttpd server, or call it from a scheduler)`;

/**
 * A Hono handler that runs the route on every request it is given, with the same
 * parameters, `$mhttpd(...)` values, replies and limits as under the mhttpd server.
 * A bad parameter, or a route given as a function, namespace or text that does not
 * load, throws here; a route file is loaded after: `ready` rejects, the error is
 * logged, and its requests get 500.
 */
export function mhttpd(options: MhttpdOptions): MhttpdHandler {
  if (options === null || typeof options !== "object") throw new StartupError("mhttpd(): give the options: { route, ...parameters }");
  const given: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) if (!OWN_OPTIONS.has(name)) given[name] = value;
  refusePlatformOwned(given, WHERE);
  // checked now, whatever the route: a bad value stops the app where it is written
  const debug = resolveParams({ route: given, routeLabel: PARAMS_LABEL }).debug;
  const settings: HostlessSettings = { paramsLabel: PARAMS_LABEL, log: options.log, contextStore: options.contextStore, catchStrayErrors: false };
  const { route, cfg, routeName } = options;
  if (route === undefined && cfg === undefined) throw new StartupError("mhttpd(): give a route: a file path, a route function, a module namespace (or .cfg text as cfg)");
  if (cfg !== undefined || (typeof route !== "string" && !(route instanceof URL))) {
    const inMemory = cfg === undefined ? (route as Exclude<typeof route, string | URL>) : undefined;
    const built = assembleHostless(loadEdgeRoute({ route: inMemory, cfg, routeName }, NO_TIMERS), given, settings);
    return honoHandler(built, built.logger);
  }
  const url = routeFileUrl(route as string | URL);
  const loading = loadRoute(url).then((loaded) => {
    if (loaded.timers.length > 0) throw new StartupError(`${routeName ?? decodeURIComponent(url.replace(/^file:\/\//, ""))}: ${NO_TIMERS}`);
    return assembleHostless(loaded, given, settings);
  });
  return honoHandler(loading, new Logger(debug, options.log));
}

/** The file URL of a route path; a path is one line (text goes in `cfg`). */
function routeFileUrl(route: string | URL): string {
  if (ON_WORKERD) {
    throw new StartupError(`mhttpd(): route ${JSON.stringify(String(route))}: a Worker has no files to load a route from; import the module (import * as route) or the .cfg text (as cfg) and pass that`);
  }
  if (route instanceof URL) return route.href;
  if (/[\r\n]/.test(route)) throw new StartupError("mhttpd(): route is a file path, and this one has line breaks: give .cfg text as cfg");
  const scope = globalThis as { Deno?: { cwd(): string }; process?: { cwd?(): string } };
  const cwd = scope.Deno?.cwd() ?? scope.process?.cwd?.();
  if (cwd === undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(route)) {
    throw new StartupError(`mhttpd(): route ${JSON.stringify(route)}: no working directory here to find it from; give a file: URL (new URL("./route.cfg", import.meta.url))`);
  }
  return fileUrl(route, cwd ?? "/");
}

/** The Hono handler around a built (or loading) core handler: it waits for the
 * route once, then calls straight through. */
function honoHandler(built: Hostless | Promise<Hostless>, logger: Logger): MhttpdHandler {
  let serve: MiddlewareHandler | undefined;
  const ready = Promise.resolve(built).then(async ({ handler, middleware }) => {
    const [run] = await Promise.all([routeHandler(middleware, handler.fetch, true), handler.ready]);
    serve = run;
  });
  // logged once here; whoever awaits `ready` gets the error too
  ready.catch((e: unknown) => logger.err(`${WHERE}: the route did not load, its requests get 500: ${(e as Error)?.message ?? String(e)}`));
  const handler: MiddlewareHandler = (c, next) => (serve ? serve(c, next) : ready.then(() => serve!(c, next), () => internalError()));
  return Object.assign(handler, { ready });
}
