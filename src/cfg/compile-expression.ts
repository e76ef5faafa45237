// Stage 4, expressions: syntax tree -> closures that return a value. Every
// variable, formatted string, constant regex and function argument is resolved
// here, once; running a request only calls closures. The typing rules are
// Kamailio's (rvalue.c): the left operand decides "+" and "==", "!", "&&" and
// "||" take C truth, and a function returning 0 stops the script. These are the
// closures of expressions that cannot suspend; compile-suspending.ts builds the
// others on the same operators.
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import type { Expr } from "./syntax-tree.ts";
import { compileCall, type FnEnv } from "./functions.ts";
import { compilePv } from "./pvs.ts";
import { callRoute, EXIT, runtimeError, type Exec } from "./runtime.ts";
import type { SuspendAnalysis } from "./suspend.ts";
import { byteLength, toInt, toStr, type Value } from "./values.ts";
import { compileEre, EreCache, type EreMatcher } from "../ere.ts";
import { quote } from "../log.ts";

export type Eval = (x: Exec) => Value;

export interface CompileEnv extends FnEnv {
  /** modules named by loadmodule (without path and .so) */
  loaded: Set<string>;
  /** route names referenced by route(NAME), with where: checked once all routes exist */
  referenced: { name: string; pos: Pos }[];
  /** which statements and expressions can suspend */
  suspend: SuspendAnalysis;
}

/** !, &&, || and selval: C truth, non-zero (rvalue.c) */
export const nonzero = (v: Value) => (typeof v === "number" ? v !== 0 : toInt(v) !== 0);
export const bool = (b: boolean) => (b ? 1 : 0);

export function isNullPv(e: Expr) {
  return e.k === "pv" && e.spec === "$null";
}

export function regexError(pos: Pos, re: string, e: unknown): CfgSyntaxError {
  return new CfgSyntaxError(pos, `bad regular expression ${JSON.stringify(re)}: ${(e as Error).message}`);
}

export function compileExpr(e: Expr, env: CompileEnv): Eval {
  if (env.suspend.expr(e)) throw new Error(`internal: the expression at ${e.pos.file}:${e.pos.line} can suspend; compile it with compile-suspending.ts`);
  switch (e.k) {
    case "num": {
      const v = e.v;
      return () => v;
    }
    case "str": {
      const v = e.v;
      return () => v;
    }
    case "pv": {
      const get = compilePv(e.spec, e.pos).get;
      return (x) => get(x.ctx);
    }
    case "call": {
      const f = compileCall(e.name, e.args, e.pos, env, env.loaded) as (x: Exec) => number;
      return (x) => {
        const r = f(x);
        x.rc = r;
        if (r === 0) x.flags |= EXIT;
        return r > 0 ? 1 : 0;
      };
    }
    case "route": {
      // an action in an expression is 1 when it returned > 0, else 0 (rvalue.c); $rc has the value
      const call = compileRouteCall(e.target, e.pos, env);
      return (x) => (call(x) > 0 ? 1 : 0);
    }
    case "selval": {
      const [c, a, b] = [compileExpr(e.c, env), compileExpr(e.a, env), compileExpr(e.b, env)];
      return (x) => (nonzero(c(x)) ? a(x) : b(x));
    }
    case "un":
      return unaryOn(e.op, compileExpr(e.e, env), e.pos);
    case "bin":
      return compileBinary(e.op, e.l, e.r, e.pos, env);
  }
}

export function compileRouteCall(target: string | Expr, pos: Pos, env: CompileEnv): (x: Exec) => number {
  if (typeof target === "string") {
    env.referenced.push({ name: target, pos });
    let route: ReturnType<typeof env.routes.get>;
    return (x) => callRoute(x, (route ??= env.routes.get(target)!), pos);
  }
  env.dynamicRoutes = true;
  const name = compileExpr(target, env);
  return (x) => {
    const n = toStr(name(x));
    const route = env.routes.get(n);
    return route ? callRoute(x, route, pos) : noSuchRoute(x, pos, n);
  };
}

/** route($var) naming no route: an error in the log, and -1 */
export function noSuchRoute(x: Exec, pos: Pos, name: string): number {
  runtimeError(x.ctx, pos, `route(${name}): no such route`);
  x.rc = -1;
  return -1;
}

/** A unary operator on the operand's closure. */
export function unaryOn(op: string, v: Eval, pos: Pos): Eval {
  switch (op) {
    case "!":
      return (x) => bool(!nonzero(v(x)));
    case "-":
      return (x) => -toInt(v(x)) | 0;
    case "~":
      return (x) => ~toInt(v(x));
    case "defined":
      return (x) => bool(v(x) !== null);
    case "(int)":
      return (x) => toInt(v(x));
    case "(str)":
      return (x) => toStr(v(x));
    case "strlen":
      return (x) => byteLength(toStr(v(x)));
    case "strempty":
      return (x) => bool(toStr(v(x)) === "");
  }
  throw new CfgSyntaxError(pos, `unknown operator ${op}`);
}

