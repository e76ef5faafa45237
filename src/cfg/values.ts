// Values of the cfg language and Kamailio's conversions between them (rvalue.c),
// plus POSIX extended regular expressions translated to JavaScript RegExp.
import type { PvValue } from "../pv.ts";

/** int, string or null (an undefined / null pseudo-variable) */
export type Value = PvValue;

export const NULL_TEXT = "<null>";

/** String -> int as Kamailio converts: "" is 0, decimal and 0x are parsed, anything else is 0. */
export function toInt(v: Value): number {
  if (typeof v === "number") return v;
  if (v === null || v === "") return 0;
  const s = v.trim();
  if (/^[+-]?\d+$/.test(s)) return Number(s) | 0;
  if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s, 16) | 0;
  return 0;
}

/** Whether the string is an integer as str2sint takes it (for is_int, s.int). */
export function isIntText(s: string): boolean {
  return /^[+-]?\d+$/.test(s);
}

export function toStr(v: Value | undefined): string {
  return typeof v === "string" ? v : v == null ? "" : String(v);
}

/** How a value prints in a formatted string: null is "<null>". */
export function printValue(v: Value): string {
  return typeof v === "string" ? v : v === null ? NULL_TEXT : String(v);
}

const utf8 = new TextEncoder();

/** Length in bytes, as Kamailio's str.len. */
export function byteLength(s: string): number {
  // ASCII fast path: no encoding needed
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.encode(s).length;
  return s.length;
}

const CLASSES: Record<string, string> = {
  alpha: "a-zA-Z",
  digit: "0-9",
  alnum: "a-zA-Z0-9",
  upper: "A-Z",
  lower: "a-z",
  space: " \\t\\n\\r\\f\\v",
  blank: " \\t",
  punct: "!-\\/:-@\\[-`{-~",
  xdigit: "0-9A-Fa-f",
  cntrl: "\\x00-\\x1f\\x7f",
  print: "\\x20-\\x7e",
  graph: "\\x21-\\x7e",
  word: "\\w",
};

const escapeChar = (c: string) => (/[\\^$.*+?()[\]{}|\/-]/.test(c) ? "\\" + c : c);

/** POSIX ERE (glibc regcomp, REG_EXTENDED) -> JavaScript RegExp source.
 * Inside brackets a backslash is literal and [:class:] names a class; outside,
 * \w \W \s \S \b \B and back-references keep their meaning, \< \> are word edges,
 * and any other escaped character stands for itself (so \d is "d", as in glibc). */
export function ereToJs(ere: string): string {
  let out = "";
  for (let i = 0; i < ere.length; i++) {
    const c = ere[i];
    if (c === "\\") {
      const n = ere[++i];
      if (n === undefined) throw new Error("trailing backslash");
      if ("wWsSbB".includes(n) || /[1-9]/.test(n)) out += "\\" + n;
      else if (n === "<") out += "\\b(?=\\w)";
      else if (n === ">") out += "\\b(?<=\\w)";
      else if (n === "`") out += "^";
      else if (n === "'") out += "$";
      else out += escapeChar(n);
      continue;
    }
    if (c === "[") {
      let j = i + 1;
      let cls = "[";
      if (ere[j] === "^") (cls += "^"), j++;
      if (ere[j] === "]") (cls += "\\]"), j++;
      let closed = false;
      for (; j < ere.length; j++) {
        const d = ere[j];
        if (d === "]") {
          closed = true;
          break;
        }
        if (d === "[" && (ere[j + 1] === ":" || ere[j + 1] === "." || ere[j + 1] === "=")) {
          const kind = ere[j + 1];
          const end = ere.indexOf(kind + "]", j + 2);
          if (end < 0) throw new Error(`unterminated [${kind} in bracket expression`);
          const name = ere.slice(j + 2, end);
          if (kind === ":") {
            if (!Object.hasOwn(CLASSES, name)) throw new Error(`unknown character class [:${name}:]`);
            cls += CLASSES[name];
          } else cls += [...name].map(escapeChar).join("");
          j = end + 1;
          continue;
        }
        if (d === "\\" || d === "[" || d === "/") cls += "\\" + d;
        else cls += d;
      }
      if (!closed) throw new Error("unmatched [");
      out += cls + "]";
      i = j;
      continue;
    }
    if (c === "/") out += "\\/";
    else if (c === "{" && !/^\{\d+(,\d*)?\}/.test(ere.slice(i))) out += "\\{";
    else if (c === "}" && !/\{\d+(,\d*)?$/.test(ere.slice(0, i))) out += "\\}";
    else out += c;
  }
  return out;
}

/** Compile an ERE; `icase` as REG_ICASE. Throws an Error saying why it is bad. */
export function compileEre(ere: string, icase: boolean): RegExp {
  // "s": in POSIX "." also matches a newline (REG_NEWLINE is not set)
  return new RegExp(ereToJs(ere), icase ? "is" : "s");
}
