// The statistics module's cfg functions, on src/modules/statistics.ts (KSR.statistics
// and $stat use it too). As Kamailio's fixup reads them: a name or value that does
// not start with "$" is checked at start-up (an undeclared name, a value that is
// not an integer, or 0, stops it); one that does is a variable read per call.
import type { RequestContext } from "../context.ts";
import { quote } from "../log.ts";
import { isStatistic, parseUpdateValue, resetStatistic, updateStatistic } from "../modules/statistics.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import { runtimeError } from "./runtime.ts";
import type { Arg } from "./syntax-tree.ts";
import type { FunctionSpec } from "./function-spec.ts";

type Text = (ctx: RequestContext) => string;

const isVariable = (a: Arg) => a.k !== "num" && a.v.trim().startsWith("$");

function checkName(fname: string, a: Arg): void {
  if (isVariable(a)) return;
  const name = a.k === "num" ? String(a.num) : a.v;
  if (!isStatistic(name)) throw new CfgSyntaxError(a.pos, `${fname}: variable <${name}> not defined: declare it with modparam("statistics", "variable", "${name}")`);
}

/** The statistic a call names, or undefined (logged) for an undeclared one. */
function named(fname: string, ctx: RequestContext, pos: Pos, name: string): string | undefined {
  if (isStatistic(name)) return name;
  runtimeError(ctx, pos, `${fname}: variable ${quote(name)} not defined (declared with modparam("statistics", "variable", ...)?)`);
  return undefined;
}

export const STATISTICS_FUNCTIONS: Record<string, FunctionSpec> = {
  update_stat: {
    module: "statistics",
    doc: 'update_stat(name, value): add value ("+1", "-1", up to 65535; a variable holding one) to the statistic; 1, -1 for an undeclared name or a value that is not an integer (logged)',
    forms: [["fmt", "fmt"]],
    fixup(_args, raw) {
      checkName("update_stat", raw[0]);
      const value = raw[1];
      if (isVariable(value)) return;
      const n = parseUpdateValue(value.k === "num" ? value.num! : value.v);
      if (n === undefined) throw new CfgSyntaxError(value.pos, `update_stat: bad update number ${JSON.stringify(value.v)} (an integer with an optional sign, up to 65535)`);
      if (n === 0) throw new CfgSyntaxError(value.pos, "update_stat: update with 0 has no sense");
    },
    run(x, args, pos) {
      const ctx = x.ctx;
      const name = named("update_stat", ctx, pos, (args[0] as Text)(ctx));
      if (name === undefined) return -1;
      const text = (args[1] as Text)(ctx);
      const n = parseUpdateValue(text);
      if (n === undefined) return (runtimeError(ctx, pos, `update_stat: ${quote(text)} is not an integer (with an optional sign, up to 65535)`), -1);
      updateStatistic(name, n);
      return 1;
    },
  },
  reset_stat: {
    module: "statistics",
    doc: "reset_stat(name): set the statistic to 0 (one declared name/no_reset keeps its value); 1, -1 for an undeclared name (logged)",
    forms: [["fmt"]],
    fixup: (_args, raw) => checkName("reset_stat", raw[0]),
    run(x, args, pos) {
      const name = named("reset_stat", x.ctx, pos, (args[0] as Text)(x.ctx));
      if (name === undefined) return -1;
      resetStatistic(name);
      return 1;
    },
  },
};