/** == with the left operand's type (an undefined left takes the right's). */
function equals(l: Value, r: Value): boolean {
  if (l === null) {
    if (r === null) return true;
    return typeof r === "number" ? r === 0 : r === "";
  }
  if (typeof l === "number") return l === toInt(r);
  return l === toStr(r);
}

function compileBinary(op: string, le: Expr, re: Expr, pos: Pos, env: CompileEnv): Eval {
  // x == $null / x != $null mean !defined x / defined x
  if ((op === "==" || op === "!=") && isNullPv(re)) {
    const l = compileExpr(le, env);
    return op === "==" ? (x) => bool(l(x) === null) : (x) => bool(l(x) !== null);
  }
  const l = compileExpr(le, env);
  if (op === "=~") return re.k === "str" ? compileConstantMatch(l, re.v, re.pos) : compileRunTimeMatch(l, compileExpr(re, env), pos);
  return compileOperator(op, l, compileExpr(re, env), pos);
}

/** =~ with a constant pattern, compiled here; rvalue.c: REG_EXTENDED | REG_ICASE */
export function compileConstantMatch(l: Eval, pattern: string, patternPos: Pos): Eval {
  let rx: EreMatcher;
  try {
    rx = compileEre(pattern, true);
  } catch (err) {
    throw regexError(patternPos, pattern, err);
  }
  return (x) => {
    const v = l(x);
    return v === null ? 0 : bool(rx.test(toStr(v)));
  };
}

/** =~ with a pattern built at run time, maybe from the request: Kamailio compiles
 * it on every evaluation and logs each failure; here it is compiled once per text */
export function compileRunTimeMatch(l: Eval, r: Eval, pos: Pos): Eval {
  const cache = new EreCache(true);
  return (x) => {
    const v = l(x);
    const src = toStr(r(x));
    const rx = cache.get(src);
    if (rx instanceof Error) {
      runtimeError(x.ctx, pos, `bad regular expression ${quote(src)}: ${rx.message}`);
      return 0;
    }
    return v === null ? 0 : bool(rx.test(toStr(v)));
  };
}

/** The other binary operators; arithmetic is on 32-bit signed integers, as in C. */
export function compileOperator(op: string, l: Eval, r: Eval, pos: Pos): Eval {
  const int2 = (f: (a: number, b: number) => number): Eval => (x) => f(toInt(l(x)), toInt(r(x)));
  switch (op) {
    case "||":
      return (x) => bool(nonzero(l(x)) || nonzero(r(x)));
    case "&&":
      return (x) => bool(nonzero(l(x)) && nonzero(r(x)));
    case "+":
      return (x) => {
        const a = l(x);
        if (typeof a === "number") return (a + toInt(r(x))) | 0;
        return toStr(a) + toStr(r(x));
      };
    case "-":
      return int2((a, b) => (a - b) | 0);
    case "*":
      return int2((a, b) => Math.imul(a, b));
    case "/":
    case "mod":
      return (x) => {
        const a = toInt(l(x));
        const b = toInt(r(x));
        if (b === 0) {
          runtimeError(x.ctx, pos, `${op === "/" ? "division" : "mod"} by zero`);
          return 0;
        }
        return op === "/" ? (a / b) | 0 : a % b;
      };
    case "|":
      return int2((a, b) => a | b);
    case "&":
      return int2((a, b) => a & b);
    case "^":
      return int2((a, b) => a ^ b);
    case "<<":
      return int2((a, b) => a << b);
    case ">>":
      return int2((a, b) => a >> b);
    case "==":
      return (x) => bool(equals(l(x), r(x)));
    case "!=":
      return (x) => bool(!equals(l(x), r(x)));
    case "eq":
      return (x) => bool(toStr(l(x)) === toStr(r(x)));
    case "ne":
      return (x) => bool(toStr(l(x)) !== toStr(r(x)));
    case "ieq":
      return int2((a, b) => bool(a === b));
    case "ine":
      return int2((a, b) => bool(a !== b));
    case "<":
      return int2((a, b) => bool(a < b));
    case ">":
      return int2((a, b) => bool(a > b));
    case "<=":
      return int2((a, b) => bool(a <= b));
    case ">=":
      return int2((a, b) => bool(a >= b));
  }
  throw new CfgSyntaxError(pos, `unknown operator ${op}`);
}
