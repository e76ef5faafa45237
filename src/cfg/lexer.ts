// Stage 1 of the cfg language: text -> tokens, as Kamailio's cfg.lex does.
// Comments are dropped here (`#`, `//`, nested `/* */`); a `#!` (or `!!`) line is
// one DIRECTIVE token for the preprocessor. Every token keeps file:line:col so
// any later stage can name the place of an error.

export type TokKind = "id" | "num" | "str" | "pv" | "op" | "directive" | "eof";

export interface Pos {
  file: string;
  line: number;
  col: number;
}

export interface Token extends Pos {
  kind: TokKind;
  /** id name, operator text, pv spec, directive text, or the string's value */
  text: string;
  /** the number's value */
  num?: number;
  /** the string was written with single quotes (no escapes) */
  sq?: boolean;
}

export class CfgSyntaxError extends Error {
  constructor(
    readonly pos: Pos,
    msg: string,
  ) {
    super(pos.line > 0 ? `${pos.file}:${pos.line}:${pos.col}: ${msg}` : `${pos.file}: ${msg}`);
  }
}

const OPS = ["==", "!=", "=~", "<=", ">=", "&&", "||", "<<", ">>", "+=", "=", "<", ">", "!", "~", "+", "-", "*", "/", "%", "&", "|", "^", "(", ")", "{", "}", "[", "]", ";", ",", ":", "."];
const ID_START = /[A-Za-z_]/;
const ID_CHAR = /[A-Za-z0-9_]/;

/** Escapes of a double-quoted string; any other backslash is kept (cfg.lex). */
function unescape(s: string, i: number, out: string[]): number {
  const c = s[i + 1];
  switch (c) {
    case "n": out.push("\n"); return i + 2;
    case "r": out.push("\r"); return i + 2;
    case "t": out.push("\t"); return i + 2;
    case "a": out.push("\x07"); return i + 2;
    case '"': out.push('"'); return i + 2;
    case "\\": out.push("\\"); return i + 2;
    case "\n": return i + 2; // backslash-newline is eaten
    case "x": {
      const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4));
      if (m) {
        out.push(String.fromCharCode(parseInt(m[0], 16)));
        return i + 2 + m[0].length;
      }
      break;
    }
    default: {
      const m = /^[0-7]{2,3}/.exec(s.slice(i + 1, i + 4));
      if (m) {
        out.push(String.fromCharCode(parseInt(m[0], 8) & 0xff));
        return i + 1 + m[0].length;
      }
    }
  }
  out.push("\\");
  return i + 1;
}

/** The end (exclusive) of a balanced (...) starting at s[i] === "(". */
function balanced(s: string, i: number, open: string, close: string): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    if (s[j] === open) depth++;
    else if (s[j] === close && --depth === 0) return j + 1;
    else if (s[j] === "\n") return -1;
  }
  return -1;
}

/** Length of a pseudo-variable spec at s[i] === "$": $name, $name(inner), $(...), $$, $? */
export function pvLength(s: string, i: number): number {
  const n = s[i + 1];
  if (n === "$" || n === "?") return 2;
  if (n === "(") {
    const e = balanced(s, i + 1, "(", ")");
    return e < 0 ? -1 : e - i;
  }
  if (n === undefined || !ID_START.test(n)) return -1;
  let j = i + 2;
  while (j < s.length && ID_CHAR.test(s[j])) j++;
  if (s[j] === "(") {
    const e = balanced(s, j, "(", ")");
    if (e < 0) return -1;
    j = e;
  }
  return j - i;
}

const DIGIT = /[0-9]/;

/** Where the lexer is in the text, and the tokens so far. Each token kind below
 * is read by its own function, which advances `at` past it. */
class Scanner {
  readonly tokens: Token[] = [];
  at = 0;
  line: number;
  /** the offset of the current line's first character: columns count from it */
  lineStart = 0;

  constructor(
    readonly src: string,
    readonly file: string,
    startLine: number,
  ) {
    this.line = startLine;
  }

  pos(at: number): Pos {
    return { file: this.file, line: this.line, col: at - this.lineStart + 1 };
  }

  fail(at: number, msg: string): never {
    throw new CfgSyntaxError(this.pos(at), msg);
  }

  /** Count the newlines inside a token that spans lines (strings, comments). */
  passNewlines(from: number, to: number): void {
    for (let k = from; k < to; k++) if (this.src[k] === "\n") (this.line++, (this.lineStart = k + 1));
  }
}

export function lex(src: string, file: string, startLine = 1): Token[] {
  const s = new Scanner(src, file, startLine);
  while (s.at < src.length) scanNext(s);
  s.tokens.push({ kind: "eof", text: "end of file", ...s.pos(s.at) });
  return s.tokens;
}

/** One token, or the blank or comment before one. The order of the tests is
 * cfg.lex's: "#!" is a directive before "#" is a comment. */
