// access_log = common | json: one line per request on stdout, written after the
// response has been handed to the runtime. Lines are batched per tick, so a busy
// server makes one write per event-loop turn rather than one per request.
import type { Context, MiddlewareHandler } from "hono";
import { normalizeIp } from "./ip.ts";
import { targetOf } from "./context.ts";

export type AccessLogFormat = "off" | "common" | "json";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Common Log Format's time: [26/Nov/2026:23:10:00 +0000] */
function clfTime(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** What the handler knows of a request that the response object does not tell. */
export interface AccessLogSources {
  /** null: a trusted proxy forwarded something that is not an address */
  client(c: Context): string | null;
  /** closed without a response (drop) */
  dropped(c: Context): boolean;
  /** body length of a route's reply, when the Response has no Content-Length */
  bytes(c: Context): number | undefined;
  /** status of a reply the adapter wrote itself (its Response is a marker) */
  status(c: Context): number | undefined;
}

export function accessLog(format: Exclude<AccessLogFormat, "off">, write: (lines: string) => void, from: AccessLogSources): MiddlewareHandler {
  let pending: string[] = [];
  const flush = () => {
    const lines = pending;
    pending = [];
    write(lines.join("\n"));
  };
  return async (c, next) => {
    const start = performance.now();
    await next();
    const ms = Math.round((performance.now() - start) * 1000) / 1000;
    const now = new Date();
    const client = from.client(c);
    const addr = client === null ? null : normalizeIp(client);
    const target = targetOf(c.req.url);
    // a dropped request has no status: the connection was closed without one
    const dropped = from.dropped(c);
    const status = dropped ? null : (from.status(c) ?? c.res.status);
    const length = c.res.headers.get("content-length");
    const bytes = dropped ? null : length !== null ? Number(length) : (from.bytes(c) ?? null);
    const line =
      format === "json"
        ? JSON.stringify({ time: now.toISOString(), client: addr, method: c.req.method, target, status, bytes, duration_ms: ms })
        : `${addr ?? "-"} - - [${clfTime(now)}] "${c.req.method} ${target} HTTP/1.1" ${status ?? "-"} ${bytes ?? "-"} ${ms}ms`;
    if (pending.push(line) === 1) setTimeout(flush, 0);
  };
}
