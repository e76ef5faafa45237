// The Prometheus text exposition format (version 0.0.4) of a snapshot: what a
// scrape of the metrics path gets. Written here rather than by prom-client, which
// runs on Bun, Deno and Node alike but costs 300-450 ns a request to count with
// (the counting here is plain arithmetic, tens of ns), loads Node's
// compatibility layer on Deno (+14 MiB of RSS) and does not load from a plain
// bundle on workerd (its CommonJS requires "util"). test/metrics-units.test.ts
// checks this writer against prom-client's own output for the same figures.
import { DURATION_BOUNDS, METHODS, REFUSAL_REASONS, REFUSALS, type MetricsSnapshot } from "./snapshot.ts";

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
export function labelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** A HELP text: backslash and line feed escaped. */
function helpText(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** A sample value: Prometheus reads Go's float syntax, which JavaScript's number
 * text is (1e-7, 12.5), with its own words for the infinities and NaN. */
function sampleValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  return String(n);
}

type Labels = Record<string, string>;

class Writer {
  lines: string[] = [];

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${helpText(help)}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, value: number, labels?: Labels): void {
    const pairs = labels ? Object.entries(labels).map(([k, v]) => `${k}="${labelValue(v)}"`) : [];
    this.lines.push(`${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${sampleValue(value)}`);
  }

  one(name: string, type: "counter" | "gauge", help: string, value: number): void {
    this.family(name, type, help);
    this.sample(name, value);
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
  w.family("mhttpd_info", "gauge", "mhttpd's version and the runtime serving, as labels");
  w.sample("mhttpd_info", 1, { version: info.version, runtime: info.runtime });

  w.family("mhttpd_requests_total", "counter", "Requests answered, by method (other for a method not listed) and status sent (dropped: closed without a response); scrapes of the metrics path are not counted");
  for (const key of Object.keys(s.requests).sort()) {
    const labels = requestLabels(key);
    if (labels) w.sample("mhttpd_requests_total", s.requests[key], labels);
  }

  w.family("mhttpd_request_duration_seconds", "histogram", "Seconds from a request reaching mhttpd to its response being handed to the runtime");
  let cumulative = 0;
  DURATION_BOUNDS.forEach((bound, i) => {
    cumulative += s.durationBuckets[i];
    w.sample("mhttpd_request_duration_seconds_bucket", cumulative, { le: String(bound) });
  });
  cumulative += s.durationBuckets[DURATION_BOUNDS.length];
  w.sample("mhttpd_request_duration_seconds_bucket", cumulative, { le: "+Inf" });
  w.sample("mhttpd_request_duration_seconds_sum", s.durationSum);
  w.sample("mhttpd_request_duration_seconds_count", cumulative);

  w.one("mhttpd_requests_in_flight", "gauge", "Requests admitted whose response is not decided yet", s.inflight);
  w.one("mhttpd_request_body_bytes_total", "counter", "Bytes of request bodies read", s.requestBodyBytes);
  w.one("mhttpd_response_body_bytes_total", "counter", "Bytes of response bodies handed to the runtime", s.responseBodyBytes);

  w.family("mhttpd_route_errors_total", "counter", "Route errors: thrown (a throw or rejection of the route, answered 500) and stray (left behind outside the route's call)");
  w.sample("mhttpd_route_errors_total", s.routeErrors, { kind: "thrown" });
  w.sample("mhttpd_route_errors_total", s.strayErrors, { kind: "stray" });
  w.one("mhttpd_route_timeouts_total", "counter", "Routes that had not replied at route_timeout (answered 503)", s.routeTimeouts);

  w.family("mhttpd_refusals_total", "counter", "Requests refused before the route, by the check that refused them and the status sent (none: the connection was closed without one)");
  for (const key of REFUSAL_REASONS) w.sample("mhttpd_refusals_total", s.refusals[key] ?? 0, { ...REFUSALS[key] });

  w.one("mhttpd_workers", "gauge", "Processes serving whose figures are in this answer", s.processes);
  w.one("mhttpd_worker_restarts_total", "counter", "Workers that died and were started again (workers > 1)", s.workerRestarts);

  const stats = Object.keys(s.stats).sort();
  if (stats.length > 0) {
    w.family("mhttpd_stat", "gauge", 'The route\'s statistics (modparam("statistics", "variable", ...), update_stat, reset_stat)');
    for (const name of stats) w.sample("mhttpd_stat", s.stats[name], { name });
  }

  if (s.memory) {
    w.one("process_resident_memory_bytes", "gauge", "Resident memory of the server's processes, in bytes", s.memory.rss);
    w.one("mhttpd_heap_total_bytes", "gauge", "JavaScript heap reserved by the server's processes, in bytes", s.memory.heapTotal);
    w.one("mhttpd_heap_used_bytes", "gauge", "JavaScript heap used by the server's processes, in bytes", s.memory.heapUsed);
  }
  return w.lines.join("\n") + "\n";
}
