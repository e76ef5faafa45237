// access_log = common | json: one line per request on stdout, written after the
// response has been handed to the runtime. Lines are batched per tick, so a busy
// server makes one write per event-loop turn rather than one per request.
// The method, target and client come from the request and can hold any byte: they
// are escaped so that one request stays one line, its quoted field unambiguous.
import type { Exchange } from "./exchange.ts";
import { normalizeIp } from "./ip.ts";
import type { AccessLogFormat } from "./params.ts";
import { replyLength } from "./reply.ts";
import { targetOf } from "./target.ts";

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

/** The access log: (exchange, its response) => the same response, with one line
 * written once the response is decided (lines are batched per tick). */
export function accessLogger(format: Exclude<AccessLogFormat, "off">, write: (lines: string) => void) {
  let pending: string[] = [];
  const flush = () => {
    const lines = pending;
    pending = [];
    write(lines.join("\n"));
  };
  const record = (x: Exchange, res: Response, start: number): void => {
    const ms = Math.round((performance.now() - start) * 1000) / 1000;
    const now = new Date();
    const client = x.client;
    const addr = client === null ? null : normalizeIp(client);
    // Host not checked yet when the request was refused before that: read around it
    const target = targetOf(x.request.url, x.request.headers.get("host"));
    // a dropped request has no status: the connection was closed without one
    const status = x.dropped ? null : (x.reply?.status ?? res.status);
    const length = res.headers.get("content-length");
    const bytes = x.dropped ? null : length !== null ? Number(length) : x.reply ? replyLength(x.reply) : null;
    const line =
      format === "json"
        ? jsonLine({ time: now.toISOString(), client: addr, method: x.method, target, status, bytes, duration_ms: ms })
        : `${addr === null ? "-" : escapeClf(addr)} - - [${clfTime(now)}] "${escapeClf(x.method)} ${escapeClf(target)} ${x.httpVersion ?? "HTTP/1.1"}" ${status ?? "-"} ${bytes ?? "-"} ${ms}ms`;
    if (pending.push(line) === 1) setTimeout(flush, 0);
  };
  return (x: Exchange, res: Response | Promise<Response>, start: number): Response | Promise<Response> => {
    if (res instanceof Promise) return res.then((r) => (record(x, r, start), r));
    record(x, res, start);
    return res;
  };
}
