// cfgutils' sleep(seconds) and usleep(microseconds), one implementation for the
// cfg functions (src/cfg/functions.ts) and KSR.cfgutils. In Kamailio they block
// the worker process; here they wait on a timer, so they hold the request that
// called them and not the server: other requests are served meanwhile. The wait
// ends early, with -1, when the request ends first (route_timeout, the client
// gone) or, in a timer's route, when the server stops.
import type { RequestContext } from "../context.ts";
import type { KsrCfgutilsApi } from "../ksr-api.ts";
import type { Logger } from "../log.ts";

/** the longest delay setTimeout takes on every runtime (2^31 - 1 ms, 24.8 days) */
const MAX_WAIT_MS = 2 ** 31 - 1;

/** Wait `ms` milliseconds: 1, or -1 as soon as `signal` aborts. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<number> {
  if (signal?.aborted) return Promise.resolve(-1);
  return new Promise((resolve) => {
    const done = () => {
      signal?.removeEventListener("abort", aborted);
      resolve(1);
    };
    const timer = setTimeout(done, Math.min(ms, MAX_WAIT_MS));
    const aborted = () => {
      clearTimeout(timer);
      resolve(-1);
    };
    signal?.addEventListener("abort", aborted, { once: true });
  });
}

/** The milliseconds of sleep(n) (unit 1000) or usleep(n) (unit 0.001), or why not:
 * Kamailio takes the value as unsigned, so a negative one would wait for ever. */
export function waitMs(fn: "sleep" | "usleep", amount: number, unit: number): number | string {
  if (!Number.isFinite(amount) || amount < 0) return `${fn}(${amount}): the time must be a non-negative integer`;
  return Math.trunc(amount) * unit;
}

/** KSR.cfgutils: sleep and usleep return a promise of their code; await it. */
export class KsrCfgutils implements KsrCfgutilsApi {
  constructor(
    private readonly ctx: RequestContext | undefined,
    private readonly logger: Logger,
  ) {}

  /** Wait `seconds`: a promise of 1, or of -1 when the request ends first or the time is negative. */
  sleep(seconds: number): Promise<number> {
    return this.#wait("sleep", seconds, 1000);
  }

  /** Wait `microseconds` (the runtimes' timers count whole milliseconds). */
  usleep(microseconds: number): Promise<number> {
    return this.#wait("usleep", microseconds, 0.001);
  }

  #wait(fn: "sleep" | "usleep", amount: number, unit: number): Promise<number> {
    // KEMI coerces an int parameter as duk_to_int does: NaN is 0
    const ms = waitMs(fn, Math.trunc(Number(amount)) || 0, unit);
    if (typeof ms === "string") {
      this.logger.err(ms, "<script>");
      return Promise.resolve(-1);
    }
    return pause(ms, this.ctx?.signal);
  }
}
