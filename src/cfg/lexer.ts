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

export function lex(src: string, file: string, startLine = 1): Token[] {
  const toks: Token[] = [];
  let i = 0;
  let line = startLine;
  let lineStart = 0;
  const pos = (at: number): Pos => ({ file, line, col: at - lineStart + 1 });
  const err = (at: number, msg: string): never => {
    throw new CfgSyntaxError(pos(at), msg);
  };
  const newlines = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (src[k] === "\n") (line++, (lineStart = k + 1));
  };
  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      line++;
      lineStart = ++i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if ((c === "#" && src[i + 1] === "!") || (c === "!" && src[i + 1] === "!" && i === lineStart)) {
      // a directive runs to the end of the line; a trailing backslash continues it
      let j = i + 2;
      let text = "";
      const p = pos(i);
      for (;;) {
        let e = src.indexOf("\n", j);
        if (e < 0) e = src.length;
        const part = src.slice(j, e).replace(/\r$/, "");
        if (part.endsWith("\\") && e < src.length) {
          text += part.slice(0, -1) + "\n";
          j = e + 1;
          line++;
          lineStart = j;
          continue;
        }
        text += part;
        i = e;
        break;
      }
      toks.push({ kind: "directive", text, ...p });
      continue;
    }
    if (c === "#" || (c === "/" && src[i + 1] === "/")) {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const start = i;
      let depth = 0;
      while (i < src.length) {
        if (src[i] === "/" && src[i + 1] === "*") (depth++, (i += 2));
        else if (src[i] === "*" && src[i + 1] === "/") {
          i += 2;
          if (--depth === 0) break;
        } else i++;
      }
      if (depth > 0) err(start, "unterminated /* comment");
      newlines(start, i);
      continue;
    }
    const p = pos(i);
    if (c === '"') {
      const out: string[] = [];
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === "\\") j = unescape(src, j, out);
        else out.push(src[j++]);
      }
      if (j >= src.length) err(i, "unterminated string: expected a closing \"");
      newlines(i, j);
      i = j + 1;
      toks.push({ kind: "str", text: out.join(""), ...p });
      continue;
    }
    if (c === "'") {
      const j = src.indexOf("'", i + 1);
      if (j < 0) err(i, "unterminated string: expected a closing '");
      const text = src.slice(i + 1, j);
      newlines(i, j);
      i = j + 1;
      toks.push({ kind: "str", text, sq: true, ...p });
      continue;
    }
    if (c === "$") {
      const n = pvLength(src, i);
      if (n < 0) err(i, "invalid pseudo-variable: expected $name, $name(...) or $(...)");
      toks.push({ kind: "pv", text: src.slice(i, i + n), ...p });
      i += n;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|[01]+b|[0-9]+)/.exec(src.slice(i, i + 64))!;
      let t = m[0];
      if (ID_CHAR.test(src[i + t.length] ?? "") && !/^[01]+b$/.test(t)) {
        // e.g. 5060abc: lex as an identifier-like word, the parser will complain
        let j = i + t.length;
        while (j < src.length && ID_CHAR.test(src[j])) j++;
        t = src.slice(i, j);
        toks.push({ kind: "id", text: t, ...p });
        i = j;
        continue;
      }
      const num = t.startsWith("0x") ? parseInt(t, 16) : t.endsWith("b") ? parseInt(t.slice(0, -1), 2) : t.length > 1 && t[0] === "0" ? parseInt(t, 8) : parseInt(t, 10);
      toks.push({ kind: "num", text: t, num, ...p });
      i += t.length;
      continue;
    }
    if (ID_START.test(c)) {
      let j = i + 1;
      while (j < src.length && ID_CHAR.test(src[j])) j++;
      toks.push({ kind: "id", text: src.slice(i, j), ...p });
      i = j;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) err(i, `unexpected character ${JSON.stringify(c)}`);
    toks.push({ kind: "op", text: op!, ...p });
    i += op!.length;
  }
  toks.push({ kind: "eof", text: "end of file", ...pos(i) });
  return toks;
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
