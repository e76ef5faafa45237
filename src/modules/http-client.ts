// Kamailio's http_client module over the runtime's fetch: one engine behind the
// cfg functions (src/cfg/http-client.ts) and KSR.http_client (below), as Kamailio
// exports one C function to both. It works wherever fetch does: Bun, Deno, Node
// and workerd.
//
// What comes back is bounded and what goes out is checked: a body is read up to
// maxdatasize bytes (or BODY_CAP when that is 0), a header line from the route must
// be one well-formed field, only http and https URLs are fetched, and every
// transfer ends at connection_timeout and when the request's abort signal fires
// (route_timeout, the client going away), so an upstream never holds a request
// longer than its route may run. Any failure is -1, one error log line naming the
// call, the URL and the cause, and cURL's words for it in $curlerror.
import type { RequestContext } from "../context.ts";
import { L_ERR, type Logger } from "../log.ts";
import { fieldValueProblem } from "../reply.ts";
import {
  classifyBodyError,
  classifyFetchError,
  curlErrorText,
  CURLE_ABORTED_BY_CALLBACK,
  CURLE_BAD_FUNCTION_ARGUMENT,
  CURLE_OPERATION_TIMEDOUT,
  CURLE_UNSUPPORTED_PROTOCOL,
  CURLE_URL_MALFORMAT,
  CURLE_WRITE_ERROR,
  type TransferError,
} from "./curl-errors.ts";
import { timeoutMs, type HttpConnection } from "./http-client-config.ts";
import { callState, httpClientSettings } from "./http-client-state.ts";

/** The most a response body may hold when maxdatasize is 0 (Kamailio's limit is its
 * process memory, 8 MiB by default: a larger body fails there with cURL error 23). */
export const BODY_CAP = 8 * 1024 * 1024;

/** One outgoing request. */
export interface Call {
  /** who asks, for the log: "http_client_query", "file.cfg:12: http_connect" */
  what: string;
  method: string;
  url: string;
  /** "" = none */
  body: string;
  /** Kamailio's hdrs argument: header lines, CRLF (or LF) between them */
  hdrs: string;
  /** Content-Type of a body when hdrs has none (cURL's default for posted data) */
  contentType: string;
  timeoutMs: number;
  follow: boolean;
  /** bytes of body to keep; 0 = BODY_CAP, and more is an error */
  maxdatasize: number;
  /** keep the body's first line only (query_result 1) */
  oneline: boolean;
  useragent: string;
}

/** How a call ended: the response's status and body, or the cURL code of its failure. */
export type Outcome = { status: number; body: string; url: string } | TransferError;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers that frame the request or manage its connection, and Host: fetch sets
 * them, and the runtimes disagree on one given anyway (Node waits for a body of a
 * given Content-Length, Deno sends a Transfer-Encoding it is handed, Bun sends a
 * given Host where Node and Deno drop it), so none may come from the route. */
export const FETCH_OWNED = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "upgrade", "te", "trailer", "expect"]);
const utf8 = new TextDecoder();

/** The hdrs argument as header fields, or why it cannot be sent. A trailing line
 * break is allowed (Kamailio configs often end hdrs with \r\n); any other empty line
 * would end the head early, so it is refused, as is anything not "Name: value". */
export function parseHeaderLines(hdrs: string): [string, string][] | string {
  const out: [string, string][] = [];
  const lines = hdrs.replace(/(\r?\n)+$/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "" && lines.length === 1) break;
    if (line === "") return `header line ${i + 1} is empty: an empty line would end the request's head (separate header lines with one CRLF)`;
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    if (!TOKEN.test(name)) return `header line ${i + 1} ${JSON.stringify(line.slice(0, 80))} is not "Name: value"`;
    if (FETCH_OWNED.has(name.toLowerCase())) return `header ${name} is set by fetch from the URL and the body: it cannot come from the route`;
    const value = line.slice(colon + 1).trim();
    const problem = fieldValueProblem(value);
    if (problem) return `header ${name}: the value ${problem}`;
    out.push([name, value]);
  }
  return out;
}

