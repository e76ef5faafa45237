// mhttpd_reply(code, reason, ctype, body): validation and the Response it builds.
// The C module's rules, minus its bugs (see docs/differences.md):
//  - code 200..599 only: 1xx would be sent as a bare interim head and hang the
//    client in the C module, and 600..699 cannot be represented by a Fetch Response;
//  - the reason must be non-empty, but the status line carries the runtime's
//    standard phrase, as MHD does;
//  - the reason, the content type and every added header value hold only what
//    RFC 9110 allows in a field value (see FIELD_VALUE), checked here, when the
//    route hands them over: a runtime that meets any other byte later fails the
//    response (Node: 500), writes it raw (Bun) or panics and exits (Deno);
//  - 204 and 304 carry no body.

const utf8 = new TextEncoder();

/** RFC 9110 §5.5 field-value characters: HTAB, SP, VCHAR (0x21-0x7E) and obs-text
 * (0x80-0xFF, sent as that one byte). Everything else is refused: CR, LF and NUL
 * (header injection), the other controls and DEL (Deno panics on them, Bun writes
 * them to the wire), and characters above U+00FF, which no runtime can put in a
 * header (a Fetch header value is a byte string). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Why `text` cannot be a field value, naming the first byte that is refused, or
 * undefined when it can. */
export function fieldValueProblem(text: string): string | undefined {
  if (FIELD_VALUE.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 9 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff)) continue;
    if (c > 0xff) {
      const cp = text.codePointAt(i)!;
      return `contains U+${cp.toString(16).toUpperCase().padStart(4, "0")} at offset ${i}: a header carries bytes 0x00-0xFF only (percent-encode other characters)`;
    }
    const name = c === 13 ? "CR" : c === 10 ? "LF" : c === 0 ? "NUL" : c === 0x7f ? "DEL" : "a control character";
    return `contains ${name} (0x${c.toString(16).padStart(2, "0")}) at offset ${i}: only HTAB, 0x20-0x7E and 0x80-0xFF are allowed (RFC 9110 field value)`;
  }
  return undefined;
}

/** KEMI coerces an int parameter with duk_to_int: "200" -> 200, "abc" -> NaN -> refused. */
function toCode(code: unknown): number {
  const n = typeof code === "number" ? code : typeof code === "string" && code.trim() !== "" ? Number(code) : NaN;
  return Number.isFinite(n) ? Math.trunc(n) : NaN;
}

/** A validated reply, turned into a Response by the handler once the route ends. */
export interface Reply {
  status: number;
  /** "" = no Content-Type header */
  ctype: string;
  /** null for 204 and 304 */
  body: string | Uint8Array | ArrayBuffer | null;
  /** the content type or an added header holds obs-text (U+0080-U+00FF), which
   * goes on the wire as single bytes: an adapter that writes heads itself must
   * write this one as latin1 (known when the values are checked, not scanned again) */
  obsText?: boolean;
}

/** The last reason and content type that passed the checks: a route answers with
 * the same literals every time, and comparing one string is cheaper than a regex. */
let checkedReason = "OK";
let checkedType = "text/plain";
let checkedTypeObs = false;
const OBS_TEXT = /[\x80-\xff]/;

/** The reply, or why it is refused. */
export function buildReply(code: unknown, reason: unknown, ctype: unknown, body: unknown): Reply | string {
  const status = toCode(code);
  if (Number.isNaN(status)) return `invalid reply code ${JSON.stringify(String(code))}: not a number`;
  if (status < 200 || status > 599) {
    if (status >= 100 && status < 200) return `invalid reply code ${status}: 1xx codes are interim and cannot be a final reply (use 200..599)`;
    if (status >= 600 && status < 700) return `invalid reply code ${status}: 6xx codes cannot be represented by a Fetch Response (use 200..599)`;
    return `invalid reply code ${status}: expected 200..599`;
  }

  const reasonText = typeof reason === "string" ? reason : reason == null ? "" : String(reason);
  if (reasonText !== checkedReason) {
    if (reasonText === "") return "invalid reason parameter: must not be empty";
    const problem = fieldValueProblem(reasonText);
    if (problem) return `invalid reason parameter: ${problem}`;
    checkedReason = reasonText;
  }

  const type = typeof ctype === "string" ? ctype : ctype == null ? "" : String(ctype);
  if (type !== checkedType) {
    const problem = fieldValueProblem(type);
    if (problem) return `invalid content type parameter: ${problem}`;
    checkedType = type;
    checkedTypeObs = OBS_TEXT.test(type);
  }

  let payload: Reply["body"];
  if (status === 204 || status === 304) payload = null;
  else if (typeof body === "string" || body instanceof Uint8Array || body instanceof ArrayBuffer) payload = body;
  else payload = body == null ? "" : String(body);
  return checkedTypeObs ? { status, ctype: type, body: payload, obsText: true } : { status, ctype: type, body: payload };
}

/** The microhttpd functions, one implementation for KEMI (src/ksr.ts) and the cfg
 * language (src/cfg/functions.ts). Each returns why it refused, or undefined when
 * done; the caller logs with its own origin and returns -1 / 1. */
