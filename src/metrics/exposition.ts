// The Prometheus text exposition format (version 0.0.4) of a snapshot: what a
// scrape of the metrics path gets. Written here rather than by prom-client, which
// runs on Bun, Deno and Node alike but costs 300-450 ns a request to count with
// (the counting here is plain arithmetic, tens of ns), loads Node's
// compatibility layer on Deno (+14 MiB of RSS) and does not load from a plain
// bundle on workerd (its CommonJS requires "util"). test/metrics-units.test.ts
// checks this writer against prom-client's own output for the same figures,
// byte for byte (a blank line between families, as prom-client writes).
import { DURATION_BOUNDS, METHODS, REFUSAL_REASONS, REFUSALS, type MetricsSnapshot } from "./snapshot.ts";

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Each family's type and HELP text, in the order a scrape lists them. */
export const FAMILIES = {
  mhttpd_info: ["gauge", "mhttpd's version and the runtime serving, as labels"],
  mhttpd_requests_total: [
    "counter",
    "Requests that reached the handler, by method (other for a method not listed) and status sent (dropped: closed without a response); scrapes of the metrics path are not counted",
  ],
  mhttpd_request_duration_seconds: ["histogram", "Seconds from a request reaching the handler to its response being handed to the runtime"],
  mhttpd_requests_in_flight: ["gauge", "Requests admitted whose response is not decided yet"],
  mhttpd_request_body_bytes_total: ["counter", "Bytes of request bodies read"],
  mhttpd_response_body_bytes_total: ["counter", "Bytes of response bodies handed to the runtime (none for HEAD or a drop)"],
  mhttpd_route_errors_total: ["counter", "Route errors: thrown (a throw or rejection of the route) and stray (left behind outside the route's call)"],
  mhttpd_route_timeouts_total: ["counter", "Routes that had not replied at route_timeout (answered 503)"],
  mhttpd_refusals_total: ["counter", "Requests refused before the route, by the check that refused them and the status sent (none: the connection was closed without one)"],
  mhttpd_workers: ["gauge", "Serving processes whose figures are in this answer"],
  mhttpd_worker_restarts_total: ["counter", "Workers that died and were started again (workers > 1)"],
  mhttpd_stat: ["gauge", 'The route\'s statistics (modparam("statistics", "variable", ...), update_stat, reset_stat)'],
  process_resident_memory_bytes: ["gauge", "Resident memory of the server's processes, in bytes"],
  mhttpd_heap_total_bytes: ["gauge", "JavaScript heap reserved by the server's processes, in bytes"],
  mhttpd_heap_used_bytes: ["gauge", "JavaScript heap used by the server's processes, in bytes"],
} as const satisfies Record<string, readonly ["counter" | "gauge" | "histogram", string]>;

type Family = keyof typeof FAMILIES;

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
export function labelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** A HELP text: backslash and line feed escaped. */
export function helpText(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** A sample value: Prometheus reads Go's float syntax, which JavaScript's number
 * text is (1e-7, 12.5), with its own words for the infinities and NaN. */
export function sampleValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  return String(n);
}

type Labels = Record<string, string>;

export function sampleLine(name: string, value: number, labels?: Labels): string {
  const pairs = labels ? Object.entries(labels).map(([k, v]) => `${k}="${labelValue(v)}"`) : [];
  return `${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${sampleValue(value)}`;
}

class Writer {
  families: string[][] = [];
  #lines: string[] = [];

  family(name: Family): void {
    const [type, help] = FAMILIES[name];
    this.#lines = [`# HELP ${name} ${helpText(help)}`, `# TYPE ${name} ${type}`];
    this.families.push(this.#lines);
  }

  sample(name: string, value: number, labels?: Labels): void {
    this.#lines.push(sampleLine(name, value, labels));
  }

  one(name: Family, value: number): void {
    this.family(name);
    this.sample(name, value);
  }

  text(): string {
    return this.families.map((f) => f.join("\n")).join("\n\n") + "\n";
  }
}

const STATUS = /^(?:[1-9]\d\d|dropped)$/;

/** "GET 200" -> its labels, or undefined for a key no collector makes */
function requestLabels(key: string): Labels | undefined {
  const space = key.indexOf(" ");
  const method = key.slice(0, space);
  const status = key.slice(space + 1);
  if (space < 0 || !(METHODS as readonly string[]).includes(method) || !STATUS.test(status)) return undefined;
  return { method, status };
}

/** The snapshot as Prometheus text; `info` labels the mhttpd_info series. */
export function renderExposition(s: MetricsSnapshot, info: { version: string; runtime: string }): string {
  const w = new Writer();
  w.family("mhttpd_info");
  w.sample("mhttpd_info", 1, { version: info.version, runtime: info.runtime });

  w.family("mhttpd_requests_total");
  for (const key of Object.keys(s.requests).sort()) {
    const labels = requestLabels(key);
    if (labels) w.sample("mhttpd_requests_total", s.requests[key], labels);
  }

  w.family("mhttpd_request_duration_seconds");
  let cumulative = 0;
  DURATION_BOUNDS.forEach((bound, i) => {
    cumulative += s.durationBuckets[i];
    w.sample("mhttpd_request_duration_seconds_bucket", cumulative, { le: String(bound) });
  });
  cumulative += s.durationBuckets[DURATION_BOUNDS.length];
  w.sample("mhttpd_request_duration_seconds_bucket", cumulative, { le: "+Inf" });
  w.sample("mhttpd_request_duration_seconds_sum", s.durationSum);
  w.sample("mhttpd_request_duration_seconds_count", cumulative);

  w.one("mhttpd_requests_in_flight", s.inflight);
  w.one("mhttpd_request_body_bytes_total", s.requestBodyBytes);
  w.one("mhttpd_response_body_bytes_total", s.responseBodyBytes);

  w.family("mhttpd_route_errors_total");
  w.sample("mhttpd_route_errors_total", s.routeErrors, { kind: "thrown" });
  w.sample("mhttpd_route_errors_total", s.strayErrors, { kind: "stray" });
  w.one("mhttpd_route_timeouts_total", s.routeTimeouts);

  w.family("mhttpd_refusals_total");
  for (const key of REFUSAL_REASONS) w.sample("mhttpd_refusals_total", s.refusals[key] ?? 0, { ...REFUSALS[key] });

  w.one("mhttpd_workers", s.processes);
  w.one("mhttpd_worker_restarts_total", s.workerRestarts);

  const stats = Object.keys(s.stats).sort();
  if (stats.length > 0) {
    w.family("mhttpd_stat");
    for (const name of stats) w.sample("mhttpd_stat", s.stats[name], { name });
  }

  if (s.memory) {
    w.one("process_resident_memory_bytes", s.memory.rss);
    w.one("mhttpd_heap_total_bytes", s.memory.heapTotal);
    w.one("mhttpd_heap_used_bytes", s.memory.heapUsed);
  }
  return w.text();
}