function scanNext(s: Scanner): void {
  const { src, at } = s;
  const c = src[at];
  if (c === "\n") {
    s.line++;
    s.lineStart = ++s.at;
    return;
  }
  if (c === " " || c === "\t" || c === "\r") {
    s.at++;
    return;
  }
  if ((c === "#" && src[at + 1] === "!") || (c === "!" && src[at + 1] === "!" && at === s.lineStart)) return scanDirective(s);
  if (c === "#" || (c === "/" && src[at + 1] === "/")) return skipLineComment(s);
  if (c === "/" && src[at + 1] === "*") return skipBlockComment(s);
  if (c === '"') return scanDoubleQuoted(s);
  if (c === "'") return scanSingleQuoted(s);
  if (c === "$") return scanPv(s);
  if (DIGIT.test(c)) return scanNumber(s);
  if (ID_START.test(c)) return scanWord(s);
  scanOperator(s);
}

/** A directive runs to the end of the line; a trailing backslash continues it. */
function scanDirective(s: Scanner): void {
  const { src } = s;
  const p = s.pos(s.at);
  let j = s.at + 2;
  let text = "";
  for (;;) {
    let e = src.indexOf("\n", j);
    if (e < 0) e = src.length;
    const part = src.slice(j, e).replace(/\r$/, "");
    if (part.endsWith("\\") && e < src.length) {
      text += part.slice(0, -1) + "\n";
      j = e + 1;
      s.line++;
      s.lineStart = j;
      continue;
    }
    text += part;
    s.at = e;
    break;
  }
  s.tokens.push({ kind: "directive", text, ...p });
}

function skipLineComment(s: Scanner): void {
  while (s.at < s.src.length && s.src[s.at] !== "\n") s.at++;
}

/** Block comments nest, unlike C's. */
function skipBlockComment(s: Scanner): void {
  const { src } = s;
  const start = s.at;
  let i = start;
  let depth = 0;
  while (i < src.length) {
    if (src[i] === "/" && src[i + 1] === "*") (depth++, (i += 2));
    else if (src[i] === "*" && src[i + 1] === "/") {
      i += 2;
      if (--depth === 0) break;
    } else i++;
  }
  if (depth > 0) s.fail(start, "unterminated /* comment");
  s.passNewlines(start, i);
  s.at = i;
}

function scanDoubleQuoted(s: Scanner): void {
  const { src, at } = s;
  const p = s.pos(at);
  const out: string[] = [];
  let j = at + 1;
  while (j < src.length && src[j] !== '"') {
    if (src[j] === "\\") j = unescape(src, j, out);
    else out.push(src[j++]);
  }
  if (j >= src.length) s.fail(at, 'unterminated string: expected a closing "');
  s.passNewlines(at, j);
  s.at = j + 1;
  s.tokens.push({ kind: "str", text: out.join(""), ...p });
}

/** '...' has no escapes (handy for JSON). */
function scanSingleQuoted(s: Scanner): void {
  const { src, at } = s;
  const p = s.pos(at);
  const j = src.indexOf("'", at + 1);
  if (j < 0) s.fail(at, "unterminated string: expected a closing '");
  const text = src.slice(at + 1, j);
  s.passNewlines(at, j);
  s.at = j + 1;
  s.tokens.push({ kind: "str", text, sq: true, ...p });
}

function scanPv(s: Scanner): void {
  const { src, at } = s;
  const p = s.pos(at);
  const n = pvLength(src, at);
  if (n < 0) s.fail(at, "invalid pseudo-variable: expected $name, $name(...) or $(...)");
  s.tokens.push({ kind: "pv", text: src.slice(at, at + n), ...p });
  s.at += n;
}

/** Decimal, 0x hex, leading-0 octal and 101b binary (cfg.lex). */
function scanNumber(s: Scanner): void {
  const { src, at } = s;
  const p = s.pos(at);
  const t = /^(0x[0-9a-fA-F]+|[01]+b|[0-9]+)/.exec(src.slice(at, at + 64))![0];
  if (ID_CHAR.test(src[at + t.length] ?? "") && !/^[01]+b$/.test(t)) {
    // e.g. 5060abc: lex as an identifier-like word, the parser will complain
    let j = at + t.length;
    while (j < src.length && ID_CHAR.test(src[j])) j++;
    s.tokens.push({ kind: "id", text: src.slice(at, j), ...p });
    s.at = j;
    return;
  }
  const num = t.startsWith("0x") ? parseInt(t, 16) : t.endsWith("b") ? parseInt(t.slice(0, -1), 2) : t.length > 1 && t[0] === "0" ? parseInt(t, 8) : parseInt(t, 10);
  s.tokens.push({ kind: "num", text: t, num, ...p });
  s.at += t.length;
}

function scanWord(s: Scanner): void {
  const { src, at } = s;
  let j = at + 1;
  while (j < src.length && ID_CHAR.test(src[j])) j++;
  s.tokens.push({ kind: "id", text: src.slice(at, j), ...s.pos(at) });
  s.at = j;
}

/** The longest operator first: OPS lists two-character ones before their prefixes. */
function scanOperator(s: Scanner): void {
  const { src, at } = s;
  const op = OPS.find((o) => src.startsWith(o, at));
  if (!op) s.fail(at, `unexpected character ${JSON.stringify(src[at])}`);
  s.tokens.push({ kind: "op", text: op, ...s.pos(at) });
  s.at += op.length;
}

export function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of file";
    case "str":
      return `string ${JSON.stringify(t.text)}`;
    case "pv":
      return `variable ${t.text}`;
    case "num":
      return `number ${t.text}`;
    default:
      return `"${t.text}"`;
  }
}
