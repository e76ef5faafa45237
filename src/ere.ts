// POSIX extended regular expressions as Kamailio runs them (glibc regcomp with
// REG_EXTENDED, in the C locale: Kamailio never calls setlocale), matched by
// re2js, a pure JavaScript port of RE2 that takes time linear in the text. The
// runtime's own RegExp backtracks: a pattern like ^/api/([a-z0-9]+/?)* held the
// only thread for seconds on a 34-byte path, and cfg patterns can come from the
// request itself.
//
// The ERE is parsed here, not handed to re2js, because the two read the same
// text differently: in POSIX a backslash inside [...] is a literal, "]" first
// in a bracket is a member, [[:alpha:]] [[.x.]] [[=x=]] are bracket syntax, and
// "a**" is valid; RE2 has no \< \> and no back-references. Every member of a
// bracket and every literal is written out as \x{...}, so what RE2 reads is
// exactly the set glibc builds. REG_ICASE is done here too, the way glibc does
// it (pattern and text upper-cased, ASCII only), rather than with RE2's
// Unicode case folding, which would also fold non-ASCII letters and the
// Kelvin sign into k.
import { RE2JS } from "re2js";
import { quote } from "./log.ts";

/** Why an ERE cannot run; the message names the construct and where it is. */
export class EreError extends Error {
  override name = "EreError";
}

export interface EreMatcher {
  /** the ERE as written */
  readonly source: string;
  /** whether the ERE matches somewhere in `text` (regexec without REG_NOTBOL/NOTEOL) */
  test(text: string): boolean;
}

/** RE2's limit on a repetition count (glibc allows 32767). */
const MAX_REPEAT = 1000;
/** Deeper nesting than RE2 accepts; also keeps the parser's stack small. */
const MAX_NESTING = 1000;
const MAX_CODE_POINT = 0x10ffff;

type Ranges = [number, number][];

const cp = (c: string) => c.codePointAt(0)!;
const ch = (n: number) => String.fromCodePoint(n);