export interface ReplyTarget {
  reply: Reply | undefined;
  replyHeaders: [string, string][] | undefined;
  /** an added header's value holds obs-text (see Reply.obsText) */
  replyObsText: boolean;
  /** route_timeout passed: the client already got 503 */
  timedOut: boolean;
}

export function queueReply(ctx: ReplyTarget, code: unknown, reason: unknown, ctype: unknown, body: unknown): string | undefined {
  if (ctx.timedOut) return "the request passed route_timeout and was answered 503; reply refused";
  if (ctx.reply) return "a reply was already queued for this request (the first one stands)";
  const r = buildReply(code, reason, ctype, body);
  if (typeof r === "string") return r;
  ctx.reply = r;
  return undefined;
}

export function queueReplyHeader(ctx: ReplyTarget, name: unknown, value: unknown): string | undefined {
  if (ctx.timedOut) return "the request passed route_timeout and was answered 503; header refused";
  const error = checkReplyHeader(name, value);
  if (error) return error;
  const text = String(value);
  (ctx.replyHeaders ??= []).push([String(name), text]);
  if (OBS_TEXT.test(text)) ctx.replyObsText = true;
  return undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers that frame the message or the connection: the runtime owns them. */
const RESERVED = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer", "te"]);

/** mhttpd_reply_header(name, value): why the header is refused, or undefined. */
export function checkReplyHeader(name: unknown, value: unknown): string | undefined {
  const n = name == null ? "" : String(name);
  const v = value == null ? "" : String(value);
  if (!TOKEN.test(n)) return `invalid header name ${JSON.stringify(n)}: must be an HTTP token`;
  if (RESERVED.has(n.toLowerCase())) return `header ${n} is set by the server and cannot be added`;
  const problem = fieldValueProblem(v);
  if (problem) return `invalid value for header ${n}: ${problem}`;
  return undefined;
}

/** The body's length in bytes, as it goes on the wire. */
export function replyLength(reply: Reply): number {
  const b = reply.body;
  if (b === null) return 0;
  return typeof b === "string" ? utf8.encode(b).length : b.byteLength;
}

/** A reply on its way to the runtime (RequestAdapter.respond). */
export interface OutgoingReply {
  reply: Reply;
  /** the headers mhttpd_reply_header added */
  headers: [string, string][] | undefined;
  /** the server is draining: the connection closes after this response (an
   * adapter that writes the response itself says Connection: close) */
  close: boolean;
  /** the head holds obs-text (U+0080-U+00FF), to be written as latin1 bytes */
  obsText: boolean;
}

/** A reply's headers as a plain record (Set-Cookie as an array), for adapters that
 * write the response themselves. mhttpd_reply's ctype wins over an added
 * Content-Type unless it is empty; an empty ctype and none added = no Content-Type. */
export function replyHeaderRecord(outgoing: OutgoingReply): Record<string, string | string[]> {
  const { reply, headers: extra } = outgoing;
  // no prototype: a header named constructor or __proto__ is just a header
  const out: Record<string, string | string[]> = Object.create(null);
  if (extra) {
    for (const [k, v] of extra) {
      const key = k.toLowerCase();
      if (key === "content-type" && reply.ctype !== "") continue;
      const prev = out[key];
      if (prev === undefined) out[key] = v;
      else if (key === "set-cookie") out[key] = Array.isArray(prev) ? [...prev, v] : [prev, v];
      else out[key] = `${prev}, ${v}`;
    }
  }
  if (reply.ctype !== "") out["content-type"] = reply.ctype;
  if (outgoing.close) out["connection"] = "close";
  return out;
}

/** The Response init of a 200 reply of each content type, made once: the
 * constructor copies it, and routes answer with a handful of types. */
const okInits = new Map<string, ResponseInit>();
function okInit(ctype: string): ResponseInit {
  let init = okInits.get(ctype);
  if (init === undefined) {
    init = { status: 200, headers: { "content-type": ctype } };
    if (okInits.size < 64) okInits.set(ctype, init);
  }
  return init;
}

/** The Response for a reply. An empty ctype must mean no Content-Type at all, but
 * the Fetch API labels a string body text/plain: such bodies go out as bytes,
 * through the runtime's `untyped` hook where the runtime labels bytes too.
 * (Connection: close while draining is set on the Response by the pipeline.) */
export function replyResponse(outgoing: OutgoingReply, untyped?: (status: number, bytes: Uint8Array, headers: Headers) => Response): Response {
  const { status, ctype, body } = outgoing.reply;
  const extra = outgoing.headers;
  if (!extra && ctype !== "") return new Response(body as BodyInit | null, status === 200 ? okInit(ctype) : { status, headers: { "content-type": ctype } });
  const headers = new Headers();
  // added headers go out as given (Set-Cookie may repeat); mhttpd_reply's ctype
  // wins over an added Content-Type unless it is empty
  if (extra) for (const [k, v] of extra) if (ctype === "" || k.toLowerCase() !== "content-type") headers.append(k, v);
  if (ctype !== "") headers.set("content-type", ctype);
  if (body === null || headers.has("content-type")) return new Response(body as BodyInit | null, { status, headers });
  const bytes = typeof body === "string" ? utf8.encode(body) : body instanceof Uint8Array ? body : new Uint8Array(body);
  return untyped ? untyped(status, bytes, headers) : new Response(bytes as BodyInit, { status, headers });
}
