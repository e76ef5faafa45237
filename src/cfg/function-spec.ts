// What a cfg function is (Kamailio's cmd_export_t entry), in a file of its own so
// that the tables of functions split by module (functions.ts, jansson-functions.ts,
// crypto-functions.ts, ...) share it without importing each other.
import type { RequestContext } from "../context.ts";
import type { Pos } from "./lexer.ts";
import type { CfgPv } from "./pvs.ts";
import type { Exec, RouteTable } from "./runtime.ts";
import type { Arg } from "./syntax-tree.ts";

/** "fmt" is a formatted string, "igp" an int or one variable, "pvname" the name
 * of a variable, "pvdst" the name of a variable that can be set (a result),
 * "level" an xlog level, "str" a plain string taken as written (Kamailio's char*
 * parameters: no variables in it), "literal" the same but refused when it holds a
 * variable, "sqlcon" a literal naming a declared sqlops connection, "pvs" a list of
 * variables ("$var(a), $var(b)"), "pvsdst" a list of variables that can be set. */
export type ParamKind = "fmt" | "igp" | "pvname" | "pvdst" | "level" | "str" | "literal" | "sqlcon" | "pvs" | "pvsdst";

/** A compiled parameter: a getter for fmt/igp/level/str/literal/sqlcon, the
 * variable for pvname and pvdst, the variables for pvs. */
export type Compiled = ((ctx: RequestContext) => unknown) | CfgPv | CfgPv[];

interface FunctionBase {
  module: string;
  doc: string;
  /** parameter kinds for each accepted argument count */
  forms: ParamKind[][];
  /** it runs routes by a name known only at request time: every route[] must compile */
  routesByName?: boolean;
  /** start-up checks of the arguments as written (Kamailio's fixup): throws a
   * CfgSyntaxError naming what is wrong */
  fixup?(args: Compiled[], raw: Arg[], pos: Pos): void;
  /** compiles its arguments itself, when they need more than one kind's rules
   * (the forms still give the argument counts) */
  compile?(args: Arg[], pos: Pos): Compiled[];
}

/** What runs a function that has its code at once. */
export type ImmediateRun = (x: Exec, args: Compiled[], pos: Pos, env: FnEnv) => number;

/** A function that has its code at once: > 0 success, < 0 failure, 0 stops the script. */
interface ImmediateFunction extends FunctionBase {
  async?: undefined;
  run: ImmediateRun;
}

/** A function that may wait (a timer, a query): its code, or a promise of it. The
 * route awaits it and the server serves other requests meanwhile. It must end its
 * wait when x.ctx.signal aborts (route_timeout, the client gone, the server
 * stopping): the route then stops there. A rejection is logged and counts as -1.
 * "routes": it waits only when a route it runs can (route_if_exists). */
interface WaitingFunction extends FunctionBase {
  async: true | "routes";
  run(x: Exec, args: Compiled[], pos: Pos, env: FnEnv): number | Promise<number>;
}

export type FunctionSpec = ImmediateFunction | WaitingFunction;

export interface FnEnv {
  routes: RouteTable;
  /** a route is called by a name known only at request time */
  dynamicRoutes: boolean;
}
