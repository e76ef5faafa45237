// The time and random variables of Kamailio's pv module (pv_time.c) and
// cfgutils' $RANDOM: $TS $Ts $Tf $TF $Tb $TV(...) $time(...) $utime(...)
// $timef(...) $utimef(...). "The message's time" is Kamailio's msg_set_time: read
// from the clock at the first use within a request, then the same for the rest of
// it; $TS, $TF and $TV(sn|Sn|Fn|Sm) read the clock each time. Local time is the
// process's time zone (the TZ environment variable, else the system's; UTC on
// Workers). Shared by the cfg and KSR.pv through src/pv.ts.
import type { RequestContext } from "../context.ts";
import type { PvValue } from "../ksr-api.ts";
import { quote } from "../log.ts";
import { PvError, type Pv } from "../pv-accessor.ts";

/** The clock in microseconds: the wall clock (Date.now, milliseconds), refined by
 * the high-resolution clock while the two agree (they drift apart on a long-running
 * process whose wall clock is adjusted; the wall clock wins then). */
function nowMicros(): number {
  const wall = Date.now();
  const fine = performance.timeOrigin + performance.now();
  return Math.floor((Math.abs(fine - wall) < 1 ? fine : wall) * 1000);
}

const messageTimes = new WeakMap<RequestContext, number>();

/** msg_set_time: the request's time in microseconds, fixed at its first use. */
function messageMicros(ctx: RequestContext | undefined): number {
  if (!ctx) return nowMicros();
  let t = messageTimes.get(ctx);
  if (t === undefined) messageTimes.set(ctx, (t = nowMicros()));
  return t;
}

const seconds = (micros: number) => Math.floor(micros / 1e6);
const STARTED = Math.floor(Date.now() / 1000);

/** $TV(sn) reads the clock and keeps it; $TV(un) gives that reading's microseconds (pv_time.c's static _timeval_ts). */
let lastTimeval = 0;

// ---- broken-down time (struct tm) ----

interface Tm {
  sec: number;
  min: number;
  hour: number;
  mday: number;
  /** 0..11 */
  mon: number;
  year: number;
  /** 0 = Sunday */
  wday: number;
  /** 0..365 */
  yday: number;
  isdst: number;
  /** seconds east of UTC */
  gmtoff: number;
  epoch: number;
  zone: () => string;
}

const DAY_MS = 86400000;

function localZoneName(d: Date): string {
  try {
    const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d).find((p) => p.type === "timeZoneName");
    if (part) return part.value;
  } catch {
    // no Intl time zone data: the offset instead
  }
  return offsetText(-d.getTimezoneOffset() * 60, "");
}

/** localtime_r / gmtime_r of a Unix time in seconds. */
function brokenDown(epoch: number, utc: boolean): Tm {
  const d = new Date(epoch * 1000);
  if (utc) {
    const jan1 = Date.UTC(d.getUTCFullYear(), 0, 1);
    return {
      sec: d.getUTCSeconds(), min: d.getUTCMinutes(), hour: d.getUTCHours(), mday: d.getUTCDate(), mon: d.getUTCMonth(), year: d.getUTCFullYear(),
      wday: d.getUTCDay(), yday: Math.floor((d.getTime() - jan1) / DAY_MS), isdst: 0, gmtoff: 0, epoch, zone: () => "GMT",
    };
  }
  const year = d.getFullYear();
  const offset = d.getTimezoneOffset();
  // minutes west of UTC: daylight saving time is the smaller of the year's two offsets
  const standard = Math.max(new Date(year, 0, 1).getTimezoneOffset(), new Date(year, 6, 1).getTimezoneOffset());
  return {
    sec: d.getSeconds(), min: d.getMinutes(), hour: d.getHours(), mday: d.getDate(), mon: d.getMonth(), year,
    wday: d.getDay(), yday: Math.round((Date.UTC(year, d.getMonth(), d.getDate()) - Date.UTC(year, 0, 1)) / DAY_MS),
    isdst: offset < standard ? 1 : 0, gmtoff: -offset * 60, epoch, zone: () => localZoneName(d),
  };
}

// ---- strftime, C locale ----

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const pad = (n: number, width = 2, fill = "0") => String(n).padStart(width, fill);
const hour12 = (t: Tm) => (t.hour % 12 === 0 ? 12 : t.hour % 12);

function offsetText(gmtoff: number, sep: string): string {
  const abs = Math.abs(gmtoff);
  return `${gmtoff < 0 ? "-" : "+"}${pad(Math.floor(abs / 3600))}${sep}${pad(Math.floor((abs % 3600) / 60))}`;
}

