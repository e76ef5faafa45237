// A kamailio.cfg compiled: preprocess -> parse -> check the top level
// (settings.ts) -> compile the event route and the route[] blocks it calls to
// closures. Every start-up error is a CfgSyntaxError naming file:line:col;
// nothing is half-loaded because the route function only exists once
// everything compiled.
import type { RequestContext } from "../context.ts";
import { L_DBG } from "../log.ts";
import type { Route } from "../route.ts";
import { compileBlock, type CompileEnv } from "./compile-statement.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import { parse } from "./parser.ts";
import { preprocess } from "./preprocess.ts";
import type { Action, Exec } from "./runtime.ts";
import { applyProcessSettings, placeOf, readSettings } from "./settings.ts";
import type { SqlSettings } from "./sqlops.ts";
import type { RouteBlock } from "./syntax-tree.ts";

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
  /** the sqlops connections, opened by connectSql once the cfg compiled */
  sql: SqlSettings;
}

/** Parse and compile a .cfg. `text` stands for the file's content (tests). */
export function compileCfg(file: string, opts: { text?: string; predefined?: Record<string, string> } = {}): CfgProgram {
  const pre = preprocess(file, opts);
  const tree = parse(pre.tokens);
  const notes: string[] = [];
  const settings = readSettings(tree, notes);
  applyProcessSettings(settings);
  const { named, event } = sortRouteBlocks(tree.routes, notes);
  if (event && !settings.loaded.has("microhttpd")) throw new CfgSyntaxError(event.pos, `event_route[${EVENT_ROUTE}] needs loadmodule "microhttpd.so"`);
  const main = event ? compileRoutes(event, named, settings.loaded, notes) : undefined;
  const program: CfgProgram = { file, config: settings.config, kemiScript: settings.kemiScript, loaded: settings.loaded, defines: pre.defines, notes, sql: settings.sql };
  if (main) program.event = eventRouteFunction(main, settings.maxWhile, notes);
  return program;
}

/** The route[NAME] blocks by name, and the event route; the other blocks
 * (request_route, onreply_route, other event routes ...) never run here: a note says so. */
function sortRouteBlocks(routes: RouteBlock[], notes: string[]): { named: Map<string, RouteBlock>; event?: RouteBlock } {
  const named = new Map<string, RouteBlock>();
  let event: RouteBlock | undefined;
  for (const r of routes) {
    if (r.kind === "route") {
      if (named.has(r.name)) throw new CfgSyntaxError(r.pos, `route[${r.name}] is defined twice (first at ${placeOf(named.get(r.name)!.pos)})`);
      named.set(r.name, r);
    } else if (r.kind === "event_route" && r.name === EVENT_ROUTE) {
      if (event) throw new CfgSyntaxError(r.pos, `event_route[${EVENT_ROUTE}] is defined twice`);
      event = r;
    } else notes.push(`${placeOf(r.pos)}: ${r.kind}${r.name ? `[${r.name}]` : ""} is not run by mhttpd: ignored`);
  }
  return { named, event };
}

/** The event route's body, and into the route table every route[] block it can reach. */
function compileRoutes(event: RouteBlock, named: Map<string, RouteBlock>, loaded: Set<string>, notes: string[]): Action {
  const env: CompileEnv = { routes: new Map(), loaded, referenced: [], dynamicRoutes: false };
  const main = compileBlock(event.body, env);
  compileReachableRoutes(named, env, notes);
  return main;
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
    env.routes.set(name, { name, pos: block.pos, run: compileBlock(block.body, env) });
  }
  // references met while compiling in the dynamic phase are checked here
  for (const ref of env.referenced) {
    if (!named.has(ref.name)) throw noSuchRoute(ref);
  }
  for (const n of named.keys()) if (!done.has(n)) notes.push(`${placeOf(named.get(n)!.pos)}: route[${n}] is never called from event_route[${EVENT_ROUTE}]: not compiled`);
}

/** What runs per request: the compiled event route on a reused run state. */
function eventRouteFunction(run: Action, maxWhile: number, notes: string[]): Route {
  let pending: string[] | null = notes.length ? notes : null;
  const x: Exec = { ctx: IDLE, flags: 0, ret: 1, depth: 0, maxWhile };
  return (ctx) => {
    if (pending) {
      for (const n of pending) ctx.logger.log(L_DBG, n, "<core>");
      pending = null;
    }
    // a cfg route runs synchronously to its end, so one state object serves every request
    x.ctx = ctx;
    x.flags = 0;
    x.ret = 1;
    x.depth = 0;
    run(x);
    x.ctx = IDLE;
  };
}
