// A kamailio.cfg compiled: preprocess -> parse -> check the top level
// (settings.ts) -> find what can wait (suspend.ts) -> compile the event route,
// the route[] blocks it calls and the timers' routes to closures. Every start-up
// error is a CfgSyntaxError naming file:line:col; nothing is half-loaded because
// the route function only exists once everything compiled.
import type { RequestContext } from "../context.ts";
import { L_DBG } from "../log.ts";
import type { TimerRoute } from "../modules/rtimer.ts";
import type { Route } from "../route.ts";
import type { CompileEnv } from "./compile-statement.ts";
import { compileAnyBlock } from "./compile-suspending.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import { parse } from "./parser.ts";
import { preprocess } from "./preprocess.ts";
import { newExec, type CompiledRoute, type Exec, type SuspendingAction } from "./runtime.ts";
import { applyProcessSettings, placeOf, readSettings, type CfgTimer } from "./settings.ts";
import { SuspendAnalysis } from "./suspend.ts";
import type { SqlSettings } from "./sqlops.ts";
import type { CfgTree, RouteBlock } from "./syntax-tree.ts";

export const EVENT_ROUTE = "microhttpd:request";
/** what the reused run state points to between requests */
const IDLE = undefined as unknown as RequestContext;

export interface CfgProgram {
  file: string;
  /** the route's parameters: microhttpd modparams and debug= */
  config: Record<string, unknown>;
  /** the compiled event_route[microhttpd:request], when the file has one */
  event?: Route;
  /** modparam("app_jsdt", "load", ...), resolved against the cfg's directory */
  kemiScript?: string;
  loaded: Set<string>;
  defines: Map<string, string>;
  /** debug-level notes (ignored settings), logged on the first request */
  notes: string[];
  /** what is accepted but not run (SIP-only modules and routes), for one warning at start-up */
  warnings: string[];
  /** rtimer's timers and the routes (or, with cfgengine "jsdt", KEMI functions) each runs */
  timers: CfgTimer[];
  /** cfgengine "jsdt": a timer's exec names a function of the KEMI script */
  kemiEngine: boolean;
  /** route[NAME] as a timer's route (the native engine; every timer's route is compiled) */
  timerRoute(name: string): TimerRoute;
  /** the sqlops connections, opened by connectSql once the cfg compiled */
  sql: SqlSettings;
}

/** A .cfg preprocessed and parsed, before anything in it is checked or compiled. */
export interface ParsedCfg {
  file: string;
  defines: Map<string, string>;
  tree: CfgTree;
}

/** Preprocess and parse a .cfg. `text` stands for the file's content (tests). */
export function parseCfg(file: string, opts: { text?: string; predefined?: Record<string, string> } = {}): ParsedCfg {
  const pre = preprocess(file, opts);
  return { file, defines: pre.defines, tree: parse(pre.tokens) };
}

/** Parse and compile a .cfg, with the libraries it may use already loaded (src/on-demand.ts). */
export function compileCfg(file: string, opts: { text?: string; predefined?: Record<string, string> } = {}): CfgProgram {
  return compileParsedCfg(parseCfg(file, opts));
}

/** Check and compile a parsed .cfg; the cfg loader first loads what it needs (src/cfg/libraries.ts). */
export function compileParsedCfg({ file, defines, tree }: ParsedCfg): CfgProgram {
  const notes: string[] = [];
  const settings = readSettings(tree, notes);
  applyProcessSettings(settings);
  const { named, event, sipRoutes } = sortRouteBlocks(tree.routes, notes);
  if (event && !settings.loaded.has("microhttpd")) throw new CfgSyntaxError(event.pos, `event_route[${EVENT_ROUTE}] needs loadmodule "microhttpd.so"`);
  const env: CompileEnv = { routes: new Map(), loaded: settings.loaded, referenced: [], dynamicRoutes: false, suspend: new SuspendAnalysis(named) };
  const main = event ? compileAnyBlock(event.body, env) : undefined;
  // a timer's route is compiled as the event route's callees are, whether the event route calls it or not
  if (!settings.kemiEngine) for (const t of settings.timers) for (const e of t.execs) env.referenced.push({ name: e.route, pos: e.pos });
  compileReachableRoutes(named, env, notes);
  for (const t of settings.timers) if (t.execs.length === 0) notes.push(`${placeOf(t.pos)}: rtimer timer ${t.name} has no exec: it runs nothing`);
  const warnings = notRunWarning(file, settings.noopModules, sipRoutes);
  const maxWhile = settings.maxWhile;
  const program: CfgProgram = {
    file,
    config: settings.config,
    kemiScript: settings.kemiScript,
    loaded: settings.loaded,
    defines,
    notes,
    warnings,
    sql: settings.sql,
    timers: settings.timers,
    kemiEngine: settings.kemiEngine,
    timerRoute(name) {
      const route = env.routes.get(name);
      if (!route) throw new Error(`internal: route[${name}] was not compiled`);
      return { label: `route[${name}]`, run: (ctx) => runRoute(route, newExec(ctx, maxWhile, route.suspends)) };
    },
  };
  if (main) program.event = eventRouteFunction(main, env.suspend.block(event!.body), maxWhile, notes);
  return program;
}

/** Event routes of SIP processing (the SIP-only modules' and the core's for SIP
 * messages and Kamailio's own TCP connections): never run here, and nothing an
 * HTTP route does depends on them. */
const SIP_EVENTS = /^(sl|tm|tmx|rr|usrloc|registrar|nathelper|siputils|sanity|tcp):|^core:(pre-routing|receive-parse-error|msg-received)$/;

