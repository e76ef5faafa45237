// Sets of code points, as glibc builds them in the C locale, written out as RE2
// atoms: every member and every literal is \x{...} (or a plain letter or digit),
// so RE2 reads exactly the set glibc would, with none of RE2's own syntax or
// Unicode case folding in the way.

/** Inclusive [lo, hi] code point ranges. */
export type Ranges = [number, number][];

const MAX_CODE_POINT = 0x10ffff;

export const cp = (c: string) => c.codePointAt(0)!;
export const ch = (n: number) => String.fromCodePoint(n);

// The classes of the C locale (isalpha() etc. over bytes 0..127; nothing above).
export const CLASSES: Record<string, Ranges> = {
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
export const toUpper = (n: number) => (isLower(n) ? n - 0x20 : n);

/** Sorted, without empty ranges, overlapping or adjacent ones merged. */
export function normalize(ranges: Ranges): Ranges {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function complement(ranges: Ranges): Ranges {
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
export function icaseClosure(set: Ranges): Ranges {
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
export function setAtom(ranges: Ranges): string {
  const set = normalize(ranges);
  if (set.length === 0) return `[^\\x{0}-\\x{10ffff}]`;
  if (set.length === 1 && set[0][0] === set[0][1]) return literalAtom(set[0][0]);
  return "[" + set.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join("") + "]";
}

function literalAtom(n: number): string {
  return (n >= 0x30 && n <= 0x39) || (n >= 0x41 && n <= 0x5a) || (n >= 0x61 && n <= 0x7a) ? ch(n) : hex(n);
}

/** A pattern character outside a bracket, as glibc compares it. */
export function literal(n: number, icase: boolean): string {
  if (!icase || !(isLower(n) || isUpper(n))) return literalAtom(n);
  const upper = toUpper(n);
  return setAtom([[upper, upper], [upper + 0x20, upper + 0x20]]);
}

/** An escaped character such as \d or \Q: itself (glibc: any escape it does
 * not know stands for the character). Under REG_ICASE glibc takes it from the
 * pattern as written but compares it with the upper-cased text, so an escaped
 * lower-case letter matches nothing there. Kept, as Kamailio behaves. */
export function escapedLiteral(n: number, icase: boolean): string {
  if (!icase) return literalAtom(n);
  if (isLower(n)) return setAtom([]);
  return literal(n, true);
}
