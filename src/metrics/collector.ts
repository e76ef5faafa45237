// The counting of one process, made only when `metrics` is on: the handler then
// calls `observe` once per request and the pipeline's steps report refusals, route
// errors and timeouts to it. Each count is plain arithmetic on numbers kept here;
// the figures that already exist elsewhere (requests in flight, stray errors, the
// route's statistics, memory) are read only when a scrape asks.
import type { Exchange } from "../exchange.ts";
import { strayErrors } from "../stray-errors.ts";
import { statisticsSnapshot } from "../modules/statistics.ts";
import type { Reply } from "../reply.ts";
import type { PipelineEvents } from "./events.ts";
import { DURATION_BOUNDS, emptySnapshot, METHODS, type MemoryFigures, type MetricsSnapshot, type RefusalReason } from "./snapshot.ts";


export interface CollectorSources {
  /** requests admitted and not answered (the Lifecycle's count) */
  inflight(): number;
  /** this process's memory, where the runtime tells it */
  memory?(): MemoryFigures | undefined;
}

const METHOD_INDEX = new Map<string, number>(METHODS.map((m, i) => [m, i]));
const OTHER = METHODS.length - 1;
/** status 0 is "dropped": a slot per status code below 1000 */
const STATUS_SLOTS = 1000;

/** UTF-8 length of a string without encoding it */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) i++, (n += 1); // a surrogate pair: 4 bytes for 2 units
    else n += 2;
  }
  return n;
}

const bodyLength = (reply: Reply): number => {
  const b = reply.body;
  return b === null ? 0 : typeof b === "string" ? utf8Length(b) : b.byteLength;
};

export class MetricsCollector implements PipelineEvents {
  /** requests by method index * STATUS_SLOTS + status */
  readonly #requests = new Float64Array(METHODS.length * STATUS_SLOTS);
  readonly #buckets = new Float64Array(DURATION_BOUNDS.length + 1);
  #durationSum = 0;
  #requestBytes = 0;
  #responseBytes = 0;
  #routeErrors = 0;
  #routeTimeouts = 0;
  readonly #refusals: Partial<Record<RefusalReason, number>> = {};
  /** stray errors before counting began belong to no figure here (another handler's) */
  readonly #strayBase = strayErrors();

  constructor(private readonly sources: CollectorSources) {}

  /** Count one request once its response is decided; returns the response. */
  observe(x: Exchange, res: Response | Promise<Response>, start: number): Response | Promise<Response> {
    if (res instanceof Promise) return res.then((r) => (this.#record(x, r, start), r));
    this.#record(x, res, start);
    return res;
  }

  #record(x: Exchange, res: Response, start: number): void {
    if (x.scrape) return;
    // what was sent: a reply the adapter wrote itself leaves only a marker Response
    const status = x.dropped ? 0 : (x.reply?.status ?? res.status);
    const sent = x.dropped || x.method === "HEAD" ? 0 : x.reply ? bodyLength(x.reply) : Number(res.headers.get("content-length")) || 0;
    this.count(x.method, status, (performance.now() - start) / 1000, x.bodyLength, sent);
  }

  /** One request: its method as sent, the status (0: dropped), how long it took
   * and the body bytes each way. */
  count(method: string, status: number, seconds: number, requestBytes: number, responseBytes: number): void {
    let bucket = 0;
    while (bucket < DURATION_BOUNDS.length && seconds > DURATION_BOUNDS[bucket]) bucket++;
    this.#buckets[bucket]++;
    this.#durationSum += seconds;
    this.#requests[(METHOD_INDEX.get(method) ?? OTHER) * STATUS_SLOTS + (status < STATUS_SLOTS ? status : 0)]++;
    this.#requestBytes += requestBytes;
    this.#responseBytes += responseBytes;
  }

  refused(reason: RefusalReason): void {
    this.#refusals[reason] = (this.#refusals[reason] ?? 0) + 1;
  }

  routeFailed(): void {
    this.#routeErrors++;
  }

  routeTimedOut(): void {
    this.#routeTimeouts++;
  }

  /** This process's figures now. */
  snapshot(): MetricsSnapshot {
    const s = emptySnapshot();
    this.#requests.forEach((n, i) => {
      if (n === 0) return;
      const status = i % STATUS_SLOTS;
      s.requests[`${METHODS[Math.floor(i / STATUS_SLOTS)]} ${status === 0 ? "dropped" : status}`] = n;
    });
    s.durationBuckets = Array.from(this.#buckets);
    s.durationSum = this.#durationSum;
    s.requestBodyBytes = this.#requestBytes;
    s.responseBodyBytes = this.#responseBytes;
    s.inflight = this.sources.inflight();
    s.routeErrors = this.#routeErrors;
    s.strayErrors = strayErrors() - this.#strayBase;
    s.routeTimeouts = this.#routeTimeouts;
    s.refusals = { ...this.#refusals };
    s.stats = statisticsSnapshot();
    const m = this.sources.memory?.();
    s.memory = m && { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed };
    s.processes = 1;
    return s;
  }
}
