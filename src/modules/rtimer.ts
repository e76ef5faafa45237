// Kamailio's rtimer module: routes run at an interval. Its parameters, parsed
// here for both route styles (a .cfg's modparam("rtimer", "timer" / "exec", ...),
// a TypeScript module's `export const timers`), and the scheduler that runs them
// in a server process.
//
// Kamailio's `mode`: 0 runs the timer on the core's shared timer process, N > 0
// forks N processes that each run it every interval ($rtimer_worker = 0..N-1).
// Here every run is in the event loop of a server process, so it never blocks
// requests while it waits; `mode` keeps its count: mode 0 and 1 run the timer
// once per interval for the whole server, mode N runs it N times (timer worker i
// in server worker i mod `workers`), so that `workers` > 1 does not multiply runs.
import { RequestContext } from "../context.ts";
import { KSR_EXIT, type KsrApi } from "../ksr-api.ts";
import { ksrOf } from "../ksr.ts";
import { runWithKsr } from "../ksr-global.ts";
import { quote, type Logger } from "../log.ts";

/** Kamailio's default_interval default, in seconds */
export const DEFAULT_INTERVAL_S = 120;
/** the longest delay setTimeout/setInterval take on every runtime (2^31 - 1 ms) */
const MAX_INTERVAL_MS = 2 ** 31 - 1;
/** more timer workers than this for one timer is a start-up error */
export const MAX_MODE = 256;

export interface TimerSpec {
  name: string;
  intervalMs: number;
  /** Kamailio's mode: 0 shared timer, N > 0 that many runs per interval */
  mode: number;
}

/** One route a timer runs (its `exec`): called with the timer's request-less context. */
export interface TimerRoute {
  /** "route[PURGE]", "ksr_rtimer()", ... for messages */
  label: string;
  run(ctx: RequestContext): unknown;
  /** a KEMI `async function`: the global KSR must follow it across its awaits */
  awaits?: boolean;
}

export interface RouteTimer extends TimerSpec {
  routes: TimerRoute[];
}

/** The KEMI callback form: fn("rtimer", KSR), as Kamailio's sr_kemi_route calls it. */
export type TimerFunction = (evname: string, ksr: KsrApi) => unknown;

/** A timer in a TypeScript route module: `export const timers: TimerDeclaration[]`. */
export interface TimerDeclaration {
  name: string;
  /** seconds (fractions allowed, from 0.001), or rtimer's text: "10", "100000u" */
  interval: number | string;
  /** rtimer's mode: 0 (default) or 1 once per interval per server, N that many runs ($rtimer_worker 0..N-1) */
  mode?: number;
  /** called as run("rtimer", KSR) with a request-less KSR; may be async */
  run: TimerFunction;
}

/** "10" seconds, or "100000u" microseconds (rtimer's interval); 0 means the default. */
export function parseInterval(text: string, defaultSeconds: number): number | string {
  const m = /^(\d{1,10})([uU]?)$/.exec(text.trim());
  if (!m) return `interval ${quote(text)} is not a number of seconds (or of microseconds with a "u" suffix)`;
  const n = Number(m[1]);
  const ms = n === 0 ? defaultSeconds * 1000 : m[2] ? n / 1000 : n * 1000;
  if (ms < 1) return `interval ${quote(text)} is under 1 ms, the finest step the runtimes' timers take`;
  if (ms > MAX_INTERVAL_MS) return `interval ${quote(text)} is longer than the runtimes' timers take (${Math.floor(MAX_INTERVAL_MS / 1000)} s)`;
  return ms;
}

/** Kamailio's parse_params form, "a=1;b=2;", as a map (names lower-cased); an error text for a bad one. */
function params(text: string): Map<string, string> | string {
  const out = new Map<string, string>();
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) return `${quote(part.trim())} is not name=value`;
    out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return out;
}

