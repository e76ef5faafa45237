// Kamailio-style logging: numeric levels (L_ALERT -5 .. L_DBG 3), filtered by the
// `debug` parameter, one line per message on stderr with a timestamp and the level.

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

/** A value from a request or a configuration, for a message: in double quotes,
 * every character outside printable ASCII escaped (\n, \xHH, \u{H}), so that it
 * stays on one line and cannot pass for anything else; cut past `max` characters. */
export function quote(value: string, max = 200): string {
  const cut = value.length > max;
  let out = '"';
  for (const ch of cut ? value.slice(0, max) : value) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c < 0x7f) out += ch === '"' || ch === "\\" ? "\\" + ch : ch;
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x100) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += `\\u{${c.toString(16)}}`;
  }
  return cut ? `${out}"... (${value.length} characters)` : out + '"';
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

  /** Kamailio adds no newline to script messages; we end every entry with exactly one. */
  log(level: number, msg: string, origin = "<core>"): void {
    if (level > this.level) return;
    const text = msg.endsWith("\n") ? msg.slice(0, -1) : msg;
    this.sink(`${new Date().toISOString()} ${LEVEL_TAGS[Math.max(-5, Math.min(3, level))]}: ${origin}: ${text}`);
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
