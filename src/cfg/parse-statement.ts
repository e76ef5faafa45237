// Stage 3, statements: one function per grammar rule of a route block's body
// (cfg.y's actions). Expressions come from parse-expression.ts.
import { CfgSyntaxError } from "./lexer.ts";
import { parseExpression, parseInParentheses, parsePrimary } from "./parse-expression.ts";
import type { CaseLabel, Stmt, SwitchCase } from "./syntax-tree.ts";
import type { TokenCursor } from "./token-cursor.ts";

/** "{" statements "}" */
export function parseBlock(c: TokenCursor): Stmt[] {
  c.expect("{");
  const out: Stmt[] = [];
  while (!c.is("}")) {
    if (c.atEnd()) c.fail(c.peek(), '"}"');
    const s = parseStatement(c);
    if (s) out.push(s);
  }
  c.next();
  return out;
}

/** The body of if, else and while: a block or a single statement. */
function parseBody(c: TokenCursor): Stmt[] {
  if (c.is("{")) return parseBlock(c);
  const s = parseStatement(c);
  return s ? [s] : [];
}

/** One statement, or null for an empty one (";"). */
function parseStatement(c: TokenCursor): Stmt | null {
  const t = c.peek();
  if (t.kind === "op" && t.text === ";") return (c.next(), null);
  // a bare block runs as if it were if (1) { ... }
  if (t.kind === "op" && t.text === "{") return { k: "if", cond: { k: "num", v: 1, pos: t }, then: parseBlock(c), pos: t };
  if (t.kind === "pv") return parseAssignment(c);
  if (t.kind !== "id") return c.fail(t, "a statement");
  switch (t.text) {
    case "if":
      return parseIf(c);
    case "while":
      return parseWhile(c);
    case "switch":
      return parseSwitch(c);
    case "return":
    case "exit":
      return parseReturnOrExit(c, t.text);
    case "drop":
    case "break":
      c.next();
      c.expectSemicolon();
      return { k: t.text, pos: t };
  }
  return parseActionStatement(c);
}

/** $var = expression; */
function parseAssignment(c: TokenCursor): Stmt {
  const t = c.next();
  if (c.is("+=")) throw new CfgSyntaxError(c.peek(), '"+=" is not supported by the cfg language; write $x = $x + value');
  c.expect("=", '"=" (an assignment)');
  const e = parseExpression(c);
  c.expectSemicolon();
  return { k: "assign", pv: t.text, e, pos: t };
}

function parseIf(c: TokenCursor): Stmt {
  const t = c.next();
  const cond = parseInParentheses(c);
  const then = parseBody(c);
  if (c.is("else")) {
    c.next();
    return { k: "if", cond, then, else: parseBody(c), pos: t };
  }
  return { k: "if", cond, then, pos: t };
}

function parseWhile(c: TokenCursor): Stmt {
  const t = c.next();
  const cond = parseInParentheses(c);
  return { k: "while", cond, body: parseBody(c), pos: t };
}

/** switch (expression) { case LABEL: ... default: ... } */
function parseSwitch(c: TokenCursor): Stmt {
  const t = c.next();
  const e = parseInParentheses(c);
  c.expect("{");
  const cases: SwitchCase[] = [];
  while (!c.is("}")) cases.push(parseCase(c));
  c.next();
  return { k: "switch", e, cases, pos: t };
}

/** A case's statements run to the next case, default or "}". */
function parseCase(c: TokenCursor): SwitchCase {
  const start = c.next();
  let label: CaseLabel | null = null;
  if (start.kind === "id" && start.text === "case") label = parseCaseLabel(c);
  else if (!(start.kind === "id" && start.text === "default")) c.fail(start, '"case", "default" or "}"');
  c.expect(":");
  const body: Stmt[] = [];
  while (!c.is("case") && !c.is("default") && !c.is("}")) {
    if (c.atEnd()) c.fail(c.peek(), '"}"');
    const s = parseStatement(c);
    if (s) body.push(s);
  }
  return { label, body, pos: start };
}

/** A number, a string, or /"regex" (cfg.y's switch cases are constants). */
function parseCaseLabel(c: TokenCursor): CaseLabel {
  const v = c.next();
  if (v.kind === "num") return { k: "num", v: v.num! };
  if (c.minusBeforeNumber(v)) return { k: "num", v: -c.next().num! };
  if (v.kind === "str") return { k: "str", v: v.text };
  if (v.kind === "op" && v.text === "/" && c.peek().kind === "str") return { k: "re", v: c.next().text };
  return c.fail(v, 'a case label (a number, a string or /"regex")');
}

/** return [expression]; and exit [expression]; */
function parseReturnOrExit(c: TokenCursor, keyword: "return" | "exit"): Stmt {
  const t = c.next();
  const e = c.is(";") ? undefined : parseExpression(c);
  c.expectSemicolon();
  return { k: keyword, e, pos: t };
}

/** A function call or route() as a statement; any other expression is refused. */
function parseActionStatement(c: TokenCursor): Stmt {
  const t = c.peek();
  const e = parsePrimary(c);
  if (e.k !== "call" && e.k !== "route") return c.fail(t, "a statement");
  c.expectSemicolon();
  return { k: "expr", e, pos: t };
}