/** The route[NAME] blocks by name, and the event route. SIP routes (request_route,
 * onreply_route, SIP event routes ...) never run here and are named in the start-up
 * warning; any other event route (htable:mod-init, core:worker-one-init, xhttp:request
 * ...) would have run in Kamailio, so it is an error. */
function sortRouteBlocks(routes: RouteBlock[], notes: string[]): { named: Map<string, RouteBlock>; event?: RouteBlock; sipRoutes: string[] } {
  const named = new Map<string, RouteBlock>();
  const sipRoutes: string[] = [];
  let event: RouteBlock | undefined;
  for (const r of routes) {
    if (r.kind === "route") {
      if (named.has(r.name)) throw new CfgSyntaxError(r.pos, `route[${r.name}] is defined twice (first at ${placeOf(named.get(r.name)!.pos)})`);
      named.set(r.name, r);
    } else if (r.kind === "event_route" && r.name === EVENT_ROUTE) {
      if (event) throw new CfgSyntaxError(r.pos, `event_route[${EVENT_ROUTE}] is defined twice`);
      event = r;
    } else if (r.kind === "event_route" && !SIP_EVENTS.test(r.name)) {
      throw new CfgSyntaxError(r.pos, `event_route[${r.name}] is not run by mhttpd, which runs event_route[${EVENT_ROUTE}] and the route[] blocks it calls (Kamailio would have run this one)`);
    } else {
      const name = `${r.kind}${r.name ? `[${r.name}]` : ""}`;
      notes.push(`${placeOf(r.pos)}: ${name} is not run by mhttpd: SIP only`);
      sipRoutes.push(`${name} (line ${r.pos.line})`);
    }
  }
  return { named, event, sipRoutes };
}

/** The one start-up warning: the SIP-only modules and routes the file has, accepted and not run. */
function notRunWarning(file: string, modules: string[], routes: string[]): string[] {
  if (modules.length === 0 && routes.length === 0) return [];
  const what = [modules.length ? `loadmodule ${modules.join(", ")}` : "", routes.length ? routes.join(", ") : ""].filter(Boolean).join("; ");
  return [`${file}: SIP only, accepted and not run: ${what} (a call to their functions in the HTTP route stops start-up; docs/cfg.md#modules)`];
}

const noSuchRoute = (ref: { name: string; pos: Pos }) => new CfgSyntaxError(ref.pos, `route(${ref.name}): no route[${ref.name}] in the configuration`);

/** Compile the route[] blocks called from what compiled so far, following the
 * calls met on the way; all of them once a name is known only at request time
 * (route($var)). A block nothing calls is not compiled, and a note says so. */
function compileReachableRoutes(named: Map<string, RouteBlock>, env: CompileEnv, notes: string[]): void {
  const done = new Set<string>();
  for (let k = 0; k < env.referenced.length || (env.dynamicRoutes && done.size < named.size); k++) {
    let name: string;
    if (k < env.referenced.length) {
      const ref = env.referenced[k];
      if (!named.has(ref.name)) throw noSuchRoute(ref);
      name = ref.name;
    } else name = [...named.keys()].find((n) => !done.has(n))!;
    if (done.has(name)) continue;
    done.add(name);
    const block = named.get(name)!;
    env.routes.set(name, { name, pos: block.pos, run: compileAnyBlock(block.body, env), suspends: env.suspend.routes.has(name) });
  }
  // references met while compiling in the dynamic phase are checked here
  for (const ref of env.referenced) {
    if (!named.has(ref.name)) throw noSuchRoute(ref);
  }
  for (const n of named.keys()) if (!done.has(n)) notes.push(`${placeOf(named.get(n)!.pos)}: route[${n}] is never called from event_route[${EVENT_ROUTE}] or a timer: not compiled`);
}

/** What runs per request. A route that cannot suspend runs to its end within the
 * call, so one run state serves every request; one that can suspend gets its own
 * per request, with its own view of $var and $vn (src/run-scope.ts). */
function eventRouteFunction(run: SuspendingAction, suspends: boolean, maxWhile: number, notes: string[]): Route {
  let pending: string[] | null = notes.length ? notes : null;
  const flushNotes = (ctx: RequestContext) => {
    for (const n of pending!) ctx.logger.log(L_DBG, n, "<core>");
    pending = null;
  };
  if (suspends) {
    const main: CompiledRoute = { name: EVENT_ROUTE, pos: { file: "", line: 0, col: 0 }, run, suspends };
    return (ctx) => {
      if (pending) flushNotes(ctx);
      return runRoute(main, newExec(ctx, maxWhile, true));
    };
  }
  const x: Exec = newExec(IDLE, maxWhile, false);
  return (ctx) => {
    if (pending) flushNotes(ctx);
    x.ctx = ctx;
    x.flags = 0;
    x.ret = 1;
    x.depth = 0;
    x.rc = 1;
    ctx.scope = x;
    run(x);
    x.ctx = IDLE;
  };
}

/** One run of a route on its own run state: a promise when it suspended. Its
 * view of $var and $vn becomes the process's when it ends, however it ends. */
function runRoute(route: CompiledRoute, x: Exec): void | Promise<void> {
  x.ctx.scope = x;
  let running: void | Promise<void>;
  try {
    running = route.run(x);
  } catch (e) {
    x.vars?.commit();
    throw e;
  }
  if (running === undefined) return x.vars?.commit();
  return running.then(
    () => x.vars?.commit(),
    (e: unknown) => {
      x.vars?.commit();
      throw e;
    },
  );
}
