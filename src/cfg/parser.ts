// Stage 3: tokens -> syntax tree, by recursive descent over Kamailio's grammar
// (cfg.y): top-level settings and route blocks, statements, and expressions
// with cfg.y's operator precedence. Nothing is evaluated here.
import { CfgSyntaxError, describe, type Pos, type Token } from "./lexer.ts";

export type Expr =
  | { k: "num"; v: number; pos: Pos }
  | { k: "str"; v: string; pos: Pos }
  | { k: "pv"; spec: string; pos: Pos }
  | { k: "call"; name: string; args: Arg[]; pos: Pos }
  | { k: "route"; target: string | Expr; pos: Pos }
  | { k: "un"; op: string; e: Expr; pos: Pos }
  | { k: "bin"; op: string; l: Expr; r: Expr; pos: Pos }
  | { k: "selval"; c: Expr; a: Expr; b: Expr; pos: Pos };

/** A function argument as written: string, number, bare word or variable. */
export interface Arg {
  k: "str" | "num" | "id" | "pv";
  v: string;
  num?: number;
  pos: Pos;
}

export type CaseLabel = { k: "num"; v: number } | { k: "str"; v: string } | { k: "re"; v: string };

export type Stmt =
  | { k: "expr"; e: Expr; pos: Pos }
  | { k: "if"; cond: Expr; then: Stmt[]; else?: Stmt[]; pos: Pos }
  | { k: "while"; cond: Expr; body: Stmt[]; pos: Pos }
  | { k: "switch"; e: Expr; cases: { label: CaseLabel | null; body: Stmt[]; pos: Pos }[]; pos: Pos }
  | { k: "assign"; pv: string; e: Expr; pos: Pos }
  | { k: "return" | "exit"; e?: Expr; pos: Pos }
  | { k: "drop" | "break"; pos: Pos };

export interface RouteBlock {
  /** request_route, route, event_route, onreply_route, ... */
  kind: string;
  name: string;
  body: Stmt[];
  pos: Pos;
}

export interface CfgTree {
  globals: { name: string; value: string | number; pos: Pos }[];
  modules: { name: string; pos: Pos }[];
  modparams: { module: string; name: string; value: string | number; pos: Pos }[];
  routes: RouteBlock[];
  cfgengine?: { name: string; pos: Pos };
}

const ROUTE_KINDS = new Set(["request_route", "route", "event_route", "onreply_route", "reply_route", "failure_route", "branch_route", "onsend_route"]);
const TRUE_WORDS = new Set(["yes", "true", "on", "enable"]);
const FALSE_WORDS = new Set(["no", "false", "off", "disable"]);

const BIN_LEVELS: string[][] = [
  ["||", "or"],
  ["&&", "and"],
  ["|"],
  ["&"],
  ["^"],
  ["<<"],
  [">>"],
  ["==", "!=", "=~", "eq", "ne", "ieq", "ine"],
  [">", "<", ">=", "<="],
  ["+", "-"],
  ["*", "/", "mod"],
];
const CANON: Record<string, string> = { or: "||", and: "&&" };

