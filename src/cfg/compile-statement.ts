// Stage 4, statements: syntax tree -> closures that act (Kamailio's action.c).
// A condition is true when > 0; exit, return, break and drop set a flag in the
// run state that ends the enclosing blocks (runtime.ts). Expressions come from
// compile-expression.ts. These are the closures of statements that cannot
// suspend; compile-suspending.ts builds the others on the same rules.
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import type { CaseLabel, Stmt } from "./syntax-tree.ts";
import { compileCall } from "./functions.ts";
import { compilePv } from "./pvs.ts";
import { BREAK, EXIT, RETURN, runtimeError, sequence, type Action, type Exec } from "./runtime.ts";
import { toInt, toStr, type Value } from "./values.ts";
import { compileEre, type EreMatcher } from "../ere.ts";
import { compileExpr, compileRouteCall, regexError, type CompileEnv } from "./compile-expression.ts";

export type { CompileEnv } from "./compile-expression.ts";

export type StmtOf<K extends Stmt["k"]> = Extract<Stmt, { k: K }>;

/** if / while: true when > 0 (action.c) */
export const truth = (v: Value) => (typeof v === "number" ? v > 0 : toInt(v) > 0);

export function compileBlock(stmts: Stmt[], env: CompileEnv): Action {
  return sequence(stmts.map((s) => compileStmt(s, env)));
}

export function compileStmt(s: Stmt, env: CompileEnv): Action {
  if (env.suspend.stmt(s)) throw new Error(`internal: the statement at ${s.pos.file}:${s.pos.line} can suspend; compile it with compile-suspending.ts`);
  switch (s.k) {
    case "expr":
      return compileActionStatement(s, env);
    case "if":
      return compileIf(s, env);
    case "while":
      return compileWhile(s, env);
    case "switch":
      return compileSwitch(s, env);
    case "assign":
      return compileAssignment(s, env);
    case "return":
      return compileReturn(s, env);
    case "exit":
      return (x) => {
        x.flags |= EXIT;
      };
    case "drop":
      return (x) => {
        x.ctx.dropped = true;
        x.flags |= EXIT;
      };
    case "break":
      return (x) => {
        x.flags |= BREAK;
      };
  }
}

/** A function call or route() whose value is not used: $rc has it. */
function compileActionStatement(s: StmtOf<"expr">, env: CompileEnv): Action {
  if (s.e.k === "route") {
    const call = compileRouteCall(s.e.target, s.e.pos, env);
    return (x) => void call(x);
  }
  if (s.e.k !== "call") throw new CfgSyntaxError(s.pos, "expected a function call");
  const f = compileCall(s.e.name, s.e.args, s.e.pos, env, env.loaded) as (x: Exec) => number;
  return (x) => {
    const r = f(x);
    x.rc = r;
    if (r === 0) x.flags |= EXIT;
  };
}

function compileIf(s: StmtOf<"if">, env: CompileEnv): Action {
  const c = compileExpr(s.cond, env);
  const then = compileBlock(s.then, env);
  const els = s.else ? compileBlock(s.else, env) : undefined;
  return (x) => {
    const v = c(x);
    if (x.flags) return;
    if (truth(v)) then(x);
    else if (els) els(x);
  };
}

/** At most max_while_loops turns, then an error in the log and the loop ends (action.c). */
function compileWhile(s: StmtOf<"while">, env: CompileEnv): Action {
  const c = compileExpr(s.cond, env);
  const body = compileBlock(s.body, env);
  const pos = s.pos;
  return (x) => {
    for (let n = 0; ; n++) {
      const v = c(x);
      if (x.flags || !truth(v)) return;
      if (n >= x.maxWhile) {
        runtimeError(x.ctx, pos, `runaway while: more than ${x.maxWhile} loops (max_while_loops)`);
        return;
      }
      body(x);
      if (x.flags & BREAK) {
        x.flags &= ~BREAK;
        return;
      }
      if (x.flags) return;
    }
  };
}

/** switch.c: the labels are all integers, or strings and regexes; the first case
 * that matches (else default) runs, and on into the next ones until a break. */
function compileSwitch(s: StmtOf<"switch">, env: CompileEnv): Action {
  const v = compileExpr(s.e, env);
  const firstCase = switchCases(s);
  const bodies = s.cases.map((c) => compileBlock(c.body, env));
  return (x) => {
    const val = v(x);
    if (x.flags) return;
    const start = firstCase(val);
    if (start < 0) return;
    for (let i = start; i < bodies.length; i++) {
      bodies[i](x);
      if (x.flags & BREAK) {
        x.flags &= ~BREAK;
        return;
      }
      if (x.flags) return;
    }
  };
}

/** The switch's labels checked and compiled: which case a value starts at (-1: none). */
export function switchCases(s: StmtOf<"switch">): (val: Value) => number {
  const kinds = new Set(s.cases.filter((c) => c.label && c.label.k !== "re").map((c) => c.label!.k));
  if (kinds.size > 1) throw new CfgSyntaxError(s.pos, "switch mixes integer and string case labels");
  const isInt = kinds.has("num");
  if (isInt && s.cases.some((c) => c.label?.k === "re")) throw new CfgSyntaxError(s.pos, "switch mixes integer and regex case labels");
  const matchers = s.cases.map((c) => caseMatcher(c.label, c.pos));
  const dflt = s.cases.findIndex((c) => c.label === null);
  return (val) => {
    for (let i = 0; i < matchers.length; i++) {
      const m = matchers[i];
      if (m && m(val)) return i;
    }
    return dflt;
  };
}

/** Whether a case's label matches the switch's value; null for default. */
function caseMatcher(label: CaseLabel | null, pos: Pos): ((val: Value) => boolean) | null {
  if (!label) return null;
  if (label.k === "num") return (val) => toInt(val) === label.v;
  if (label.k === "str") return (val) => toStr(val) === label.v;
  let rx: EreMatcher;
  try {
    rx = compileEre(label.v, false); // switch.c: case-sensitive
  } catch (err) {
    throw regexError(pos, label.v, err);
  }
  return (val) => val !== null && rx.test(toStr(val));
}

function compileAssignment(s: StmtOf<"assign">, env: CompileEnv): Action {
  const set = assignmentTarget(s);
  const v = compileExpr(s.e, env);
  return (x) => {
    const val = v(x);
    if (!(x.flags & EXIT)) set(x.ctx, val);
  };
}

/** The variable an assignment sets; a read-only one is a start-up error. */
export function assignmentTarget(s: StmtOf<"assign">): NonNullable<ReturnType<typeof compilePv>["set"]> {
  const pv = compilePv(s.pv, s.pos);
  if (!pv.set) throw new CfgSyntaxError(s.pos, `cannot assign to ${s.pv}: it is read-only`);
  return pv.set;
}

/** return without a value is return 1; return 0 stops the script like exit. */
function compileReturn(s: StmtOf<"return" | "exit">, env: CompileEnv): Action {
  const v = s.e ? compileExpr(s.e, env) : () => 1;
  return (x) => returned(x, v(x));
}

export function returned(x: Exec, value: Value): void {
  const n = toInt(value);
  x.ret = n;
  x.rc = n;
  x.flags |= n === 0 ? EXIT : RETURN; // return 0 stops the script
}