/** The URL without its credentials, for the log. */
function shown(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

/** The request fetch() gets, or why there can be none. */
function buildRequest(call: Call): { url: URL; init: RequestInit & { headers: Headers } } | TransferError {
  let url: URL;
  try {
    url = new URL(call.url);
  } catch {
    return { code: CURLE_URL_MALFORMAT, detail: "not a valid absolute URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { code: CURLE_UNSUPPORTED_PROTOCOL, detail: `scheme "${url.protocol.slice(0, -1)}" is not http or https` };
  if (!TOKEN.test(call.method)) return { code: CURLE_BAD_FUNCTION_ARGUMENT, detail: `method ${JSON.stringify(call.method)} is not an HTTP token` };
  if (/^(CONNECT|TRACE|TRACK)$/i.test(call.method)) return { code: CURLE_BAD_FUNCTION_ARGUMENT, detail: `fetch does not send ${call.method.toUpperCase()} requests` };
  if (call.body !== "" && (call.method === "GET" || call.method === "HEAD")) {
    return { code: CURLE_BAD_FUNCTION_ARGUMENT, detail: `fetch cannot send a body with ${call.method}` };
  }
  const lines = parseHeaderLines(call.hdrs);
  if (typeof lines === "string") return { code: CURLE_BAD_FUNCTION_ARGUMENT, detail: lines };
  const headers = new Headers();
  headers.set("user-agent", call.useragent);
  headers.set("accept", "*/*");
  // credentials in the URL go as Basic, as cURL sends them (fetch refuses such URLs on Node)
  if (url.username || url.password) {
    headers.set("authorization", `Basic ${btoa(unescapeBytes(`${percentDecoded(url.username)}:${percentDecoded(url.password)}`))}`);
    url.username = "";
    url.password = "";
  }
  if (call.body !== "") headers.set("content-type", call.contentType);
  const replaced = new Set<string>();
  for (const [name, value] of lines) {
    const key = name.toLowerCase();
    if (!replaced.has(key)) headers.delete(key);
    replaced.add(key);
    headers.append(name, value);
  }
  return { url, init: { method: call.method, headers, body: call.body === "" ? undefined : call.body, redirect: call.follow ? "follow" : "manual" } };
}

/** decodeURIComponent, or the text as it is where it holds a "%" that is no escape. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** UTF-8 text as the one-byte characters btoa takes. */
function unescapeBytes(text: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(text)) out += String.fromCharCode(b);
  return out;
}

/** Run one call: the transfer under connection_timeout and the request's signal. */
export async function perform(call: Call, signal: AbortSignal | undefined): Promise<Outcome & { headers?: Headers }> {
  const built = buildRequest(call);
  if ("code" in built) return built;
  if (signal?.aborted) return { code: CURLE_ABORTED_BY_CALLBACK, detail: abortWords(signal) };
  const abort = new AbortController();
  let timedOut = false;
  const timer = call.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), abort.abort(new DOMException("connection_timeout passed", "TimeoutError"))), call.timeoutMs) : undefined;
  const onAbort = () => abort.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const stopped = (): TransferError | undefined =>
    timedOut ? { code: CURLE_OPERATION_TIMEDOUT, detail: `no complete answer within ${call.timeoutMs} ms (connection_timeout)` } : signal?.aborted ? { code: CURLE_ABORTED_BY_CALLBACK, detail: abortWords(signal) } : undefined;
  try {
    let response: Response;
    try {
      response = await fetch(built.url, { ...built.init, signal: abort.signal });
    } catch (e) {
      return stopped() ?? classifyFetchError(e);
    }
    const status = response.status;
    // cURL keeps the body of 2xx, 3xx and 4xx answers only
    if (status < 200 || status >= 500) {
      void response.body?.cancel().catch(() => {});
      return { status, body: "", url: response.url || built.url.href, headers: response.headers };
    }
    const body = await readBounded(response, call.maxdatasize, call.oneline);
    if (typeof body !== "string") return stopped() ?? body;
    return { status, body, url: response.url || built.url.href, headers: response.headers };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

function abortWords(signal: AbortSignal): string {
  const r = signal.reason as { name?: string; message?: string } | undefined;
  return r?.name === "TimeoutError" ? "route_timeout passed" : `the request was aborted (${r?.message ?? "the client went away"})`;
}

/** The body as text: up to `max` bytes (truncated there, as cURL's maxdatasize), or
 * up to BODY_CAP when `max` is 0 (more is an error: a route never holds an
 * unbounded body); with `oneline`, up to the first LF, without reading further. */
async function readBounded(response: Response, max: number, oneline: boolean): Promise<string | TransferError> {
  const limit = max > 0 ? max : BODY_CAP;
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const lf = oneline ? value.indexOf(10) : -1;
      const end = lf >= 0 ? lf : value.length;
      const room = limit - total;
      if (end > room) {
        if (max === 0) return { code: CURLE_WRITE_ERROR, detail: `the response body is larger than ${BODY_CAP} bytes (set maxdatasize to keep its beginning)` };
        chunks.push(value.subarray(0, room));
        total += room;
        break;
      }
      chunks.push(value.subarray(0, end));
      total += end;
      if (lf >= 0) break;
    }
  } catch (e) {
    return classifyBodyError(e);
  } finally {
    void reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) (all.set(c, at), (at += c.length));
  return utf8.decode(all);
}