export function parse(tokens: Token[]): CfgTree {
  let i = 0;
  const peek = (o = 0) => tokens[Math.min(i + o, tokens.length - 1)];
  const next = () => tokens[Math.min(i++, tokens.length - 1)];
  const is = (text: string, o = 0) => {
    const t = peek(o);
    return (t.kind === "op" || t.kind === "id") && t.text === text;
  };
  const fail = (t: Token, expected: string): never => {
    throw new CfgSyntaxError(t, `expected ${expected}, found ${describe(t)}`);
  };
  const expect = (text: string, what = `"${text}"`) => (is(text) ? next() : fail(peek(), what));
  const optSemi = () => {
    if (is(";")) next();
  };

  // ---- expressions ----
  const args = (): Arg[] => {
    const out: Arg[] = [];
    expect("(");
    if (is(")")) return (next(), out);
    for (;;) {
      const t = next();
      if (t.kind === "str" || t.kind === "id" || t.kind === "pv") out.push({ k: t.kind, v: t.text, pos: t });
      else if (t.kind === "num") out.push({ k: "num", v: t.text, num: t.num, pos: t });
      else if (t.kind === "op" && t.text === "-" && peek().kind === "num") {
        const n = next();
        out.push({ k: "num", v: "-" + n.text, num: -n.num!, pos: t });
      } else fail(t, "a function argument (string, number or variable)");
      if (is(")")) return (next(), out);
      expect(",", '"," or ")"');
    }
  };

  const routeTarget = (): string | Expr => {
    expect("(");
    const t = peek();
    let target: string | Expr;
    if (t.kind === "id" || t.kind === "num" || t.kind === "str") target = (next(), t.text);
    else if (t.kind === "pv") target = (next(), { k: "pv", spec: t.text, pos: t });
    else return fail(t, "a route name");
    expect(")");
    return target;
  };

  const primary = (): Expr => {
    const t = peek();
    if (t.kind === "num") return (next(), { k: "num", v: t.num!, pos: t });
    if (t.kind === "str") {
      next();
      let v = t.text;
      while (peek().kind === "str") v += next().text; // "a" "b" concatenates
      return { k: "str", v, pos: t };
    }
    if (t.kind === "pv") return (next(), { k: "pv", spec: t.text, pos: t });
    if (t.kind === "op" && t.text === "(") {
      if (peek(1).kind === "id" && (peek(1).text === "int" || peek(1).text === "str") && is(")", 2)) {
        const cast = `(${peek(1).text})`;
        i += 3;
        return { k: "un", op: cast, e: unary(), pos: t };
      }
      next();
      const e = expr();
      expect(")");
      return e;
    }
    if (t.kind === "id") {
      next();
      if (TRUE_WORDS.has(t.text)) return { k: "num", v: 1, pos: t };
      if (FALSE_WORDS.has(t.text)) return { k: "num", v: 0, pos: t };
      if (t.text === "route") return { k: "route", target: routeTarget(), pos: t };
      if (t.text === "strlen" || t.text === "strempty") {
        expect("(");
        const e = expr();
        expect(")");
        return { k: "un", op: t.text, e, pos: t };
      }
      if (t.text === "selval") {
        expect("(");
        const c = expr();
        expect(",");
        const a = expr();
        expect(",");
        const b = expr();
        expect(")");
        return { k: "selval", c, a, b, pos: t };
      }
      return { k: "call", name: t.text, args: is("(") ? args() : [], pos: t };
    }
    if (t.kind === "op" && t.text === "%") throw new CfgSyntaxError(t, '"%" is not an operator in the cfg language; use "mod" for the remainder');
    return fail(t, "an expression");
  };

  const unary = (): Expr => {
    const t = peek();
    if (t.kind === "op" && (t.text === "!" || t.text === "-" || t.text === "~")) {
      next();
      return { k: "un", op: t.text, e: unary(), pos: t };
    }
    if (t.kind === "id" && t.text === "defined") {
      next();
      return { k: "un", op: "defined", e: unary(), pos: t };
    }
    return primary();
  };

  const binary = (level: number): Expr => {
    if (level >= BIN_LEVELS.length) return unary();
    let l = binary(level + 1);
    for (;;) {
      const t = peek();
      if (t.kind === "op" && t.text === "%") throw new CfgSyntaxError(t, '"%" is not an operator in the cfg language; use "mod" for the remainder');
      if (!((t.kind === "op" || t.kind === "id") && BIN_LEVELS[level].includes(t.text))) return l;
      next();
      const r = binary(level + 1);
      l = { k: "bin", op: CANON[t.text] ?? t.text, l, r, pos: t };
    }
  };
  const expr = (): Expr => binary(0);

  // ---- statements ----
  const block = (): Stmt[] => {
    expect("{");
    const out: Stmt[] = [];
    while (!is("}")) {
      if (peek().kind === "eof") fail(peek(), '"}"');
      const s = stmt();
      if (s) out.push(s);
    }
    next();
    return out;
  };
  const body = (): Stmt[] => {
    if (is("{")) return block();
    const s = stmt();
    return s ? [s] : [];
  };
  const cond = (): Expr => {
    expect("(");
    const e = expr();
    expect(")");
    return e;
  };
  const semi = () => expect(";", '";"');

  const stmt = (): Stmt | null => {
    const t = peek();
    if (t.kind === "op" && t.text === ";") return (next(), null);
    if (t.kind === "op" && t.text === "{") return { k: "if", cond: { k: "num", v: 1, pos: t }, then: block(), pos: t };
    if (t.kind === "pv") {
      next();
      if (is("+=")) throw new CfgSyntaxError(peek(), '"+=" is not supported by the cfg language; write $x = $x + value');
      expect("=", '"=" (an assignment)');
      const e = expr();
      semi();
      return { k: "assign", pv: t.text, e, pos: t };
    }
    if (t.kind !== "id") return fail(t, "a statement");
    switch (t.text) {
      case "if": {
        next();
        const c = cond();
        const then = body();
        if (is("else")) {
          next();
          return { k: "if", cond: c, then, else: body(), pos: t };
        }
        return { k: "if", cond: c, then, pos: t };
      }
      case "while": {
        next();
        const c = cond();
        return { k: "while", cond: c, body: body(), pos: t };
      }
      case "switch": {
        next();
        const e = cond();
        expect("{");
        const cases: { label: CaseLabel | null; body: Stmt[]; pos: Pos }[] = [];
        while (!is("}")) {
          const c = next();
          let label: CaseLabel | null = null;
          if (c.kind === "id" && c.text === "case") {
            const v = next();
            if (v.kind === "num") label = { k: "num", v: v.num! };
            else if (v.kind === "op" && v.text === "-" && peek().kind === "num") label = { k: "num", v: -next().num! };
            else if (v.kind === "str") label = { k: "str", v: v.text };
            else if (v.kind === "op" && v.text === "/" && peek().kind === "str") label = { k: "re", v: next().text };
            else fail(v, 'a case label (a number, a string or /"regex")');
          } else if (!(c.kind === "id" && c.text === "default")) fail(c, '"case", "default" or "}"');
          expect(":");
          const stmts: Stmt[] = [];
          while (!is("case") && !is("default") && !is("}")) {
            if (peek().kind === "eof") fail(peek(), '"}"');
            const s = stmt();
            if (s) stmts.push(s);
          }
          cases.push({ label, body: stmts, pos: c });
        }
        next();
        return { k: "switch", e, cases, pos: t };
      }
      case "return":
      case "exit": {
        next();
        const e = is(";") ? undefined : expr();
        semi();
        return { k: t.text, e, pos: t };
      }
      case "drop":
      case "break":
        next();
        semi();
        return { k: t.text, pos: t };
    }
    const e = primary();
    if (e.k !== "call" && e.k !== "route") return fail(t, "a statement");
    semi();
    return { k: "expr", e, pos: t };
  };

  // ---- top level ----
  const tree: CfgTree = { globals: [], modules: [], modparams: [], routes: [] };
  const routeName = (): string => {
    expect("[");
    let name = "";
    while (!is("]")) {
      const t = next();
      if (t.kind === "eof") fail(t, '"]"');
      name += t.text;
    }
    next();
    if (name === "") fail(peek(), "a route name");
    return name;
  };
  const stringArg = (what: string): string => {
    const t = next();
    return t.kind === "str" ? t.text : fail(t, what);
  };

  while (peek().kind !== "eof") {
    const t = next();
    if (t.kind === "op" && t.text === ";") continue;
    if (t.kind !== "id") fail(t, "a global setting, loadmodule, modparam or a route block");
    if (ROUTE_KINDS.has(t.text)) {
      const kind = t.text === "route" && !is("[") ? "request_route" : t.text;
      const name = is("[") ? routeName() : kind === "request_route" ? "" : fail(peek(), `"[" and the ${t.text} name`);
      tree.routes.push({ kind, name, body: block(), pos: t });
      continue;
    }
    if (t.text === "loadmodule") {
      const paren = is("(") && (next(), true);
      const n = peek();
      tree.modules.push({ name: stringArg("a module file name string"), pos: n });
      if (paren) expect(")");
      optSemi();
      continue;
    }
    if (t.text === "modparam") {
      expect("(");
      const module = stringArg("the module name string");
      expect(",");
      const name = stringArg("the parameter name string");
      expect(",");
      const v = next();
      let value: string | number;
      if (v.kind === "str") {
        value = v.text;
        while (peek().kind === "str") value += next().text;
      } else if (v.kind === "num") value = v.num!;
      else if (v.kind === "op" && v.text === "-" && peek().kind === "num") value = -next().num!;
      else value = fail(v, "the parameter value (a string or a number)");
      expect(")");
      optSemi();
      tree.modparams.push({ module, name, value, pos: t });
      continue;
    }
    if (t.text === "cfgengine") {
      tree.cfgengine = { name: stringArg("the engine name string"), pos: t };
      optSemi();
      continue;
    }
    if (t.text === "loadpath") {
      tree.globals.push({ name: "loadpath", value: stringArg("a path string"), pos: t });
      optSemi();
      continue;
    }
    // name = value: the value runs to the end of the line (listen=udp:1.2.3.4:5060)
    expect("=", `"=" after the global setting ${t.text}`);
    const first = peek();
    if (first.kind === "eof" || first.line !== t.line) fail(first, `a value for ${t.text}`);
    const parts: Token[] = [];
    while (peek().kind !== "eof" && peek().line === first.line && peek().file === first.file && !is(";")) parts.push(next());
    optSemi();
    let value: string | number;
    if (parts.length === 1 && parts[0].kind === "num") value = parts[0].num!;
    else if (parts.length === 2 && parts[0].text === "-" && parts[1].kind === "num") value = -parts[1].num!;
    else if (parts.length === 1 && parts[0].kind === "id" && TRUE_WORDS.has(parts[0].text.toLowerCase())) value = 1;
    else if (parts.length === 1 && parts[0].kind === "id" && FALSE_WORDS.has(parts[0].text.toLowerCase())) value = 0;
    else value = parts.map((p) => p.text).join("");
    tree.globals.push({ name: t.text, value, pos: t });
  }
  return tree;
}
