// Bracket expressions ([...]) as glibc's parse_bracket_exp reads them in the C
// locale: a backslash is a literal, "]" first is a member, [:class:] [.c.] [=c=]
// are bracket syntax, and "-" is a member only first, last or as a range's end.
import { quote } from "../log.ts";
import { ch, CLASSES, complement, cp, icaseClosure, normalize, toUpper, type Ranges } from "./charset.ts";
import { EreError } from "./error.ts";

type Element = { kind: "char"; code: number } | { kind: "class"; ranges: Ranges; shown: string };

/** Where the reader is inside one bracket expression. */
class BracketReader {
  /** the index of the next character */
  j: number;
  /** "at character N", N being the bracket's "[" */
  readonly where: string;

  constructor(
    readonly chars: string[],
    start: number,
    readonly icase: boolean,
  ) {
    this.j = start + 1;
    this.where = `at character ${start + 1}`;
  }

  unmatched(): EreError {
    return new EreError(`unmatched [ ${this.where}`);
  }

  /** REG_ICASE: the pattern's characters are upper-cased as they are read */
  fold(n: number): number {
    return this.icase ? toUpper(n) : n;
  }
}

/** A bracket expression starting at chars[i] === "[": its members as code point
 * ranges (already negated and with REG_ICASE applied) and the index of its closing "]". */
export function parseBracket(chars: string[], i: number, icase: boolean): { ranges: Ranges; end: number } {
  const r = new BracketReader(chars, i, icase);
  let negate = false;
  if (chars[r.j] === "^") {
    negate = true;
    r.j++;
  }
  const members: Ranges = [];
  for (let first = true; ; first = false) {
    if (r.j >= chars.length) throw r.unmatched();
    if (chars[r.j] === "]" && !first) break;
    readMember(r, first, members);
  }
  const set = icase ? icaseClosure(normalize(members)) : normalize(members);
  return { ranges: negate ? complement(set) : set, end: r.j };
}

/** A class, a character, or a range between two characters. */
function readMember(r: BracketReader, first: boolean, members: Ranges): void {
  const { chars } = r;
  const start = readElement(r, first, false);
  if (start.kind === "class") {
    members.push(...start.ranges);
    return;
  }
  if (chars[r.j] === "-" && chars[r.j + 1] !== "]" && r.j + 1 < chars.length) {
    r.j++;
    const endAt = r.j;
    const end = readElement(r, false, true);
    if (end.kind === "class") throw new EreError(`a range in the bracket ${r.where} ends in ${quote(end.shown)}`);
    if (start.code > end.code) {
      throw new EreError(`invalid range ${quote(ch(start.code) + "-" + ch(end.code))} at character ${endAt} in the bracket ${r.where}${r.icase ? " (upper-cased, as REG_ICASE reads it)" : ""}`);
    }
    members.push([start.code, end.code]);
  } else members.push([start.code, start.code]);
}

/** One element: a character, [.c.], [=c=] or [:name:]; r.j moves past it. */
function readElement(r: BracketReader, first: boolean, rangeEnd: boolean): Element {
  const { chars } = r;
  const c = chars[r.j];
  if (c === undefined) throw r.unmatched();
  const kind = chars[r.j + 1];
  if (c === "[" && (kind === ":" || kind === "." || kind === "=")) return readNamedElement(r, kind);
  // "-" is a member first, last, or as the end of a range; elsewhere glibc refuses it
  if (c === "-" && !first && !rangeEnd && chars[r.j + 1] !== "]") {
    if (r.j + 1 >= chars.length) throw r.unmatched();
    throw new EreError(`"-" at character ${r.j + 1} in the bracket ${r.where} is neither first, last nor a range end`);
  }
  r.j++;
  return { kind: "char", code: r.fold(cp(c)) };
}

/** [:name:], [.c.] or [=c=], starting at chars[r.j] === "[". */
function readNamedElement(r: BracketReader, kind: ":" | "." | "="): Element {
  const { chars } = r;
  let k = r.j + 2;
  while (k + 1 < chars.length && !(chars[k] === kind && chars[k + 1] === "]")) k++;
  if (k + 1 >= chars.length) throw r.unmatched();
  const name = chars.slice(r.j + 2, k).join("");
  const shown = `[${kind}${name}${kind}]`;
  r.j = k + 2;
  if (kind === ":") {
    // under REG_ICASE glibc reads [:upper:] and [:lower:] as [:alpha:]
    const cls = r.icase && (name === "upper" || name === "lower") ? CLASSES.alpha : Object.hasOwn(CLASSES, name) ? CLASSES[name] : undefined;
    if (!cls) throw new EreError(`unknown character class ${quote(shown)} in the bracket ${r.where}`);
    return { kind: "class", ranges: cls, shown };
  }
  // the C locale has no multi-character collating elements and each
  // character is its own equivalence class
  const inner = Array.from(name);
  if (inner.length !== 1) throw new EreError(`${quote(shown)} in the bracket ${r.where} is not a single character (the C locale has no others)`);
  if (kind === "=") return { kind: "class", ranges: [[r.fold(cp(name)), r.fold(cp(name))]], shown };
  return { kind: "char", code: r.fold(cp(name)) };
}
