// Stage 3, expressions: one function per grammar rule, loosest first, with
// cfg.y's operator precedence. Statements (parse-statement.ts) start here for
// conditions, assignments and function calls.
import { CfgSyntaxError, type Token } from "./lexer.ts";
import type { Arg, Expr } from "./syntax-tree.ts";
import type { TokenCursor } from "./token-cursor.ts";

export const TRUE_WORDS = new Set(["yes", "true", "on", "enable"]);
export const FALSE_WORDS = new Set(["no", "false", "off", "disable"]);

/** The binary operators by precedence level, loosest first (cfg.y). */
const BINARY_LEVELS: string[][] = [
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
/** the word forms of || and && compile as the symbols */
const CANONICAL_OPERATOR: Record<string, string> = { or: "||", and: "&&" };

function percentIsNotAnOperator(t: Token): CfgSyntaxError {
  return new CfgSyntaxError(t, '"%" is not an operator in the cfg language; use "mod" for the remainder');
}

export function parseExpression(c: TokenCursor): Expr {
  return parseBinary(c, 0);
}

/** "(" expression ")": conditions, strlen(), strempty(), grouping. */
export function parseInParentheses(c: TokenCursor): Expr {
  c.expect("(");
  const e = parseExpression(c);
  c.expect(")");
  return e;
}

/** Left-associative operators of one precedence level over the next tighter level. */
function parseBinary(c: TokenCursor, level: number): Expr {
  if (level >= BINARY_LEVELS.length) return parseUnary(c);
  let l = parseBinary(c, level + 1);
  for (;;) {
    const t = c.peek();
    if (t.kind === "op" && t.text === "%") throw percentIsNotAnOperator(t);
    if (!((t.kind === "op" || t.kind === "id") && BINARY_LEVELS[level].includes(t.text))) return l;
    c.next();
    const r = parseBinary(c, level + 1);
    l = { k: "bin", op: CANONICAL_OPERATOR[t.text] ?? t.text, l, r, pos: t };
  }
}

function parseUnary(c: TokenCursor): Expr {
  const t = c.peek();
  if (t.kind === "op" && (t.text === "!" || t.text === "-" || t.text === "~")) {
    c.next();
    return { k: "un", op: t.text, e: parseUnary(c), pos: t };
  }
  if (t.kind === "id" && t.text === "defined") {
    c.next();
    return { k: "un", op: "defined", e: parseUnary(c), pos: t };
  }
  return parsePrimary(c);
}

/** A literal, a variable, a parenthesised expression or cast, or a word: a
 * boolean word, route(), a built-in like strlen(), or a function call. */
export function parsePrimary(c: TokenCursor): Expr {
  const t = c.peek();
  switch (t.kind) {
    case "num":
      c.next();
      return { k: "num", v: t.num!, pos: t };
    case "str":
      c.next();
      return { k: "str", v: c.joinAdjacentStrings(t), pos: t };
    case "pv":
      c.next();
      return { k: "pv", spec: t.text, pos: t };
    case "id":
      return parseWord(c);
  }
  if (t.kind === "op" && t.text === "(") return parseParenthesized(c);
  if (t.kind === "op" && t.text === "%") throw percentIsNotAnOperator(t);
  return c.fail(t, "an expression");
}

/** (int) and (str) cast the unary expression after them; any other "(" groups. */
function parseParenthesized(c: TokenCursor): Expr {
  const t = c.peek();
  const word = c.peek(1);
  if (word.kind === "id" && (word.text === "int" || word.text === "str") && c.is(")", 2)) {
    c.i += 3;
    return { k: "un", op: `(${word.text})`, e: parseUnary(c), pos: t };
  }
  return parseInParentheses(c);
}

function parseWord(c: TokenCursor): Expr {
  const t = c.next();
  if (TRUE_WORDS.has(t.text)) return { k: "num", v: 1, pos: t };
  if (FALSE_WORDS.has(t.text)) return { k: "num", v: 0, pos: t };
  switch (t.text) {
    case "route":
      return { k: "route", target: parseRouteTarget(c), pos: t };
    case "strlen":
    case "strempty":
      return { k: "un", op: t.text, e: parseInParentheses(c), pos: t };
    case "selval":
      return parseSelval(c, t);
  }
  return { k: "call", name: t.text, args: c.is("(") ? parseArgs(c) : [], pos: t };
}

/** selval(condition, if-true, if-false) */
function parseSelval(c: TokenCursor, t: Token): Expr {
  c.expect("(");
  const cond = parseExpression(c);
  c.expect(",");
  const a = parseExpression(c);
  c.expect(",");
  const b = parseExpression(c);
  c.expect(")");
  return { k: "selval", c: cond, a, b, pos: t };
}

/** route(NAME) or route($var): the name is a word, number or string, not an expression. */
function parseRouteTarget(c: TokenCursor): string | Expr {
  c.expect("(");
  const t = c.peek();
  let target: string | Expr;
  if (t.kind === "id" || t.kind === "num" || t.kind === "str") target = (c.next(), t.text);
  else if (t.kind === "pv") target = (c.next(), { k: "pv", spec: t.text, pos: t });
  else return c.fail(t, "a route name");
  c.expect(")");
  return target;
}

/** A function's arguments are literals or variables as written (cfg.y's
 * cmd params), not expressions: each function compiles them by their kind. */
function parseArgs(c: TokenCursor): Arg[] {
  const out: Arg[] = [];
  c.expect("(");
  if (c.is(")")) return (c.next(), out);
  for (;;) {
    out.push(parseArg(c));
    if (c.is(")")) return (c.next(), out);
    c.expect(",", '"," or ")"');
  }
}

function parseArg(c: TokenCursor): Arg {
  const t = c.next();
  if (t.kind === "str" || t.kind === "id" || t.kind === "pv") return { k: t.kind, v: t.text, pos: t };
  if (t.kind === "num") return { k: "num", v: t.text, num: t.num, pos: t };
  if (c.minusBeforeNumber(t)) {
    const n = c.next();
    return { k: "num", v: "-" + n.text, num: -n.num!, pos: t };
  }
  return c.fail(t, "a function argument (string, number or variable)");
}