/** Record a call's outcome in the request's state, log a failure; the code
 * Kamailio's function returns (the status, or -1) and the text for the result
 * variable ("" when there is no body to keep). */
export function settle(ctx: RequestContext | undefined, logger: Logger, call: Call, out: Outcome & { headers?: Headers }, connection?: string): { code: number; result: string } {
  const state = callState(ctx);
  if ("code" in out) {
    state.lastError = curlErrorText(out.code);
    logger.log(L_ERR, `${call.what}: ${call.method} ${shown(call.url)} failed: ${state.lastError} (cURL error ${out.code}): ${out.detail}`, "<script>");
    return { code: -1, result: "" };
  }
  state.lastError = null;
  state.headers = state.storeHeaders ? (out.headers ?? null) : null;
  if (connection !== undefined) state.lastUrl.set(connection, out.url);
  return { code: out.status, result: out.body };
}

/** The settings a query function (http_client_query, _get, _request) runs with. */
export function queryCall(what: string, method: string, url: string, body: string, hdrs: string): Call {
  const s = httpClientSettings();
  return {
    what,
    method,
    url,
    body,
    hdrs,
    contentType: "application/x-www-form-urlencoded",
    timeoutMs: timeoutMs(s),
    follow: s.followRedirect,
    maxdatasize: s.queryMaxdatasize,
    oneline: s.queryResult === 1,
    useragent: s.useragent,
  };
}

/** http_connect on a declared connection: its URL is the connection's base URL and
 * `path` ("/" added between them unless `path` starts with one); with a failover
 * connection, a failure or a 5xx answer is tried once more there. */
export async function connect(
  ctx: RequestContext | undefined,
  logger: Logger,
  what: string,
  name: string,
  path: string,
  post: { ctype: string; data: string } | undefined,
): Promise<{ code: number; result: string }> {
  const active = httpClientSettings();
  const first = active.connections.get(name);
  if (!first) {
    logger.log(L_ERR, `${what}: no connection "${name}" (declare it with modparam("http_client", "httpcon", "${name}=>http://host/path"))`, "<script>");
    return { code: -1, result: "" };
  }
  const state = callState(ctx);
  let conn: HttpConnection = first;
  for (let attempt = 0; ; attempt++) {
    const call = connectionCall(what, conn, path, post);
    state.lastUrl.set(conn.name, "");
    const out = await perform(call, ctx?.signal);
    const failed = "code" in out || out.status >= 500;
    const next: HttpConnection | undefined = conn.failover === undefined ? undefined : active.connections.get(conn.failover);
    if (failed && next && attempt === 0) {
      if (!("code" in out)) state.lastUrl.set(conn.name, out.url);
      logger.log(L_ERR, `${what}: connection "${conn.name}" ${"code" in out ? `failed (${curlErrorText(out.code)})` : `answered ${out.status}`}: trying failover connection "${next.name}"`, "<script>");
      conn = next;
      continue;
    }
    return settle(ctx, logger, call, out, conn.name);
  }
}

function connectionCall(what: string, c: HttpConnection, path: string, post: { ctype: string; data: string } | undefined): Call {
  const auth = c.username === undefined ? "" : `${encodeURIComponent(c.username)}${c.password === undefined ? "" : `:${encodeURIComponent(c.password)}`}@`;
  const url = `${c.schema}://${auth}${c.base}${path === "" ? "" : `${path.startsWith("/") ? "" : "/"}${path}`}`;
  return {
    what,
    // empty data is no data: a GET, as curl_con_query_url_f does
    method: post && post.data !== "" ? "POST" : "GET",
    url,
    body: post?.data ?? "",
    hdrs: "",
    contentType: post?.ctype || "text/plain",
    timeoutMs: timeoutMs(httpClientSettings(), c.timeout),
    follow: c.followRedirect,
    maxdatasize: c.maxdatasize,
    oneline: false,
    useragent: c.useragent,
  };
}
