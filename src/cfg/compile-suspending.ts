// Stage 4 for what can suspend: the statements and expressions that suspend.ts
// found able to reach a function that waits become closures that return a
// promise where one appeared, and the plain value otherwise, so a run that takes
// no waiting branch stays synchronous to its end. The rules are the synchronous
// compilers' own (truth, return codes, flags, the operators, switch labels, the
// while limit): those files build the parts that cannot suspend, and these
// closures apply the same operators to values once they are there.
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import type { Expr, Stmt } from "./syntax-tree.ts";
import { compileCall } from "./functions.ts";
import { BREAK, callAnyRoute, EXIT, runtimeError, suspendingSequence, type Exec, type SuspendingAction } from "./runtime.ts";
import { toStr, type Value } from "./values.ts";
import {
  bool,
  compileConstantMatch,
  compileExpr,
  compileOperator,
  compileRunTimeMatch,
  isNullPv,
  noSuchRoute,
  nonzero,
  unaryOn,
  type CompileEnv,
  type Eval,
} from "./compile-expression.ts";
import { assignmentTarget, compileBlock, compileStmt, returned, switchCases, truth, type StmtOf } from "./compile-statement.ts";

/** An expression of a route that can suspend: its value, or a promise of it. */
export type SuspendingEval = (x: Exec) => Value | Promise<Value>;

const pending = (v: Value | Promise<Value>): v is Promise<Value> => typeof v === "object" && v !== null;

/** A block of any route: plain closures when nothing in it can suspend. */
export function compileAnyBlock(stmts: Stmt[], env: CompileEnv): SuspendingAction {
  if (!env.suspend.block(stmts)) return compileBlock(stmts, env);
  return suspendingSequence(stmts.map((s) => (env.suspend.stmt(s) ? compileSuspendingStmt(s, env) : compileStmt(s, env))));
}

function compileAnyExpr(e: Expr, env: CompileEnv): SuspendingEval {
  return env.suspend.expr(e) ? compileSuspendingExpr(e, env) : compileExpr(e, env);
}

function compileSuspendingStmt(s: Stmt, env: CompileEnv): SuspendingAction {
  switch (s.k) {
    case "expr":
      return suspendingActionStatement(s, env);
    case "if":
      return suspendingIf(s, env);
    case "while":
      return suspendingWhile(s, env);
    case "switch":
      return suspendingSwitch(s, env);
    case "assign": {
      const set = assignmentTarget(s);
      const v = compileSuspendingExpr(s.e, env);
      const store = (x: Exec, val: Value) => {
        if (!(x.flags & EXIT)) set(x.ctx, val);
      };
      return (x) => {
        const val = v(x);
        if (pending(val)) return val.then((val) => store(x, val));
        store(x, val);
      };
    }
    case "return": {
      const v = compileSuspendingExpr(s.e!, env);
      return (x) => {
        const val = v(x);
        if (pending(val)) return val.then((val) => returned(x, val));
        returned(x, val);
      };
    }
    default:
      throw new Error(`internal: a ${s.k} statement cannot suspend`);
  }
}

/** A function call or route() whose value is not used: $rc has it. */
function suspendingActionStatement(s: StmtOf<"expr">, env: CompileEnv): SuspendingAction {
  if (s.e.k === "route") {
    const call = compileSuspendingRouteCall(s.e.target, s.e.pos, env);
    return (x) => {
      const r = call(x);
      if (typeof r !== "number") return r.then(() => {});
    };
  }
  if (s.e.k !== "call") throw new CfgSyntaxError(s.pos, "expected a function call");
  const f = compileCall(s.e.name, s.e.args, s.e.pos, env, env.loaded, true);
  const done = (x: Exec, r: number) => {
    x.rc = r;
    if (r === 0) x.flags |= EXIT;
  };
  return (x) => {
    const r = f(x);
    if (typeof r !== "number") return r.then((r) => done(x, r));
    done(x, r);
  };
}

