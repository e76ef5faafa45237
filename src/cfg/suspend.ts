// Which parts of a configuration can suspend: a statement or expression that can
// reach a function that waits (FunctionSpec.async), directly or through route(X),
// is compiled to closures that may return a promise (compile-suspending.ts);
// everything else stays on the synchronous closures, at no cost. Decided once,
// before compiling, over every route[] block: route(NAME) can suspend when
// route[NAME] can, and a route called by a name known only at request time
// (route($var), route_if_exists) can suspend when any route[] can.
import { ownEntry } from "../pv.ts";
import { FUNCTIONS } from "./functions.ts";
import type { Expr, RouteBlock, Stmt } from "./syntax-tree.ts";

/** What one route[] block calls, collected in one pass over its body. */
interface Calls {
  /** it calls a function that waits */
  waits: boolean;
  /** route(NAME) targets */
  routes: Set<string>;
  /** a route by a name known only at request time */
  anyRoute: boolean;
}

export class SuspendAnalysis {
  /** the route[] blocks that can suspend */
  readonly routes = new Set<string>();
  readonly #nodes = new WeakMap<object, boolean>();

  constructor(named: Map<string, RouteBlock>) {
    const calls = new Map<string, Calls>();
    for (const [name, block] of named) {
      const c: Calls = { waits: false, routes: new Set(), anyRoute: false };
      for (const s of block.body) collectStmt(s, c);
      calls.set(name, c);
    }
    // grow the set until it holds: a route suspends when it waits, calls one that
    // suspends, or calls by name while any route suspends
    for (let changed = true; changed; ) {
      changed = false;
      for (const [name, c] of calls) {
        if (this.routes.has(name)) continue;
        if (c.waits || (c.anyRoute && this.routes.size > 0) || [...c.routes].some((r) => this.routes.has(r))) {
          this.routes.add(name);
          changed = true;
        }
      }
    }
  }

  /** some route[] can suspend: a route called by a name known only at request time can */
  get anyRoute(): boolean {
    return this.routes.size > 0;
  }

  block(stmts: Stmt[]): boolean {
    return stmts.some((s) => this.stmt(s));
  }

  stmt(s: Stmt): boolean {
    let v = this.#nodes.get(s);
    if (v === undefined) this.#nodes.set(s, (v = this.#stmt(s)));
    return v;
  }

  expr(e: Expr): boolean {
    let v = this.#nodes.get(e);
    if (v === undefined) this.#nodes.set(e, (v = this.#expr(e)));
    return v;
  }

  #stmt(s: Stmt): boolean {
    switch (s.k) {
      case "expr":
        return this.expr(s.e);
      case "if":
        return this.expr(s.cond) || this.block(s.then) || (s.else !== undefined && this.block(s.else));
      case "while":
        return this.expr(s.cond) || this.block(s.body);
      case "switch":
        return this.expr(s.e) || s.cases.some((c) => this.block(c.body));
      case "assign":
        return this.expr(s.e);
      case "return":
        return s.e !== undefined && this.expr(s.e);
      case "exit": // its value is not evaluated (compile-statement.ts)
      case "drop":
      case "break":
        return false;
    }
  }

  #expr(e: Expr): boolean {
    switch (e.k) {
      case "call": {
        const spec = ownEntry(FUNCTIONS, e.name);
        return spec?.async === true || (spec?.async === "routes" && this.anyRoute);
      }
      case "route":
        return typeof e.target === "string" ? this.routes.has(e.target) : this.anyRoute || this.expr(e.target);
      case "un":
        return this.expr(e.e);
      case "bin":
        return this.expr(e.l) || this.expr(e.r);
      case "selval":
        return this.expr(e.c) || this.expr(e.a) || this.expr(e.b);
      case "num":
      case "str":
      case "pv":
        return false;
    }
  }
}

function collectStmt(s: Stmt, c: Calls): void {
  switch (s.k) {
    case "expr":
    case "assign":
      return collectExpr(s.e, c);
    case "if":
      collectExpr(s.cond, c);
      for (const t of s.then) collectStmt(t, c);
      for (const t of s.else ?? []) collectStmt(t, c);
      return;
    case "while":
      collectExpr(s.cond, c);
      for (const t of s.body) collectStmt(t, c);
      return;
    case "switch":
      collectExpr(s.e, c);
      for (const k of s.cases) for (const t of k.body) collectStmt(t, c);
      return;
    case "return":
      if (s.e) collectExpr(s.e, c);
      return;
  }
}

function collectExpr(e: Expr, c: Calls): void {
  switch (e.k) {
    case "call": {
      const spec = ownEntry(FUNCTIONS, e.name);
      if (spec?.async === true) c.waits = true;
      else if (spec?.async === "routes") c.anyRoute = true;
      return;
    }
    case "route":
      if (typeof e.target === "string") c.routes.add(e.target);
      else {
        c.anyRoute = true;
        collectExpr(e.target, c);
      }
      return;
    case "un":
      return collectExpr(e.e, c);
    case "bin":
      collectExpr(e.l, c);
      return collectExpr(e.r, c);
    case "selval":
      collectExpr(e.c, c);
      collectExpr(e.a, c);
      return collectExpr(e.b, c);
  }
}
