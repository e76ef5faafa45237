// What a compiled route runs with: the per-run state (Kamailio's run_act_ctx)
// and the control-flow flags that exit, return, break and drop set. A route that
// can suspend (it reaches an asynchronous function) runs as closures that return
// a promise where one appeared; every other route stays on plain closures.
import type { RequestContext } from "../context.ts";
import { L_ERR } from "../log.ts";
import { VarView, type RunScope } from "../run-scope.ts";
import type { Pos } from "./lexer.ts";

export const EXIT = 1;
export const RETURN = 2;
export const BREAK = 4;

/** Kamailio's max_recursive_level: route() nesting deeper than this is an error. */
export const MAX_ROUTE_DEPTH = 100;

export interface Exec extends RunScope {
  ctx: RequestContext;
  /** EXIT | RETURN | BREAK: the rest of the current block is skipped */
  flags: number;
  /** the value of the last `return` */
  ret: number;
  depth: number;
  /** while loop limit (the max_while_loops global) */
  maxWhile: number;
}

/** A statement of a route that cannot suspend. */
export type Action = (x: Exec) => void;
/** A statement of a route that can suspend: a promise when it did, else undefined. */
export type SuspendingAction = (x: Exec) => void | Promise<void>;

export interface CompiledRoute {
  name: string;
  pos: Pos;
  /** a plain Action when `suspends` is false */
  run: SuspendingAction;
  /** the route can reach an asynchronous function (src/cfg/suspend.ts) */
  suspends: boolean;
}

/** The routes a configuration defines, filled in once compiled (route() may refer forward). */
export type RouteTable = Map<string, CompiledRoute>;

/** The run state of one run of a route. `isolated`: the route can suspend, so it
 * keeps its own view of $var and $vn (src/run-scope.ts). */
export function newExec(ctx: RequestContext, maxWhile: number, isolated: boolean): Exec {
  return { ctx, flags: 0, ret: 1, depth: 0, maxWhile, rc: 1, vars: isolated ? new VarView() : undefined };
}

export function where(pos: Pos): string {
  return `${pos.file}:${pos.line}`;
}

/** A request-time error, logged with the file and line of the statement. */
export function runtimeError(ctx: RequestContext, pos: Pos, msg: string): void {
  ctx.logger.log(L_ERR, `${where(pos)}: ${msg}`, "<script>");
}

function tooDeep(x: Exec, route: CompiledRoute, pos: Pos): number {
  runtimeError(x.ctx, pos, `route(${route.name}): more than ${MAX_ROUTE_DEPTH} nested route calls`);
  x.flags |= EXIT;
  return -1;
}

/** route(NAME) of a route that cannot suspend: run it; its `return n` is the
 * value (1 when it ends without one). */
export function callRoute(x: Exec, route: CompiledRoute, pos: Pos): number {
  if (x.depth >= MAX_ROUTE_DEPTH) return tooDeep(x, route, pos);
  x.depth++;
  x.ret = 1;
  route.run(x);
  return routeReturned(x);
}

/** route(NAME) of any route: a promise of the value when the route suspended. */
export function callAnyRoute(x: Exec, route: CompiledRoute, pos: Pos): number | Promise<number> {
  if (!route.suspends) return callRoute(x, route, pos);
  if (x.depth >= MAX_ROUTE_DEPTH) return tooDeep(x, route, pos);
  x.depth++;
  x.ret = 1;
  const pending = route.run(x);
  return pending === undefined ? routeReturned(x) : pending.then(() => routeReturned(x));
}

function routeReturned(x: Exec): number {
  x.depth--;
  const value = x.ret;
  // return and break end only the called route; exit and drop end everything
  x.flags &= ~(RETURN | BREAK);
  x.rc = value;
  return value;
}

/** Run statements in order until one sets a flag. */
export function sequence(actions: Action[]): Action {
  if (actions.length === 0) return () => {};
  if (actions.length === 1) return actions[0];
  if (actions.length === 2) {
    const [a, b] = actions;
    return (x) => {
      a(x);
      if (x.flags === 0) b(x);
    };
  }
  return (x) => {
    for (let i = 0; i < actions.length; i++) {
      actions[i](x);
      if (x.flags !== 0) return;
    }
  };
}

/** The same for statements that may suspend: synchronous until one returns a
 * promise, then the rest runs after it. */
export function suspendingSequence(actions: SuspendingAction[]): SuspendingAction {
  const resume = async (x: Exec, from: number, pending: Promise<void>): Promise<void> => {
    await pending;
    if (x.flags !== 0) return;
    for (let i = from; i < actions.length; i++) {
      const next = actions[i](x);
      if (next !== undefined) await next;
      if (x.flags !== 0) return;
    }
  };
  return (x) => {
    for (let i = 0; i < actions.length; i++) {
      const pending = actions[i](x);
      if (pending !== undefined) return resume(x, i + 1, pending);
      if (x.flags !== 0) return;
    }
  };
}