function suspendingIf(s: StmtOf<"if">, env: CompileEnv): SuspendingAction {
  const c = compileAnyExpr(s.cond, env);
  const then = compileAnyBlock(s.then, env);
  const els = s.else ? compileAnyBlock(s.else, env) : undefined;
  const branch = (x: Exec, v: Value): void | Promise<void> => {
    if (x.flags) return;
    if (truth(v)) return then(x);
    if (els) return els(x);
  };
  return (x) => {
    const v = c(x);
    return pending(v) ? v.then((v) => branch(x, v)) : branch(x, v);
  };
}

/** max_while_loops turns at most, as the synchronous while; the loop goes on
 * after a wait where it stopped. */
function suspendingWhile(s: StmtOf<"while">, env: CompileEnv): SuspendingAction {
  const c = compileAnyExpr(s.cond, env);
  const body = compileAnyBlock(s.body, env);
  const pos = s.pos;
  /** the condition's value: whether turn n runs */
  const enter = (x: Exec, n: number, v: Value): boolean => {
    if (x.flags || !truth(v)) return false;
    if (n >= x.maxWhile) {
      runtimeError(x.ctx, pos, `runaway while: more than ${x.maxWhile} loops (max_while_loops)`);
      return false;
    }
    return true;
  };
  /** after a turn: whether the loop goes on */
  const goOn = (x: Exec): boolean => {
    if (x.flags & BREAK) {
      x.flags &= ~BREAK;
      return false;
    }
    return x.flags === 0;
  };
  const resume = async (x: Exec, n: number, cond: Promise<Value> | undefined, turn: Promise<void> | undefined): Promise<void> => {
    if (cond) {
      if (!enter(x, n, await cond)) return;
      turn = body(x) ?? undefined;
    }
    if (turn) await turn;
    if (!goOn(x)) return;
    for (n++; ; n++) {
      let v = c(x);
      if (pending(v)) v = await v;
      if (!enter(x, n, v)) return;
      const next = body(x);
      if (next !== undefined) await next;
      if (!goOn(x)) return;
    }
  };
  return (x) => {
    for (let n = 0; ; n++) {
      const v = c(x);
      if (pending(v)) return resume(x, n, v, undefined);
      if (!enter(x, n, v)) return;
      const turn = body(x);
      if (turn !== undefined) return resume(x, n, undefined, turn);
      if (!goOn(x)) return;
    }
  };
}

function suspendingSwitch(s: StmtOf<"switch">, env: CompileEnv): SuspendingAction {
  const v = compileAnyExpr(s.e, env);
  const firstCase = switchCases(s);
  const bodies = s.cases.map((c) => compileAnyBlock(c.body, env));
  const goOn = (x: Exec): boolean => {
    if (x.flags & BREAK) {
      x.flags &= ~BREAK;
      return false;
    }
    return x.flags === 0;
  };
  const runFrom = (x: Exec, i: number): void | Promise<void> => {
    for (; i < bodies.length; i++) {
      const turn = bodies[i](x);
      if (turn !== undefined) {
        const next = i + 1;
        return turn.then(() => (goOn(x) ? runFrom(x, next) : undefined));
      }
      if (!goOn(x)) return;
    }
  };
  const start = (x: Exec, val: Value): void | Promise<void> => {
    if (x.flags) return;
    const i = firstCase(val);
    if (i >= 0) return runFrom(x, i);
  };
  return (x) => {
    const val = v(x);
    return pending(val) ? val.then((val) => start(x, val)) : start(x, val);
  };
}

/** route(NAME) or route($var) where the route can suspend: its value, or a promise of it. */
function compileSuspendingRouteCall(target: string | Expr, pos: Pos, env: CompileEnv): (x: Exec) => number | Promise<number> {
  if (typeof target === "string") {
    env.referenced.push({ name: target, pos });
    let route: ReturnType<typeof env.routes.get>;
    return (x) => callAnyRoute(x, (route ??= env.routes.get(target)!), pos);
  }
  env.dynamicRoutes = true;
  const name = compileAnyExpr(target, env);
  const call = (x: Exec, n: Value) => {
    const route = env.routes.get(toStr(n));
    return route ? callAnyRoute(x, route, pos) : noSuchRoute(x, pos, toStr(n));
  };
  return (x) => {
    const n = name(x);
    return pending(n) ? n.then((n) => call(x, n)) : call(x, n);
  };
}

