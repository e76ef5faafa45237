// What a cfg function is (Kamailio's cmd_export_t entry), in a file of its own so
// that the tables of functions split by module (functions.ts, jansson-functions.ts,
// crypto-functions.ts, ...) share it without importing each other.
import type { RequestContext } from "../context.ts";
import type { Pos } from "./lexer.ts";
import type { CfgPv } from "./pvs.ts";
import type { Exec, RouteTable } from "./runtime.ts";

/** "fmt" is a formatted string, "igp" an int or one variable, "pvname" the name
 * of a variable, "pvdst" the name of a variable that can be set (a result),
 * "level" an xlog level. */
export type ParamKind = "fmt" | "igp" | "pvname" | "pvdst" | "level";

/** A compiled parameter: a getter for fmt/igp/level, the variable for pvname and pvdst. */
export type Compiled = ((ctx: RequestContext) => unknown) | CfgPv;

export interface FunctionSpec {
  module: string;
  doc: string;
  /** parameter kinds for each accepted argument count */
  forms: ParamKind[][];
  /** it runs routes by a name known only at request time: every route[] must compile */
  routesByName?: boolean;
  /** returns the function's code: > 0 success, < 0 failure, 0 stops the script */
  run(x: Exec, args: Compiled[], pos: Pos, env: FnEnv): number;
}

export interface FnEnv {
  routes: RouteTable;
  /** a route is called by a name known only at request time */
  dynamicRoutes: boolean;
}
