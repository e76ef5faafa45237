// POSIX extended regular expressions as Kamailio runs them (glibc regcomp with
// REG_EXTENDED, in the C locale: Kamailio never calls setlocale), matched by
// re2js, a pure JavaScript port of RE2 that takes time linear in the text. The
// runtime's own RegExp backtracks: a pattern like ^/api/([a-z0-9]+/?)* held the
// only thread for seconds on a 34-byte path, and cfg patterns can come from the
// request itself.
//
// The ERE is parsed by mhttpd, not handed to re2js, because the two read the same
// text differently: in POSIX a backslash inside [...] is a literal, "]" first
// in a bracket is a member, [[:alpha:]] [[.x.]] [[=x=]] are bracket syntax, and
// "a**" is valid; RE2 has no \< \> and no back-references. Every member of a
// bracket and every literal is written out as \x{...}, so what RE2 reads is
// exactly the set glibc builds. REG_ICASE is done here too, the way glibc does
// it (pattern and text upper-cased, ASCII only), rather than with RE2's
// Unicode case folding, which would also fold non-ASCII letters and the
// Kelvin sign into k.
//
// The translation lives in src/ere/: translate.ts (groups, repetition,
// intervals, escapes), bracket.ts (bracket expressions) and charset.ts (code
// point sets as RE2 atoms, the C locale's classes, REG_ICASE).
//
// re2js itself is loaded on demand (src/on-demand.ts): a configuration without a
// pattern never loads it. Start-up loads it when url_match or url_skip is given
// (config.ts prepareParams) or a .cfg has a pattern (src/cfg/load-route.ts);
// compiling before that is mhttpd's own error.
import type { RE2JS } from "re2js";
import { EreError } from "./ere/error.ts";
import { ereToRe2 } from "./ere/translate.ts";
import { OnDemand } from "./on-demand.ts";

export { EreError } from "./ere/error.ts";
export { ereToRe2 } from "./ere/translate.ts";

/** re2js's RE2JS class, once loaded */
export const ereEngine = new OnDemand<typeof RE2JS>("re2js (the ERE engine)", async () => (await import("re2js")).RE2JS);

export interface EreMatcher {
  /** the ERE as written */
  readonly source: string;
  /** whether the ERE matches somewhere in `text` (regexec without REG_NOTBOL/NOTEOL) */
  test(text: string): boolean;
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
  const engine = ereEngine.value;
  const { source, lookbehind } = ereToRe2(ere, icase);
  let re: RE2JS;
  try {
    re = engine.compile(source, engine.DOTALL | (lookbehind ? engine.LOOKBEHINDS : 0));
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
  ) {
    // made when a route is compiled: without the engine then, every request's
    // pattern would fail (get() turns any error into the pattern's)
    void ereEngine.value;
  }

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