function compileSuspendingExpr(e: Expr, env: CompileEnv): SuspendingEval {
  switch (e.k) {
    case "call": {
      const f = compileCall(e.name, e.args, e.pos, env, env.loaded, true);
      const done = (x: Exec, r: number) => {
        x.rc = r;
        if (r === 0) x.flags |= EXIT;
        return r > 0 ? 1 : 0;
      };
      return (x) => {
        const r = f(x);
        return typeof r === "number" ? done(x, r) : r.then((r) => done(x, r));
      };
    }
    case "route": {
      const call = compileSuspendingRouteCall(e.target, e.pos, env);
      return (x) => {
        const r = call(x);
        return typeof r === "number" ? (r > 0 ? 1 : 0) : r.then((r) => (r > 0 ? 1 : 0));
      };
    }
    case "selval": {
      const [c, a, b] = [compileAnyExpr(e.c, env), compileAnyExpr(e.a, env), compileAnyExpr(e.b, env)];
      return (x) => {
        const v = c(x);
        return pending(v) ? v.then((v) => (nonzero(v) ? a(x) : b(x))) : nonzero(v) ? a(x) : b(x);
      };
    }
    case "un": {
      const operand = compileAnyExpr(e.e, env);
      const slot: { v: Value } = { v: null };
      const apply = unaryOn(e.op, () => slot.v, e.pos);
      // the operator runs on the value at once after it is set: no other run can use the slot between
      const on = (x: Exec, v: Value) => ((slot.v = v), apply(x));
      return (x) => {
        const v = operand(x);
        return pending(v) ? v.then((v) => on(x, v)) : on(x, v);
      };
    }
    case "bin":
      return suspendingBinary(e.op, e.l, e.r, e.pos, env);
    default:
      throw new Error(`internal: a ${e.k} expression cannot suspend`);
  }
}

function suspendingBinary(op: string, le: Expr, re: Expr, pos: Pos, env: CompileEnv): SuspendingEval {
  const l = compileAnyExpr(le, env);
  if ((op === "==" || op === "!=") && isNullPv(re)) {
    const test = op === "==" ? (v: Value) => bool(v === null) : (v: Value) => bool(v !== null);
    return (x) => {
      const v = l(x);
      return pending(v) ? v.then(test) : test(v);
    };
  }
  const r = compileAnyExpr(re, env);
  if (op === "&&" || op === "||") {
    // short-circuit: the right side runs only when the left does not decide
    const decides = op === "&&" ? (a: Value) => !nonzero(a) : (a: Value) => nonzero(a);
    const rest = (x: Exec, a: Value): Value | Promise<Value> => {
      if (decides(a)) return op === "&&" ? 0 : 1;
      const b = r(x);
      return pending(b) ? b.then((b) => bool(nonzero(b))) : bool(nonzero(b));
    };
    return (x) => {
      const a = l(x);
      return pending(a) ? a.then((a) => rest(x, a)) : rest(x, a);
    };
  }
  // the operator's own closure, on operands evaluated first, left then right as it would
  const slot: { l: Value; r: Value } = { l: null, r: null };
  const left: Eval = () => slot.l;
  const right: Eval = () => slot.r;
  const apply =
    op === "=~" ? (re.k === "str" ? compileConstantMatch(left, re.v, re.pos) : compileRunTimeMatch(left, right, pos)) : compileOperator(op, left, right, pos);
  const on = (x: Exec, a: Value, b: Value) => ((slot.l = a), (slot.r = b), apply(x));
  const withLeft = (x: Exec, a: Value): Value | Promise<Value> => {
    const b = r(x);
    return pending(b) ? b.then((b) => on(x, a, b)) : on(x, a, b);
  };
  return (x) => {
    const a = l(x);
    return pending(a) ? a.then((a) => withLeft(x, a)) : withLeft(x, a);
  };
}
