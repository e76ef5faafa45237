// How SQLite reads a query's text, as far as sqlops checks it before running it:
// how many statements the text holds and how many parameters the statement takes.
// The three SQLite bindings disagree where this matters: bun:sqlite and node:sqlite
// run the first statement and silently drop the rest, better-sqlite3 refuses the
// text; bun:sqlite and node:sqlite bind NULL to a parameter given no value,
// better-sqlite3 refuses. Checked here once, every runtime answers alike.
//
// This never builds or changes SQL: it only counts. Statements are split as
// sqlite3_complete() splits them (its token classes and state machine, so a
// CREATE TRIGGER body with its inner semicolons is one statement); parameters are
// numbered as SQLite's tokenizer numbers them (`?` is the next number, `?NNN` is
// NNN, a named one `:a` `@a` `$a` takes the next number the first time it is seen).

export interface SqlShape {
  /** statements with content: 0 for a text of blanks, comments and semicolons */
  statements: number;
  /** the largest parameter number: how many values the statement binds */
  params: number;
}

const enum Tk {
  Semi,
  Ws,
  Other,
  Explain,
  Create,
  Temp,
  Trigger,
  End,
}

// sqlite3_complete()'s transitions: TRANS[state][token]; state 1 is "after a
// complete statement", 0 the start, 2.. inside one (5-7 inside a trigger body)
const TRANS: number[][] = [
  [1, 0, 2, 3, 4, 2, 2, 2],
  [1, 1, 2, 3, 4, 2, 2, 2],
  [1, 2, 2, 2, 2, 2, 2, 2],
  [1, 3, 3, 2, 4, 2, 2, 2],
  [1, 4, 2, 2, 2, 4, 5, 2],
  [6, 5, 5, 5, 5, 5, 5, 5],
  [6, 6, 5, 5, 5, 5, 5, 7],
  [1, 7, 5, 5, 5, 5, 5, 5],
];

const KEYWORDS: Record<string, Tk> = { create: Tk.Create, temp: Tk.Temp, temporary: Tk.Temp, trigger: Tk.Trigger, end: Tk.End, explain: Tk.Explain };

/** SQLite's IdChar: letters, digits, _, $ and every non-ASCII character */
function isIdChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c > 0x7f;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;

/** The end of the quoted token opened at `i` (past its closing quote; doubled quotes stay inside). */
function quotedEnd(sql: string, i: number, close: string): number {
  let j = i + 1;
  for (;;) {
    const k = sql.indexOf(close, j);
    if (k < 0) return sql.length;
    if (close !== "]" && sql[k + 1] === close) j = k + 2;
    else return k + 1;
  }
}

/** Numbering of the parameters, as sqlite3's parser assigns it. */
class ParamNumbers {
  max = 0;
  readonly #named = new Map<string, number>();
  positional(text: string): void {
    this.max = text.length > 1 ? Math.max(this.max, Number(text.slice(1))) : this.max + 1;
  }
  named(name: string): void {
    if (!this.#named.has(name)) this.#named.set(name, ++this.max);
  }
}

/** The parameter token at `i` (`?`, `?NNN`, `:name`, `@name`, `$name`), its end; -1 when there is none. */
function paramEnd(sql: string, i: number, params: ParamNumbers): number {
  const c = sql[i];
  let j = i + 1;
  if (c === "?") {
    while (j < sql.length && sql.charCodeAt(j) >= 0x30 && sql.charCodeAt(j) <= 0x39) j++;
    params.positional(sql.slice(i, j));
    return j;
  }
  while (j < sql.length && (isIdChar(sql.charCodeAt(j)) || (c === "$" && sql.startsWith("::", j)))) j += sql.startsWith("::", j) ? 2 : 1;
  if (j === i + 1) return -1;
  params.named(sql.slice(i, j));
  return j;
}

/** The next token from `i`: its class and where it ends. */
function nextToken(sql: string, i: number, params: ParamNumbers): [Tk, number] {
  const c = sql.charCodeAt(i);
  const ch = sql[i];
  if (ch === ";") return [Tk.Semi, i + 1];
  if (isSpace(c)) return [Tk.Ws, i + 1];
  if (ch === "-" && sql[i + 1] === "-") {
    const nl = sql.indexOf("\n", i);
    return [Tk.Ws, nl < 0 ? sql.length : nl + 1];
  }
  if (ch === "/" && sql[i + 1] === "*") {
    const close = sql.indexOf("*/", i + 2);
    return [Tk.Ws, close < 0 ? sql.length : close + 2];
  }
  if (ch === "'" || ch === '"' || ch === "`") return [Tk.Other, quotedEnd(sql, i, ch)];
  if (ch === "[") return [Tk.Other, quotedEnd(sql, i, "]")];
  if (ch === "?" || ch === ":" || ch === "@" || ch === "$") {
    const end = paramEnd(sql, i, params);
    return [Tk.Other, end < 0 ? i + 1 : end];
  }
  if (isIdChar(c) && !(c >= 0x30 && c <= 0x39)) {
    let j = i + 1;
    while (j < sql.length && isIdChar(sql.charCodeAt(j))) j++;
    return [KEYWORDS[sql.slice(i, j).toLowerCase()] ?? Tk.Other, j];
  }
  return [Tk.Other, i + 1];
}

export function sqliteShape(sql: string): SqlShape {
  const params = new ParamNumbers();
  let state = 0;
  let statements = 0;
  for (let i = 0; i < sql.length; ) {
    const [token, end] = nextToken(sql, i, params);
    const next = TRANS[state][token];
    if (next === 1 && state >= 2) statements++;
    state = next;
    i = end;
  }
  if (state >= 2) statements++;
  return { statements, params: params.max };
}