// The classes of the C locale (isalpha() etc. over bytes 0..127; nothing above).
const CLASSES: Record<string, Ranges> = {
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  digit: [[0x30, 0x39]],
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  upper: [[0x41, 0x5a]],
  lower: [[0x61, 0x7a]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  print: [[0x20, 0x7e]],
  graph: [[0x21, 0x7e]],
};

const isLower = (n: number) => n >= 0x61 && n <= 0x7a;
const isUpper = (n: number) => n >= 0x41 && n <= 0x5a;
const toUpper = (n: number) => (isLower(n) ? n - 0x20 : n);

function normalize(ranges: Ranges): Ranges {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(ranges: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of normalize(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/** glibc's REG_ICASE: the text is upper-cased before it is compared with a set
 * built from the upper-cased pattern, so a character matches when its upper
 * case is in the set. Lower-case letters in the set can then never match. */
function icaseClosure(set: Ranges): Ranges {
  const out: Ranges = [];
  for (const [lo, hi] of set) {
    // the set minus a-z
    if (lo < 0x61) out.push([lo, Math.min(hi, 0x60)]);
    if (hi > 0x7a) out.push([Math.max(lo, 0x7b), hi]);
    // a lower-case letter whose upper case is in the set
    const a = Math.max(lo, 0x41);
    const z = Math.min(hi, 0x5a);
    if (a <= z) out.push([a + 0x20, z + 0x20]);
  }
  return normalize(out);
}

const hex = (n: number) => `\\x{${n.toString(16)}}`;

/** One RE2 atom matching exactly the code points in `ranges`. */
function setAtom(ranges: Ranges): string {
  const set = normalize(ranges);
  if (set.length === 0) return `[^\\x{0}-\\x{10ffff}]`;
  if (set.length === 1 && set[0][0] === set[0][1]) return literalAtom(set[0][0]);
  return "[" + set.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join("") + "]";
}

function literalAtom(n: number): string {
  return (n >= 0x30 && n <= 0x39) || (n >= 0x41 && n <= 0x5a) || (n >= 0x61 && n <= 0x7a) ? ch(n) : hex(n);
}

/** A pattern character outside a bracket, as glibc compares it. */
function literal(n: number, icase: boolean): string {
  if (!icase || !(isLower(n) || isUpper(n))) return literalAtom(n);
  const upper = toUpper(n);
  return setAtom([[upper, upper], [upper + 0x20, upper + 0x20]]);
}

/** An escaped character such as \d or \Q: itself (glibc: any escape it does
 * not know stands for the character). Under REG_ICASE glibc takes it from the
 * pattern as written but compares it with the upper-cased text, so an escaped
 * lower-case letter matches nothing there. Kept, as Kamailio behaves. */
function escapedLiteral(n: number, icase: boolean): string {
  if (!icase) return literalAtom(n);
  if (isLower(n)) return setAtom([]);
  return literal(n, true);
}

const SPACE: Ranges = CLASSES.space;
/** \< and \> need a look-behind, which re2js runs in linear time when asked to. */
const WORD_START = "(?<!\\w)\\b";
const WORD_END = "(?<=\\w)\\b";

interface Piece {
  re2: string;
  /** an atom a repetition operator may follow (glibc: not an anchor, \b, \<, ...) */
  repeatable: boolean;
  /** already carries a repetition operator: another one needs a group around it */
  repeated: boolean;
}

interface Frame {
  alternatives: string[];
  pieces: Piece[];
  /** where its "(" is, for "unmatched (" */
  open: number;
}


/** The ERE as RE2 syntax; throws an EreError saying what is wrong and where
 * ("at character N", counting from 1). */
export function ereToRe2(ere: string, icase: boolean): { source: string; lookbehind: boolean } {
  const chars = Array.from(ere);
  const at = (i: number) => `at character ${i + 1}`;
  let lookbehind = false;
  const stack: Frame[] = [];
  let frame: Frame = { alternatives: [], pieces: [], open: -1 };
  const push = (re2: string, repeatable: boolean) => frame.pieces.push({ re2, repeatable, repeated: false });

  const repeat = (op: string, i: number, shown: string) => {
    const last = frame.pieces[frame.pieces.length - 1];
    if (!last || !last.repeatable) throw new EreError(`nothing to repeat before ${shown} ${at(i)}`);
    last.re2 = (last.repeated ? `(?:${last.re2})` : last.re2) + op;
    last.repeated = true;
  };

  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    switch (c) {
      case "(":
        if (stack.length >= MAX_NESTING) throw new EreError(`groups nested deeper than ${MAX_NESTING} ${at(i)}`);
        stack.push(frame);
        frame = { alternatives: [], pieces: [], open: i };
        break;
      case ")": {
        // RE_UNMATCHED_RIGHT_PAREN_ORD: a ")" with no "(" is a literal
        if (stack.length === 0) {
          push(literal(cp(c), icase), true);
          break;
        }
        const group = "(?:" + [...frame.alternatives, frame.pieces.map((p) => p.re2).join("")].join("|") + ")";
        frame = stack.pop()!;
        push(group, true);
        break;
      }
      case "|":
        frame.alternatives.push(frame.pieces.map((p) => p.re2).join(""));
        frame.pieces = [];
        break;
      case "*":
      case "+":
      case "?":
        repeat(c, i, c);
        break;
      case "{": {
        const interval = parseInterval(chars, i);
        if (!interval) throw new EreError(`"{" ${at(i)} does not start an interval {n}, {n,}, {,m} or {n,m} (a literal brace is \\{)`);
        const { min, max, end } = interval;
        const shown = chars.slice(i, end + 1).join("");
        if (max !== null && min > max) throw new EreError(`interval ${shown} ${at(i)}: the minimum is above the maximum`);
        const biggest = max ?? min;
        if (biggest > MAX_REPEAT) throw new EreError(`interval ${shown} ${at(i)}: counts above ${MAX_REPEAT} are not supported (RE2's limit)`);
        repeat(max === min ? `{${min}}` : max === null ? `{${min},}` : `{${min},${max}}`, i, shown);
        i = end;
        break;
      }
      case "^":
        push("^", false);
        break;
      case "$":
        push("$", false);
        break;
      case ".":
        push(".", true); // DOTALL: without REG_NEWLINE "." matches a newline too
        break;
      case "[": {
        const { ranges, end } = parseBracket(chars, i, icase);
        push(setAtom(ranges), true);
        i = end;
        break;
      }
      case "\\": {
        const n = chars[++i];
        if (n === undefined) throw new EreError("trailing backslash");
        if (n >= "1" && n <= "9") throw new EreError(`back-reference \\${n} ${at(i - 1)} is not supported (RE2 runs in linear time and has none)`);
        switch (n) {
          case "w":
            push("\\w", true);
            break;
          case "W":
            push("\\W", true);
            break;
          case "s":
            push(setAtom(SPACE), true);
            break;
          case "S":
            push(setAtom(complement(SPACE)), true);
            break;
          case "b":
            push("\\b", false);
            break;
          case "B":
            push("\\B", false);
            break;
          case "<":
            push(WORD_START, false);
            lookbehind = true;
            break;
          case ">":
            push(WORD_END, false);
            lookbehind = true;
            break;
          case "`":
            push("\\A", false);
            break;
          case "'":
            push("\\z", false);
            break;
          default:
            push(escapedLiteral(cp(n), icase), true);
        }
        break;
      }
      default:
        push(literal(cp(c), icase), true);
    }
  }
  if (stack.length > 0) throw new EreError(`unmatched ( ${at(frame.open)}`);
  const source = [...frame.alternatives, frame.pieces.map((p) => p.re2).join("")].join("|");
  return { source, lookbehind };
}

/** {n} {n,} {,m} {n,m} {,} starting at chars[i] === "{", or null when it is not one. */
function parseInterval(chars: string[], i: number): { min: number; max: number | null; end: number } | null {
  let j = i + 1;
  const number = () => {
    let n: number | null = null;
    // counts are capped while read: only "above the limit" matters
    for (; j < chars.length && chars[j] >= "0" && chars[j] <= "9"; j++) n = Math.min((n ?? 0) * 10 + Number(chars[j]), 100000);
    return n;
  };
  const min = number();
  if (chars[j] === "}") return min === null ? null : { min, max: min, end: j };
  if (chars[j] !== ",") return null;
  j++;
  const max = number();
  if (chars[j] !== "}") return null;
  return { min: min ?? 0, max, end: j };
}

/** A bracket expression starting at chars[i] === "[", as glibc's parse_bracket_exp
 * reads it: its members as code point ranges (already negated and with REG_ICASE
 * applied) and the index of its closing "]". */
function parseBracket(chars: string[], i: number, icase: boolean): { ranges: Ranges; end: number } {
  const where = `at character ${i + 1}`;
  const unmatched = () => new EreError(`unmatched [ ${where}`);
  const fold = (n: number) => (icase ? toUpper(n) : n);
  let j = i + 1;
  let negate = false;
  if (chars[j] === "^") {
    negate = true;
    j++;
  }
  const members: Ranges = [];

  /** One element: a character, [.c.], [=c=] or [:name:]; j moves past it. */
  const element = (first: boolean, rangeEnd: boolean): { kind: "char"; code: number } | { kind: "class"; ranges: Ranges; shown: string } => {
    const c = chars[j];
    if (c === undefined) throw unmatched();
    const kind = chars[j + 1];
    if (c === "[" && (kind === ":" || kind === "." || kind === "=")) {
      let k = j + 2;
      while (k + 1 < chars.length && !(chars[k] === kind && chars[k + 1] === "]")) k++;
      if (k + 1 >= chars.length) throw unmatched();
      const name = chars.slice(j + 2, k).join("");
      const shown = `[${kind}${name}${kind}]`;
      j = k + 2;
      if (kind === ":") {
        // under REG_ICASE glibc reads [:upper:] and [:lower:] as [:alpha:]
        const cls = icase && (name === "upper" || name === "lower") ? CLASSES.alpha : Object.hasOwn(CLASSES, name) ? CLASSES[name] : undefined;
        if (!cls) throw new EreError(`unknown character class ${quote(shown)} in the bracket ${where}`);
        return { kind: "class", ranges: cls, shown };
      }
      // the C locale has no multi-character collating elements and each
      // character is its own equivalence class
      const inner = Array.from(name);
      if (inner.length !== 1) throw new EreError(`${quote(shown)} in the bracket ${where} is not a single character (the C locale has no others)`);
      if (kind === "=") return { kind: "class", ranges: [[fold(cp(name)), fold(cp(name))]], shown };
      return { kind: "char", code: fold(cp(name)) };
    }
    // "-" is a member first, last, or as the end of a range; elsewhere glibc refuses it
    if (c === "-" && !first && !rangeEnd && chars[j + 1] !== "]") {
      if (j + 1 >= chars.length) throw unmatched();
      throw new EreError(`"-" at character ${j + 1} in the bracket ${where} is neither first, last nor a range end`);
    }
    j++;
    return { kind: "char", code: fold(cp(c)) };
  };

  for (let first = true; ; first = false) {
    if (j >= chars.length) throw unmatched();
    if (chars[j] === "]" && !first) break;
    const start = element(first, false);
    if (start.kind === "class") {
      members.push(...start.ranges);
      continue;
    }
    if (chars[j] === "-" && chars[j + 1] !== "]" && j + 1 < chars.length) {
      j++;
      const endAt = j;
      const end = element(false, true);
      if (end.kind === "class") throw new EreError(`a range in the bracket ${where} ends in ${quote(end.shown)}`);
      if (start.code > end.code) {
        throw new EreError(`invalid range ${quote(ch(start.code) + "-" + ch(end.code))} at character ${endAt} in the bracket ${where}${icase ? " (upper-cased, as REG_ICASE reads it)" : ""}`);
      }
      members.push([start.code, end.code]);
    } else members.push([start.code, start.code]);
  }
  const set = icase ? icaseClosure(normalize(members)) : normalize(members);
  return { ranges: negate ? complement(set) : set, end: j };
}

/** The budget lives in fields that re2js's typings declare but that are its
 * internals: if they change, the pattern keeps the default budget. */
function capDfaMemory(re: RE2JS, bytes: number): void {
  const dfa = (re.re2Input as { dfa?: { memBudget?: unknown; stateBudget?: unknown } } | undefined)?.dfa;
  if (dfa && typeof dfa.memBudget === "number" && typeof dfa.stateBudget === "number") {
    dfa.memBudget = bytes;
    dfa.stateBudget = bytes;
  }
}

export interface EreLimits {
  /** the lazy DFA's memory budget (re2js's default: 8 MiB) */
  dfaBytes?: number;
  /** most instructions of the compiled program: time per character of text and memory grow with it */
  maxProgramSize?: number;
}

/** Compile an ERE; `icase` as REG_ICASE. Throws an EreError saying why it cannot run. */
export function compileEre(ere: string, icase: boolean, limits: EreLimits = {}): EreMatcher {
  const { source, lookbehind } = ereToRe2(ere, icase);
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, RE2JS.DOTALL | (lookbehind ? RE2JS.LOOKBEHINDS : 0));
  } catch (err) {
    // what RE2 refuses beyond what the parser above checks, e.g. nested counts
    // whose product is above 1000; the message quotes the translated pattern
    const why = String((err as Error).message ?? err).replace(/^error parsing regexp: /, "");
    throw new EreError(`RE2 cannot run it: ${why}`);
  }
  if (limits.maxProgramSize !== undefined && re.programSize() > limits.maxProgramSize) {
    throw new EreError(`it compiles to ${re.programSize()} instructions, more than the ${limits.maxProgramSize} allowed for a pattern built at run time`);
  }
  if (limits.dfaBytes !== undefined) capDfaMemory(re, limits.dfaBytes);
  return { source: ere, test: (text) => re.test(text) };
}

/** What a pattern built at run time may cost. Its text may come from the
 * request, so each cached pattern is bounded; re2js's own default DFA budget
 * (8 MiB, about 5 MB of heap once full) would let 64 of them hold 300 MB.
 * Past the DFA budget re2js starts the DFA afresh or runs its NFA: slower,
 * still linear. Measured (test text 4 KB, patterns built to be costly): 64
 * patterns at these limits hold about 25 MB. */
export const RUN_TIME_PATTERN_LIMITS = {
  /** longer ones are refused before parsing (and not cached: the key would be the text) */
  maxLength: 4096,
  maxProgramSize: 2000,
  dfaBytes: 256 * 1024,
  capacity: 64,
} as const;

/** Patterns built while a request runs (cfg `=~` with a variable on the right),
 * compiled once per distinct text and kept in a cache of at most `capacity`
 * (the oldest goes first); a pattern that cannot run is kept too, with its error. */
export class EreCache {
  private readonly entries = new Map<string, EreMatcher | EreError>();

  constructor(
    private readonly icase: boolean,
    readonly capacity: number = RUN_TIME_PATTERN_LIMITS.capacity,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(ere: string): EreMatcher | EreError {
    const { maxLength, maxProgramSize, dfaBytes } = RUN_TIME_PATTERN_LIMITS;
    if (ere.length > maxLength) return new EreError(`it is ${ere.length} characters long, more than the ${maxLength} allowed for a pattern built at run time`);
    let entry = this.entries.get(ere);
    if (entry === undefined) {
      try {
        entry = compileEre(ere, this.icase, { dfaBytes, maxProgramSize });
      } catch (err) {
        entry = err instanceof EreError ? err : new EreError(String((err as Error)?.message ?? err));
      }
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(ere, entry);
    }
    return entry;
  }
}