/** ISO 8601 week-based year and week (%G, %V), as glibc computes them. */
function isoWeek(t: Tm): { year: number; week: number } {
  const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  // days since the Monday of the week holding January 4th
  const weekStart = (yday: number, wday: number) => yday - ((yday - wday + 382) % 7) + 3;
  let year = t.year;
  let days = weekStart(t.yday, t.wday);
  if (days < 0) {
    year--;
    days = weekStart(t.yday + (isLeap(year) ? 366 : 365), t.wday);
  } else {
    const next = weekStart(t.yday - (isLeap(year) ? 366 : 365), t.wday);
    if (next >= 0) (year++, (days = next));
  }
  return { year, week: Math.floor(days / 7) + 1 };
}

type Conversion = (t: Tm) => string;

/** glibc's conversions in the C locale; anything else is refused at start-up. */
const CONVERSIONS: Record<string, Conversion> = {
  a: (t) => DAYS[t.wday].slice(0, 3),
  A: (t) => DAYS[t.wday],
  b: (t) => MONTHS[t.mon].slice(0, 3),
  B: (t) => MONTHS[t.mon],
  c: (t) => `${DAYS[t.wday].slice(0, 3)} ${MONTHS[t.mon].slice(0, 3)} ${pad(t.mday, 2, " ")} ${pad(t.hour)}:${pad(t.min)}:${pad(t.sec)} ${t.year}`,
  C: (t) => pad(Math.floor(t.year / 100)),
  d: (t) => pad(t.mday),
  D: (t) => `${pad(t.mon + 1)}/${pad(t.mday)}/${pad(t.year % 100)}`,
  e: (t) => pad(t.mday, 2, " "),
  F: (t) => `${t.year}-${pad(t.mon + 1)}-${pad(t.mday)}`,
  g: (t) => pad(isoWeek(t).year % 100),
  G: (t) => String(isoWeek(t).year),
  h: (t) => MONTHS[t.mon].slice(0, 3),
  H: (t) => pad(t.hour),
  I: (t) => pad(hour12(t)),
  j: (t) => pad(t.yday + 1, 3),
  k: (t) => pad(t.hour, 2, " "),
  l: (t) => pad(hour12(t), 2, " "),
  m: (t) => pad(t.mon + 1),
  M: (t) => pad(t.min),
  n: () => "\n",
  p: (t) => (t.hour < 12 ? "AM" : "PM"),
  P: (t) => (t.hour < 12 ? "am" : "pm"),
  r: (t) => `${pad(hour12(t))}:${pad(t.min)}:${pad(t.sec)} ${t.hour < 12 ? "AM" : "PM"}`,
  R: (t) => `${pad(t.hour)}:${pad(t.min)}`,
  s: (t) => String(t.epoch),
  S: (t) => pad(t.sec),
  t: () => "\t",
  T: (t) => `${pad(t.hour)}:${pad(t.min)}:${pad(t.sec)}`,
  u: (t) => String(t.wday === 0 ? 7 : t.wday),
  U: (t) => pad(Math.floor((t.yday + 7 - t.wday) / 7)),
  V: (t) => pad(isoWeek(t).week),
  w: (t) => String(t.wday),
  W: (t) => pad(Math.floor((t.yday + 7 - ((t.wday + 6) % 7)) / 7)),
  x: (t) => `${pad(t.mon + 1)}/${pad(t.mday)}/${pad(t.year % 100)}`,
  X: (t) => `${pad(t.hour)}:${pad(t.min)}:${pad(t.sec)}`,
  y: (t) => pad(t.year % 100),
  Y: (t) => String(t.year),
  z: (t) => offsetText(t.gmtoff, ""),
  Z: (t) => t.zone(),
  "%": () => "%",
};

/** The format split once into literal text and conversions; an unknown conversion is a PvError naming it. */
function compileStrftime(format: string, spec: string): (t: Tm) => string {
  const parts: (string | Conversion)[] = [];
  let lit = "";
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== "%") {
      lit += format[i];
      continue;
    }
    const c = format[++i];
    const conv = c !== undefined && Object.hasOwn(CONVERSIONS, c) ? CONVERSIONS[c] : undefined;
    if (!conv) {
      const what = c === undefined ? "a lone % at the end" : `unknown conversion %${c}`;
      throw new PvError(`${what} in ${quote(spec)} (known: ${Object.keys(CONVERSIONS).map((k) => `%${k}`).join(" ")}; no flags or widths)`);
    }
    if (lit) (parts.push(lit), (lit = ""));
    parts.push(conv);
  }
  if (lit) parts.push(lit);
  return (t) => parts.map((p) => (typeof p === "string" ? p : p(t))).join("");
}

