// The ERE -> JavaScript RegExp translation mhttpd used before src/ere.ts (a
// backtracking engine: exponential time on nested repetition). Kept as the
// property test's reference for patterns where its reading and glibc's agree,
// and for bench/regex.ts's comparison. Not used by the server.
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
            if (!(name in CLASSES)) throw new Error(`unknown character class [:${name}:]`);
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
export function compileBacktrackingEre(ere: string, icase: boolean): RegExp {
  // "s": in POSIX "." also matches a newline (REG_NEWLINE is not set)
  return new RegExp(ereToJs(ere), icase ? "is" : "s");
}
