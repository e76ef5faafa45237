// What a cfg function is, as data (Kamailio's cmd_export_t): its own file so that a
// module's functions can be declared beside the module (src/cfg/http-client.ts)
// and gathered into the table of functions.ts without an import cycle.
import type { RequestContext } from "../context.ts";
import type { Pos } from "./lexer.ts";
import type { CfgPv } from "./pvs.ts";
import type { Exec, RouteTable } from "./runtime.ts";
import type { Arg } from "./syntax-tree.ts";

/** How an argument is compiled at start-up: "fmt" a formatted string, "igp" an int
 * or one variable, "pvname" the name of a variable, "level" an xlog level, "str" a
 * plain string taken as written (Kamailio's char* parameters: no variables in it). */
export type ParamKind = "fmt" | "igp" | "pvname" | "level" | "str";

/** A compiled parameter: a getter for fmt/igp/level/str, the variable for pvname. */
export type Compiled = ((ctx: RequestContext) => unknown) | CfgPv;

export interface FunctionSpec {
  module: string;
  doc: string;
  /** parameter kinds for each accepted argument count */
  forms: ParamKind[][];
  /** it runs routes by a name known only at request time: every route[] must compile */
  routesByName?: boolean;
  /** run() may return a promise (the route awaits it; see docs/cfg.md) */
  async?: true;
  /** start-up checks of the arguments as written (Kamailio's fixup): throws a
   * CfgSyntaxError naming what is wrong */
  fixup?(args: Compiled[], raw: Arg[], pos: Pos): void;
  /** returns the function's code: > 0 success, < 0 failure, 0 stops the script */
  run(x: Exec, args: Compiled[], pos: Pos, env: FnEnv): number | Promise<number>;
}

export interface FnEnv {
  routes: RouteTable;
  /** a route is called by a name known only at request time */
  dynamicRoutes: boolean;
}
