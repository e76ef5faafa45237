// What a compiled route runs with: the per-run state (Kamailio's run_act_ctx)
// and the control-flow flags that exit, return, break and drop set.
import type { RequestContext } from "../context.ts";
import { L_ERR } from "../log.ts";
import type { Pos } from "./lexer.ts";
import { script } from "./pvs.ts";

export const EXIT = 1;
export const RETURN = 2;
export const BREAK = 4;

/** Kamailio's max_recursive_level: route() nesting deeper than this is an error. */
export const MAX_ROUTE_DEPTH = 100;

export interface Exec {
  ctx: RequestContext;
  /** EXIT | RETURN | BREAK: the rest of the current block is skipped */
  flags: number;
  /** the value of the last `return` */
  ret: number;
  depth: number;
  /** while loop limit (the max_while_loops global) */
  maxWhile: number;
}

export type Action = (x: Exec) => void;

export interface CompiledRoute {
  name: string;
  pos: Pos;
  run: Action;
}

/** The routes a configuration defines, filled in once compiled (route() may refer forward). */
export type RouteTable = Map<string, CompiledRoute>;

export function where(pos: Pos): string {
  return `${pos.file}:${pos.line}`;
}

/** A request-time error, logged with the file and line of the statement. */
export function runtimeError(ctx: RequestContext, pos: Pos, msg: string): void {
  ctx.logger.log(L_ERR, `${where(pos)}: ${msg}`, "<script>");
}

/** route(NAME): run it; its `return n` is the value (1 when it ends without one). */
export function callRoute(x: Exec, route: CompiledRoute, pos: Pos): number {
  if (x.depth >= MAX_ROUTE_DEPTH) {
    runtimeError(x.ctx, pos, `route(${route.name}): more than ${MAX_ROUTE_DEPTH} nested route calls`);
    x.flags |= EXIT;
    return -1;
  }
  x.depth++;
  x.ret = 1;
  route.run(x);
  x.depth--;
  const value = x.ret;
  // return and break end only the called route; exit and drop end everything
  x.flags &= ~(RETURN | BREAK);
  script.rc = value;
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
