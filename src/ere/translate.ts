// POSIX ERE -> RE2 syntax, read the way glibc's regcomp reads it with
// REG_EXTENDED: groups and alternation, repetition and intervals, anchors, the
// GNU escapes, and bracket expressions (bracket.ts); every literal is written
// out as a code point (charset.ts) so RE2's own syntax never applies.
import { parseBracket } from "./bracket.ts";
import { complement, cp, escapedLiteral, literal, setAtom, CLASSES } from "./charset.ts";
import { EreError } from "./error.ts";

/** RE2's limit on a repetition count (glibc allows 32767). */
const MAX_REPEAT = 1000;
/** Deeper nesting than RE2 accepts; also keeps the parser's stack small. */
const MAX_NESTING = 1000;

const SPACE = CLASSES.space;
/** \< and \> need a look-behind, which re2js runs in linear time when asked to. */
const WORD_START = "(?<!\\w)\\b";
const WORD_END = "(?<=\\w)\\b";

/** The escapes glibc knows outside a bracket (GNU extensions); any other escaped character is itself. */
const ESCAPES = new Map<string, { re2: string; repeatable: boolean; lookbehind?: boolean }>([
  ["w", { re2: "\\w", repeatable: true }],
  ["W", { re2: "\\W", repeatable: true }],
  ["s", { re2: setAtom(SPACE), repeatable: true }],
  ["S", { re2: setAtom(complement(SPACE)), repeatable: true }],
  ["b", { re2: "\\b", repeatable: false }],
  ["B", { re2: "\\B", repeatable: false }],
  ["<", { re2: WORD_START, repeatable: false, lookbehind: true }],
  [">", { re2: WORD_END, repeatable: false, lookbehind: true }],
  ["`", { re2: "\\A", repeatable: false }],
  ["'", { re2: "\\z", repeatable: false }],
]);

interface Piece {
  re2: string;
  /** an atom a repetition operator may follow (glibc: not an anchor, \b, \<, ...) */
  repeatable: boolean;
  /** already carries a repetition operator: another one needs a group around it */
  repeated: boolean;
}

/** A group being read: its finished alternatives and the pieces of the current one. */
interface Frame {
  alternatives: string[];
  pieces: Piece[];
  /** where its "(" is, for "unmatched (" */
  open: number;
}

const characterAt = (i: number) => `at character ${i + 1}`;
const joinAlternatives = (f: Frame) => [...f.alternatives, f.pieces.map((p) => p.re2).join("")].join("|");

/** The ERE as RE2 syntax; throws an EreError saying what is wrong and where
 * ("at character N", counting from 1). */
export function ereToRe2(ere: string, icase: boolean): { source: string; lookbehind: boolean } {
  return new Translator(Array.from(ere), icase).run();
}

class Translator {
  private lookbehind = false;
  /** the enclosing groups of `frame` */
  private readonly stack: Frame[] = [];
  private frame: Frame = { alternatives: [], pieces: [], open: -1 };

  constructor(
    private readonly chars: string[],
    private readonly icase: boolean,
  ) {}

  run(): { source: string; lookbehind: boolean } {
    for (let i = 0; i < this.chars.length; i++) i = this.translateAt(i);
    if (this.stack.length > 0) throw new EreError(`unmatched ( ${characterAt(this.frame.open)}`);
    return { source: joinAlternatives(this.frame), lookbehind: this.lookbehind };
  }

  private push(re2: string, repeatable: boolean): void {
    this.frame.pieces.push({ re2, repeatable, repeated: false });
  }

  /** The construct that starts at chars[i]; returns the index of its last character. */
  private translateAt(i: number): number {
    const c = this.chars[i];
    switch (c) {
      case "(":
        this.openGroup(i);
        return i;
      case ")":
        this.closeGroup();
        return i;
      case "|":
        this.frame.alternatives.push(this.frame.pieces.map((p) => p.re2).join(""));
        this.frame.pieces = [];
        return i;
      case "*":
      case "+":
      case "?":
        this.repeat(c, i, c);
        return i;
      case "{":
        return this.interval(i);
      case "^":
      case "$":
        this.push(c, false);
        return i;
      case ".":
        this.push(".", true); // DOTALL: without REG_NEWLINE "." matches a newline too
        return i;
      case "[": {
        const { ranges, end } = parseBracket(this.chars, i, this.icase);
        this.push(setAtom(ranges), true);
        return end;
      }
      case "\\":
        return this.escape(i);
      default:
        this.push(literal(cp(c), this.icase), true);
        return i;
    }
  }

  private openGroup(i: number): void {
    if (this.stack.length >= MAX_NESTING) throw new EreError(`groups nested deeper than ${MAX_NESTING} ${characterAt(i)}`);
    this.stack.push(this.frame);
    this.frame = { alternatives: [], pieces: [], open: i };
  }

  private closeGroup(): void {
    // RE_UNMATCHED_RIGHT_PAREN_ORD: a ")" with no "(" is a literal
    if (this.stack.length === 0) {
      this.push(literal(cp(")"), this.icase), true);
      return;
    }
    const group = "(?:" + joinAlternatives(this.frame) + ")";
    this.frame = this.stack.pop()!;
    this.push(group, true);
  }

  /** `op` after the last piece; glibc accepts "a**", RE2 needs (?:a*)* for it. */
  private repeat(op: string, i: number, shown: string): void {
    const last = this.frame.pieces[this.frame.pieces.length - 1];
    if (!last || !last.repeatable) throw new EreError(`nothing to repeat before ${shown} ${characterAt(i)}`);
    last.re2 = (last.repeated ? `(?:${last.re2})` : last.re2) + op;
    last.repeated = true;
  }

  private interval(i: number): number {
    const interval = parseInterval(this.chars, i);
    if (!interval) throw new EreError(`"{" ${characterAt(i)} does not start an interval {n}, {n,}, {,m} or {n,m} (a literal brace is \\{)`);
    const { min, max, end } = interval;
    const shown = this.chars.slice(i, end + 1).join("");
    if (max !== null && min > max) throw new EreError(`interval ${shown} ${characterAt(i)}: the minimum is above the maximum`);
    const biggest = max ?? min;
    if (biggest > MAX_REPEAT) throw new EreError(`interval ${shown} ${characterAt(i)}: counts above ${MAX_REPEAT} are not supported (RE2's limit)`);
    this.repeat(max === min ? `{${min}}` : max === null ? `{${min},}` : `{${min},${max}}`, i, shown);
    return end;
  }

  /** A backslash at chars[i]; returns the index of the escaped character. */
  private escape(i: number): number {
    const n = this.chars[i + 1];
    if (n === undefined) throw new EreError("trailing backslash");
    if (n >= "1" && n <= "9") throw new EreError(`back-reference \\${n} ${characterAt(i)} is not supported (RE2 runs in linear time and has none)`);
    const known = ESCAPES.get(n);
    if (known) {
      this.push(known.re2, known.repeatable);
      if (known.lookbehind) this.lookbehind = true;
    } else this.push(escapedLiteral(cp(n), this.icase), true);
    return i + 1;
  }
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