/** modparam("rtimer", "timer", "name=t1;interval=10;mode=1;"): the timer, or why not. */
export function parseTimer(text: string, defaultSeconds: number): TimerSpec | string {
  const p = params(text);
  if (typeof p === "string") return p;
  for (const key of p.keys()) if (key !== "name" && key !== "interval" && key !== "mode") return `unknown attribute ${quote(key)} (known: name, interval, mode)`;
  const name = p.get("name") ?? "";
  if (name === "") return 'no name: expected "name=...;interval=...;mode=...;"';
  const modeText = p.get("mode") ?? "0";
  if (!/^\d{1,10}$/.test(modeText)) return `mode ${quote(modeText)} is not a non-negative integer`;
  let mode = Number(modeText);
  if (mode > MAX_MODE) return `mode ${mode}: at most ${MAX_MODE} runs per interval`;
  const intervalText = p.get("interval") ?? "0";
  const intervalMs = parseInterval(intervalText, defaultSeconds);
  if (typeof intervalMs === "string") return intervalMs;
  // rtimer: a microsecond interval always has its own process
  if (/[uU]$/.test(intervalText) && mode === 0) mode = 1;
  return { name, intervalMs, mode };
}

/** modparam("rtimer", "exec", "timer=t1;route=PURGE"): the timer's name and the route's, or why not. */
export function parseExec(text: string): { timer: string; route: string } | string {
  const p = params(text);
  if (typeof p === "string") return p;
  for (const key of p.keys()) if (key !== "timer" && key !== "route") return `unknown attribute ${quote(key)} (known: timer, route)`;
  const timer = p.get("timer") ?? "";
  const route = p.get("route") ?? "";
  if (timer === "" || route === "") return 'expected "timer=NAME;route=ROUTE"';
  return { timer, route };
}

/** A TypeScript route module's `export const timers = [{ name, interval, mode, run }]`:
 * interval in seconds (a number, fractions allowed) or rtimer's text ("100000u"). */
export function moduleTimers(value: unknown, where: string): RouteTimer[] | string {
  if (!Array.isArray(value)) return `${where}: the exported "timers" must be an array of { name, interval, mode?, run }`;
  const out: RouteTimer[] = [];
  for (const [i, t] of value.entries()) {
    const at = `${where}: timers[${i}]`;
    if (typeof t !== "object" || t === null) return `${at} must be an object { name, interval, mode?, run }`;
    const { name, interval, mode = 0, run } = t as Record<string, unknown>;
    if (typeof name !== "string" || name === "") return `${at}: name must be a non-empty string`;
    if (out.some((o) => o.name.toLowerCase() === name.toLowerCase())) return `${at}: a second timer named ${quote(name)}`;
    if (typeof run !== "function") return `${at} (${name}): run must be a function (evname, KSR) => ...`;
    if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > MAX_MODE) return `${at} (${name}): mode must be an integer from 0 to ${MAX_MODE}`;
    let intervalMs: number | string;
    if (typeof interval === "number") {
      intervalMs = Number.isFinite(interval) && interval * 1000 >= 1 && interval * 1000 <= MAX_INTERVAL_MS ? interval * 1000 : `interval ${interval} is not a number of seconds from 0.001 to ${Math.floor(MAX_INTERVAL_MS / 1000)}`;
    } else intervalMs = typeof interval === "string" ? parseInterval(interval, DEFAULT_INTERVAL_S) : "interval must be a number of seconds or rtimer's text (\"100000u\")";
    if (typeof intervalMs === "string") return `${at} (${name}): ${intervalMs}`;
    out.push({ name, intervalMs, mode, routes: [kemiTimerRoute(run as TimerFunction, `${name}.run()`)] });
  }
  return out;
}

/** A KEMI function as a timer's route: fn("rtimer", KSR) with the timer's own KSR,
 * the global KSR following it. */
