// Kamailio-style logging: numeric levels (L_ALERT -5 .. L_DBG 3), filtered by the
// `debug` parameter, one line per message on stderr with a timestamp and the level.
// A message can carry anything a request holds (the decoded URL, the body, a header
// value), so every line is escaped as it is handed to the sink: one event is one
// line, and a line-oriented reader (journald, a collector, grep) cannot be fed a
// forged line. Kamailio writes the bytes raw; docs/differences.md says why we do not.

export const LOG_LEVELS = {
  alert: -5,
  bug: -4,
  crit2: -3,
  crit: -2,
  err: -1,
  error: -1,
  warn: 0,
  warning: 0,
  notice: 1,
  info: 2,
  dbg: 3,
  debug: 3,
} as const;

export const L_ALERT = -5;
export const L_CRIT = -2;
export const L_ERR = -1;
export const L_WARN = 0;
export const L_NOTICE = 1;
export const L_INFO = 2;
export const L_DBG = 3;

const LEVEL_TAGS: Record<number, string> = {
  [-5]: "ALERT",
  [-4]: "BUG",
  [-3]: "CRITICAL",
  [-2]: "CRITICAL",
  [-1]: "ERROR",
  0: "WARNING",
  1: "NOTICE",
  2: "INFO",
  3: "DEBUG",
};

/** `debug` as Kamailio takes it: a number from -5 to 3, or a level name (L_INFO, info, ...). */
export function parseLogLevel(raw: unknown): number {
  if (typeof raw === "number" || (typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw))) {
    const n = Number(raw);
    if (Number.isInteger(n) && n >= -5 && n <= 3) return n;
  } else if (typeof raw === "string") {
    const name = raw.trim().toLowerCase().replace(/^l_/, "");
    if (Object.hasOwn(LOG_LEVELS, name)) return LOG_LEVELS[name as keyof typeof LOG_LEVELS];
  }
  throw new Error(`expected -5..3 or one of ${Object.keys(LOG_LEVELS).join(", ")}`);
}

/** What would end or break a line for some reader: C0 controls and DEL, the C1
 * controls (U+0085 is a newline to Unicode-aware readers), U+2028 and U+2029; and
 * a backslash that would otherwise read as the start of one of our escapes. */
const UNSAFE_IN_LOG = /[\x00-\x1f\x7f-\x9f\u2028\u2029]|\\(?=[xu])/g;

function escapeUnsafe(ch: string): string {
  const code = ch.charCodeAt(0);
  return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code < 0x10 ? "0" : ""}${code.toString(16)}`;
}

/** One log line, whatever the text: controls become `\xNN` (`\x0a` for LF),
 * U+2028/U+2029 `\u2028`/`\u2029`. A backslash stays as it is unless an `x` or
 * `u` follows it (then `\x5c`), so `\xNN` always means an escape and
 * unescapeLogLine gives the text back exactly. */
export function escapeLogLine(text: string): string {
  return text.replace(UNSAFE_IN_LOG, escapeUnsafe);
}

/** The inverse of escapeLogLine: for reading our logs back (and for the tests). */
export function unescapeLogLine(line: string): string {
  return line.replace(/\\x([0-9a-f]{2})|\\u(202[89])/g, (_m, byte: string | undefined, sep: string | undefined) => String.fromCharCode(parseInt(byte ?? sep!, 16)));
}

/** A value from a request or a configuration, for a message: in double quotes,
 * with `"` and `\` escaped by a backslash so that it cannot pass for the end of
 * the quote or for another entry; cut past `max` characters. Control characters
 * are left to the sink (escapeLogLine, where every line is escaped as it leaves):
 * escaping them here too would escape the escapes. */
export function quote(value: string, max = 200): string {
  const cut = value.length > max;
  const text = (cut ? value.slice(0, max) : value).replace(/["\\]/g, "\\$&");
  return cut ? `"${text}"... (${value.length} characters)` : `"${text}"`;
}

export type LogSink = (line: string) => void;

export class Logger {
  constructor(
    public level: number = L_INFO,
    private sink: LogSink = (line) => console.error(line),
  ) {}

  enabled(level: number): boolean {
    return level <= this.level;
  }

  /** Kamailio adds no newline to script messages; we end every entry with exactly
   * one, so the newline a script puts at the end of its format is dropped, not
   * escaped. Escaped here, where the line leaves, so no caller can forget. */
  log(level: number, msg: string, origin = "<core>"): void {
    if (level > this.level) return;
    const text = msg.endsWith("\n") ? msg.slice(0, -1) : msg;
    this.sink(escapeLogLine(`${new Date().toISOString()} ${LEVEL_TAGS[Math.max(-5, Math.min(3, level))]}: ${origin}: ${text}`));
  }

  err(msg: string, origin?: string) {
    this.log(L_ERR, msg, origin);
  }
  warn(msg: string, origin?: string) {
    this.log(L_WARN, msg, origin);
  }
  info(msg: string, origin?: string) {
    this.log(L_INFO, msg, origin);
  }
  dbg(msg: string, origin?: string) {
    this.log(L_DBG, msg, origin);
  }
}