/** pv_time.c formats into a 64-byte buffer: a result that does not fit (or is empty) is null. */
const STRFTIME_BUFFER = 64;
const utf8 = new TextEncoder();

function strftimePv(utc: boolean) {
  return function (spec: string, inner: string): Pv {
    if (inner === "") throw new PvError(`${quote(spec)}: the format is empty`);
    const format = compileStrftime(inner, spec);
    return {
      spec,
      get: (ctx) => {
        const text = format(brokenDown(seconds(messageMicros(ctx)), utc));
        return text === "" || utf8.encode(text).length >= STRFTIME_BUFFER ? null : text;
      },
    };
  };
}

const TIME_FIELDS: Record<string, (t: Tm) => number> = {
  sec: (t) => t.sec,
  min: (t) => t.min,
  hour: (t) => t.hour,
  mday: (t) => t.mday,
  mon: (t) => t.mon + 1,
  year: (t) => t.year,
  wday: (t) => t.wday + 1,
  yday: (t) => t.yday + 1,
  isdst: (t) => t.isdst,
};

function timeFieldPv(utc: boolean) {
  return function (spec: string, inner: string): Pv {
    const field = Object.hasOwn(TIME_FIELDS, inner) ? TIME_FIELDS[inner] : undefined;
    if (!field) throw new PvError(`unknown ${utc ? "$utime" : "$time"} name ${quote(inner)} in ${quote(spec)} (known: ${Object.keys(TIME_FIELDS).join(", ")})`);
    return { spec, get: (ctx) => field(brokenDown(seconds(messageMicros(ctx)), utc)) };
  };
}

/** ctime_r without its newline: "Thu Nov 30 12:34:56 2026", local time. */
function ctimeText(epoch: number): string {
  const t = brokenDown(epoch, false);
  return `${DAYS[t.wday].slice(0, 3)} ${MONTHS[t.mon].slice(0, 3)} ${pad(t.mday, 2, " ")} ${pad(t.hour)}:${pad(t.min)}:${pad(t.sec)} ${t.year}`;
}

const TIMEVAL: Record<string, (ctx: RequestContext | undefined) => PvValue> = {
  s: (ctx) => seconds(messageMicros(ctx)),
  u: (ctx) => messageMicros(ctx) % 1e6,
  sn: () => seconds((lastTimeval = nowMicros())),
  un: () => lastTimeval % 1e6,
  Sn: () => {
    const t = nowMicros();
    return `${seconds(t)}.${pad(t % 1e6, 6)}`;
  },
  Fn: () => {
    const t = nowMicros();
    return `${compileStrftime("%Y-%m-%d %H:%M:%S", "$TV(Fn)")(brokenDown(seconds(t), false))}.${pad(t % 1e6, 6)}`;
  },
  // the monotonic clock in nanoseconds, as a string; counted from the process's start here
  Sm: () => String(Math.round(performance.now() * 1e6)),
};

function timevalPv(spec: string, inner: string): Pv {
  const get = Object.hasOwn(TIMEVAL, inner) ? TIMEVAL[inner] : undefined;
  if (!get) throw new PvError(`unknown $TV name ${quote(inner)} in ${quote(spec)} (known: ${Object.keys(TIMEVAL).join(", ")})`);
  return { spec, get };
}

/** kam_rand: 0 .. 2^31-1, here from the Web Crypto API. */
function random(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] >>> 1;
}

/** The variables written without a name: $TS and friends. */
export const CLOCK_PVS: Record<string, Pv> = {
  TS: { spec: "$TS", get: () => seconds(nowMicros()) },
  Ts: { spec: "$Ts", get: (ctx) => seconds(messageMicros(ctx)) },
  Tf: { spec: "$Tf", get: (ctx) => ctimeText(seconds(messageMicros(ctx))) },
  TF: { spec: "$TF", get: () => ctimeText(seconds(nowMicros())) },
  Tb: { spec: "$Tb", get: () => STARTED },
  RANDOM: { spec: "$RANDOM", get: () => random() },
};

/** The variables with a name in parentheses: class -> accessor for a name. */
export const CLOCK_NAMED_PVS: Record<string, (spec: string, inner: string) => Pv> = {
  TV: timevalPv,
  time: timeFieldPv(false),
  utime: timeFieldPv(true),
  timef: strftimePv(false),
  utimef: strftimePv(true),
};
