// access_log = common | json: one line per request on stdout, written after the
// response has been handed to the runtime. Lines are batched per tick, so a busy
// server makes one write per event-loop turn rather than one per request.
// The method, target and client come from the request and can hold any byte: they
// are escaped so that one request stays one line, its quoted field unambiguous.
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

const HEX = Array.from({ length: 256 }, (_, b) => `\\x${b.toString(16).toUpperCase().padStart(2, "0")}`);
const utf8 = new TextEncoder();
const CLF_UNSAFE = /["\\\x00-\x1f\x7f-\uffff]+/g;

/** A Common Log Format field as nginx writes one with escape=default: `"`, `\`
 * and every byte below 0x20 or from 0x7F up (of the UTF-8) as `\xHH`, so log
 * parsers that split on quotes and spaces keep working. */
export function escapeClf(field: string): string {
  return field.replace(CLF_UNSAFE, (run) => {
    let out = "";
    for (const byte of utf8.encode(run)) out += HEX[byte];
    return out;
  });
}

/** JSON.stringify escapes `"`, `\` and C0 controls, but leaves DEL, the C1 controls
 * (U+0085 ends a line for Unicode-aware readers) and U+2028/U+2029 raw: valid
 * JSON, yet a line reader may split there. Outside strings JSON has none of them. */
const JSON_LINE_BREAKERS = /[\x7f-\x9f\u2028\u2029]/g;
const jsonEscape = (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** A JSON access log line: JSON.stringify, with nothing left that splits a line. */
export function jsonLine(entry: Record<string, unknown>): string {
  return JSON.stringify(entry).replace(JSON_LINE_BREAKERS, jsonEscape);
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
    const target = targetOf(c.req.url, c.req.raw.headers.get("host"));
    // a dropped request has no status: the connection was closed without one
    const dropped = from.dropped(c);
    const status = dropped ? null : (from.status(c) ?? c.res.status);
    const length = c.res.headers.get("content-length");
    const bytes = dropped ? null : length !== null ? Number(length) : (from.bytes(c) ?? null);
    const line =
      format === "json"
        ? jsonLine({ time: now.toISOString(), client: addr, method: c.req.method, target, status, bytes, duration_ms: ms })
        : `${addr === null ? "-" : escapeClf(addr)} - - [${clfTime(now)}] "${escapeClf(c.req.method)} ${escapeClf(target)} HTTP/1.1" ${status ?? "-"} ${bytes ?? "-"} ${ms}ms`;
    if (pending.push(line) === 1) setTimeout(flush, 0);
  };
}
