// What one process has counted, as plain data that crosses a process boundary
// (workers > 1: each worker sends its own to the supervisor, which adds them up),
// and the one way two of them add up. The exposition (exposition.ts) renders one.

/** Upper bounds of the request duration histogram, in seconds: a hello request
 * takes well under a millisecond, a route that waits up to route_timeout (30 s). */
export const DURATION_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** The request methods counted by name; any other is counted as "other", so that a
 * client cannot add label values (and series) at will. */
export const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "other"] as const;

/** Why the server refused a request before (or instead of) the route: the check
 * (the reason label) and the status it sends ("none": the connection is closed
 * without one). Refusals the runtime makes itself are counted where the adapter
 * is told of them (docs/limits-and-security.md#metrics says which). */
export const REFUSALS = {
  host: { reason: "host", status: "400" },
  connect: { reason: "connect", status: "405" },
  allowed_ips: { reason: "allowed_ips", status: "403" },
  url_filter: { reason: "url_filter", status: "404" },
  /** Bun, Deno: requests in flight beyond max_connections */
  max_connections: { reason: "max_connections", status: "503" },
  /** Node: a socket beyond max_connections, closed when accepted */
  max_connections_socket: { reason: "max_connections", status: "none" },
  max_header_size: { reason: "max_header_size", status: "431" },
  header_timeout: { reason: "header_timeout", status: "408" },
  max_body_size: { reason: "max_body_size", status: "413" },
  body_timeout: { reason: "body_timeout", status: "408" },
} as const;

export type RefusalReason = keyof typeof REFUSALS;
export const REFUSAL_REASONS = Object.keys(REFUSALS) as RefusalReason[];

export interface MemoryFigures {
  /** resident set size of the process */
  rss: number;
  /** the JavaScript heap: reserved and used */
  heapTotal: number;
  heapUsed: number;
}

export interface MetricsSnapshot {
  /** "METHOD STATUS" -> requests answered ("GET 200"; status "dropped" for a
   * connection closed without a response) */
  requests: Record<string, number>;
  /** requests per duration bucket: index i counts those up to DURATION_BOUNDS[i]
   * and above the bound before it; the last index counts the rest (not cumulative) */
  durationBuckets: number[];
  /** seconds, all requests together */
  durationSum: number;
  requestBodyBytes: number;
  responseBodyBytes: number;
  /** requests admitted and not answered yet */
  inflight: number;
  /** routes that threw or rejected */
  routeErrors: number;
  /** errors a route left behind outside its call (stray-errors.ts) */
  strayErrors: number;
  routeTimeouts: number;
  refusals: Partial<Record<RefusalReason, number>>;
  /** the statistics module's variables: name -> value */
  stats: Record<string, number>;
  /** summed over the processes that told it */
  memory: MemoryFigures | undefined;
  /** how many serving processes these figures come from */
  processes: number;
  /** workers that died and were started again (the supervisor's count) */
  workerRestarts: number;
}

/** A record keyed by outside names (a statistic may be called "constructor" or
 * "__proto__"): no prototype to read through or write onto. */
export const record = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

export function emptySnapshot(): MetricsSnapshot {
  return {
    requests: record(),
    durationBuckets: new Array<number>(DURATION_BOUNDS.length + 1).fill(0),
    durationSum: 0,
    requestBodyBytes: 0,
    responseBodyBytes: 0,
    inflight: 0,
    routeErrors: 0,
    strayErrors: 0,
    routeTimeouts: 0,
    refusals: {},
    stats: record(),
    memory: undefined,
    processes: 0,
    workerRestarts: 0,
  };
}

/** from's counts added to into's; into has no prototype (record()) or fixed keys */
const addRecords = <K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>) => {
  for (const key of Object.keys(from) as K[]) into[key] = (Object.hasOwn(into, key) ? into[key]! : 0) + from[key]!;
};

/** `into` plus `from`, in place: every figure is a sum (requests in flight and
 * memory too: the server's are the workers' together). */
export function addSnapshot(into: MetricsSnapshot, from: MetricsSnapshot): MetricsSnapshot {
  addRecords(into.requests, from.requests);
  from.durationBuckets.forEach((n, i) => (into.durationBuckets[i] = (into.durationBuckets[i] ?? 0) + n));
  into.durationSum += from.durationSum;
  into.requestBodyBytes += from.requestBodyBytes;
  into.responseBodyBytes += from.responseBodyBytes;
  into.inflight += from.inflight;
  into.routeErrors += from.routeErrors;
  into.strayErrors += from.strayErrors;
  into.routeTimeouts += from.routeTimeouts;
  addRecords(into.refusals, from.refusals);
  addRecords(into.stats, from.stats);
  if (from.memory) {
    const m = (into.memory ??= { rss: 0, heapTotal: 0, heapUsed: 0 });
    m.rss += from.memory.rss;
    m.heapTotal += from.memory.heapTotal;
    m.heapUsed += from.memory.heapUsed;
  }
  into.processes += from.processes;
  into.workerRestarts += from.workerRestarts;
  return into;
}

/** What a worker that has died still adds to the server's figures: its counts
 * (a counter must not go down when a worker is replaced) and its statistics
 * (kept in shared memory in Kamailio, which outlives any one process), but not
 * what it had in flight or in memory. */
export function retiredPart(last: MetricsSnapshot): MetricsSnapshot {
  return addSnapshot(emptySnapshot(), { ...last, inflight: 0, memory: undefined, processes: 0 });
}

/** A snapshot as another process sent it: its shape is checked, so that a stray
 * message cannot put anything but numbers into the figures. */
export function isSnapshot(v: unknown): v is MetricsSnapshot {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  const record = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x) && Object.values(x).every(num);
  return (
    record(s.requests) &&
    Array.isArray(s.durationBuckets) &&
    s.durationBuckets.length === DURATION_BOUNDS.length + 1 &&
    s.durationBuckets.every(num) &&
    ["durationSum", "requestBodyBytes", "responseBodyBytes", "inflight", "routeErrors", "strayErrors", "routeTimeouts", "processes", "workerRestarts"].every((k) => num(s[k])) &&
    record(s.refusals) &&
    Object.keys(s.refusals as object).every((k) => Object.hasOwn(REFUSALS, k)) &&
    record(s.stats) &&
    (s.memory === undefined || (record(s.memory) && ["rss", "heapTotal", "heapUsed"].every((k) => num((s.memory as Record<string, unknown>)[k]))))
  );
}