export function kemiTimerRoute(fn: TimerFunction, label: string): TimerRoute {
  const call = (ctx: RequestContext) => fn("rtimer", ksrOf(ctx));
  return { label, run: (ctx) => runWithKsr(ctx, call, true), awaits: fn.constructor?.name === "AsyncFunction" };
}

/** What one timer worker of one timer is doing. */
interface Slot {
  timer: RouteTimer;
  worker: number;
  handle?: ReturnType<typeof setInterval>;
  /** the run in progress */
  running?: Promise<void>;
  startedAt: number;
  /** ticks skipped because the previous run had not ended */
  skipped: number;
}

/** The timers of one server process: start() after the handler, stop() with the graceful stop. */
export class TimerScheduler {
  readonly #slots: Slot[] = [];
  #stopped = false;
  /** the contexts of the routes running now: stop() aborts their signals */
  readonly #running = new Set<RequestContext>();

  /** `workerIndex` of `workers`: which timer workers run in this process */
  constructor(
    timers: RouteTimer[],
    private readonly logger: Logger,
    workerIndex = 0,
    workers = 1,
  ) {
    for (const timer of timers) {
      for (let w = 0; w < Math.max(1, timer.mode); w++) if (w % workers === workerIndex) this.#slots.push({ timer, worker: w, startedAt: 0, skipped: 0 });
    }
  }

  get size(): number {
    return this.#slots.length;
  }

  start(): void {
    for (const slot of this.#slots) {
      this.logger.dbg(`rtimer ${slot.timer.name}: every ${slot.timer.intervalMs / 1000} s${slot.timer.mode > 1 ? ` ($rtimer_worker ${slot.worker} of ${slot.timer.mode})` : ""}`);
      const handle = setInterval(() => this.#tick(slot), slot.timer.intervalMs);
      // the server keeps the process alive, not its timers
      (handle as { unref?: () => void }).unref?.();
      if (typeof handle === "number") (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(handle);
      slot.handle = handle;
    }
  }

  /** No tick from now on; a run in progress sees its signal abort (it stops at its
   * next wait). Resolves once every run has ended. */
  stop(): Promise<void> {
    for (const slot of this.#slots) clearInterval(slot.handle);
    this.#stopped = true;
    for (const ctx of this.#running) ctx.abort(new DOMException("the server is stopping", "AbortError"));
    return Promise.allSettled(this.#slots.map((s) => s.running)).then(() => {});
  }

  #tick(slot: Slot): void {
    if (this.#stopped) return;
    // a run that has not ended holds its timer: the next tick is skipped, as
    // Kamailio's timer process cannot start it either
    if (slot.running) {
      slot.skipped++;
      return;
    }
    slot.startedAt = Date.now();
    slot.running = this.#run(slot).finally(() => {
      slot.running = undefined;
      if (slot.skipped > 0) {
        const took = ((Date.now() - slot.startedAt) / 1000).toFixed(1);
        this.logger.warn(`rtimer ${slot.timer.name}: a run took ${took} s, longer than its interval of ${slot.timer.intervalMs / 1000} s: ${slot.skipped} tick(s) skipped`);
        slot.skipped = 0;
      }
    });
  }

  async #run(slot: Slot): Promise<void> {
    const { timer, worker } = slot;
    for (const route of timer.routes) {
      if (this.#stopped) return;
      const ctx = new RequestContext(new Request("http://rtimer.invalid/"), { remoteAddress: null }, undefined, this.logger);
      ctx.timer = { name: timer.name, worker };
      // its signal made now, so that stop() can abort it whenever the route asks for it
      void ctx.signal;
      this.#running.add(ctx);
      try {
        const out = route.run(ctx);
        if (typeof (out as PromiseLike<unknown> | undefined)?.then === "function") await out;
      } catch (e) {
        // a failing route is logged and the timer keeps its schedule
        if (e !== KSR_EXIT) this.logger.err(`rtimer ${timer.name}: ${route.label} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      } finally {
        this.#running.delete(ctx);
      }
    }
  }
}
