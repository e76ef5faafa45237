// The fuzz suite's parts (test/fuzz.test.ts): generators of hostile HTTP/1.x
// requests as raw bytes, a client that sends one (or a keep-alive pair) on a fresh
// connection, and a strict reader of what comes back. Requests are latin1 strings:
// one character per byte, so every byte 0x00-0xFF can be written and printed.
import fc from "fast-check";
import net from "node:net";

/** The header names the fixture routes copy (test/fixtures/fuzz/route.ts, .cfg). */
export const ROUTE_HEADERS = ["X-A", "X-B", "User-Agent", "Accept", "Content-Type", "Cookie", "Authorization", "X-Ctype", "X-Reason"];
/** The query arguments the fixture routes copy. */
export const ROUTE_ARGS = ["a", "b", "q", "next", "x"];

/** A log event forged inside request data: it must never become a line of its own. */
export const FORGED_EVENT = "2026-01-01T00:00:00.000Z ERROR: <core>: forged";

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split("");
const UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~".split("");
const byteChar = (b: number) => String.fromCharCode(b);
const hex2 = (b: number) => b.toString(16).padStart(2, "0");

/** Pieces of request data, in proportions given by the caller: `clean` harmless
 * characters, percent escapes valid and not and the characters URL parsers treat
 * specially; `obs` raw bytes 0x80-0xFF (obs-text, raw UTF-8 good and broken);
 * `invalid` what no request line or header value may hold (every other byte: the
 * controls, CR, LF, NUL, DEL, a space, a forged log line after a line break). A
 * request with an invalid byte is refused by the parser, so the target and header
 * values get them rarely: the url check needs requests that reach the route. */
function piece(clean: number, obs: number, invalid: number, extra: fc.Arbitrary<string>[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: clean * 10, arbitrary: fc.constantFrom(...UNRESERVED) },
    { weight: clean, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([b, upper]) => "%" + (upper ? hex2(b).toUpperCase() : hex2(b))) },
    { weight: clean, arbitrary: fc.constantFrom("%", "%z", "%4", "%G1", "%%", "%0", "%00", "%2", "%e2%82", "%ff%fe", `%0a${FORGED_EVENT.replace(/ /g, "%20")}`) },
    { weight: clean, arbitrary: fc.constantFrom("+", "\\", "#", "?", "&", "=", "/", ";", ":", "@", "!", "$", "'", "(", ")", "*", ",", '"', "<", ">", "`", "{", "}", "|", "^", "[", "]") },
    { weight: obs, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map(byteChar) },
    { weight: obs, arbitrary: fc.constantFrom("\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xef\xbb\xbf") },
    { weight: invalid * 2, arbitrary: fc.integer({ min: 0, max: 255 }).map(byteChar) },
    { weight: invalid, arbitrary: fc.constantFrom(" ", "\t", "\r\n", "\n", "\r", "\0", "\x7f", "\x01", "\x1b", `\n${FORGED_EVENT}`, `\r\n${FORGED_EVENT}`, `\r${FORGED_EVENT}`) },
    ...extra.map((arbitrary) => ({ weight: clean, arbitrary })),
  );
}

/** bytes for a request target: raw non-ASCII in about one target in five, an invalid byte in one in ten */
const targetText = (maxLength: number) => fc.array(piece(30, 2, 1), { maxLength }).map((a) => a.join(""));
/** bytes for a header value: obs-text often, an invalid byte in about one request in eight */
const headerText = (maxLength: number, extra?: fc.Arbitrary<string>[]) => fc.array(piece(30, 20, 1, extra), { maxLength }).map((a) => a.join(""));
/** bytes anywhere: every byte, often */
const text = (maxLength: number) => fc.array(piece(3, 3, 3), { maxLength }).map((a) => a.join(""));
const token = (maxLength = 12) => fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 1, maxLength }).map((a) => a.join(""));

const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("", ".", "..", "%2e", "%2E%2e", ".%2E", "%2e.", "admin", "a", "b", "x.txt", "%2f", "%5c") },
  { weight: 5, arbitrary: targetText(8) },
);
const path = fc.array(segment, { maxLength: 6 }).map((s) => "/" + s.join("/"));
const argument = fc
  .tuple(fc.oneof(fc.constantFrom(...ROUTE_ARGS), targetText(4)), fc.option(targetText(10), { freq: 5 }))
  .map(([name, value]) => (value === null ? name : `${name}=${value}`));
const query = fc.oneof(
  { weight: 4, arbitrary: fc.array(argument, { maxLength: 4 }).map((a) => "?" + a.join("&")) },
  { weight: 1, arbitrary: targetText(16).map((q) => "?" + q) },
);
const originForm = fc
  .tuple(path, fc.option(query, { freq: 2 }), fc.option(targetText(8).map((f) => "#" + f), { freq: 6 }))
  .map(([p, q, f]) => p + (q ?? "") + (f ?? ""));
const absoluteForm = fc
  .tuple(fc.constantFrom("http://", "HTTP://", "https://"), fc.oneof(fc.constantFrom("example.com", "h:8080", "[::1]", "127.0.0.1:80"), targetText(6)), originForm)
  .map(([scheme, authority, rest]) => scheme + authority + rest);
/** a request target: origin-form mostly; sometimes any bytes, absolute-form or `*` */
export const target = fc.oneof(
  { weight: 20, arbitrary: originForm },
  { weight: 2, arbitrary: text(24).map((t) => "/" + t) }, // any byte, often
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }).map(byteChar), { maxLength: 16 }).map((a) => "/" + a.join("")) },
  { weight: 1, arbitrary: absoluteForm },
  { weight: 1, arbitrary: fc.constantFrom("*", "", "a", "//", "/?", "/#", "?x", "%2e%2e/x") },
);

const method = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH") },
  { weight: 1, arbitrary: token(10) },
  { weight: 1, arbitrary: fc.constantFrom("get", "Post", "SEARCH", "M-SEARCH", "PROPFIND", "CONNECT", "TRACE") },
);

const hostValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("127.0.0.1", "example.com", "h:8080", "[::1]:80", "[::1]", "H.Example:65535", "localhost", "a-b.c_d") },
  { weight: 2, arbitrary: fc.constantFrom("a/b", "a?b", "a#b", "a@b", "a b", "", " ", "h:99999", "evil/admin#", "h:", ":80", "[::1", "a\tb", "\xe9.com", "a\\b", "%41") },
  { weight: 2, arbitrary: headerText(10) },
);
/** no Host, one, or two (RFC 9112 §3.2 asks for exactly one in HTTP/1.1) */
const hosts = fc.oneof(
  { weight: 2, arbitrary: fc.constant([] as string[]) },
  { weight: 8, arbitrary: hostValue.map((h) => [h]) },
  { weight: 1, arbitrary: fc.tuple(hostValue, hostValue) },
);

/** headers the server frames the message with, kept out of the random ones: the
 * request's framing is the generator's to decide */
const FRAMING = new Set(["host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te", "trailer", "keep-alive"]);
const headerName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ROUTE_HEADERS) },
  { weight: 1, arbitrary: fc.constantFrom("x-a", "X-FORWARDED-FOR", "Set-Cookie", "Range", "If-None-Match") },
  { weight: 2, arbitrary: token(16).filter((n) => !FRAMING.has(n.toLowerCase())) },
);
const header = fc.tuple(headerName, headerText(24, [fc.constantFrom("text/plain", "application/json; charset=utf-8", "a=1; b=2", "Bearer x", "Basic YTpi")]));

/** one header made long: around max_header_size (8 KiB in the suite), past it, past every runtime's own limit */
const longHeader = fc.record({
  name: fc.constantFrom("X-A", "X-Long", "Cookie"),
  fill: fc.constantFrom("a", "\xe9", "%", " ", "\t"),
  length: fc.oneof(fc.integer({ min: 100, max: 4000 }), fc.integer({ min: 7000, max: 9000 }), fc.integer({ min: 9000, max: 20000 }), fc.constantFrom(70000)),
});

const body = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")) },
  { weight: 3, arbitrary: text(40) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("b", "\0", "\n", "\xff"), fc.oneof(fc.integer({ min: 1000, max: 16384 }), fc.integer({ min: 16385, max: 20000 })))
      .map(([fill, n]) => ({ fill, length: n }) as const),
  },
);

export interface FuzzRequest {
  method: string;
  /** latin1: one character per byte */
  target: string;
  version: "HTTP/1.0" | "HTTP/1.1";
  hosts: string[];
  headers: [string, string][];
  long: { name: string; fill: string; length: number } | null;
  /** Connection header: none, keep-alive or close */
  connection: "" | "keep-alive" | "close";
  body: string | { fill: string; length: number } | null;
  /** a body as Transfer-Encoding: chunked instead of Content-Length */
  chunked: boolean;
  /** "Content-Length: 0" on a request without a body */
  zeroLength: boolean;
}

const request: fc.Arbitrary<FuzzRequest> = fc.record({
  method,
  target,
  version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
  hosts,
  headers: fc.array(header, { maxLength: 6 }).chain((hs) =>
    // a repeat of a header already there, as clients and proxies send them
    hs.length === 0 ? fc.constant(hs) : fc.option(fc.integer({ min: 0, max: hs.length - 1 }), { freq: 4 }).map((i) => (i === null ? hs : [...hs, [hs[i][0], hs[i][1] + "2"] as [string, string]])),
  ),
  long: fc.option(longHeader, { freq: 10 }),
  connection: fc.constantFrom("", "", "", "keep-alive", "close"),
  body: fc.option(body, { freq: 2 }),
  chunked: fc.constantFrom(false, false, false, true),
  zeroLength: fc.boolean(),
}) as fc.Arbitrary<FuzzRequest>;

/** One connection: a request, or a keep-alive pair, to the TypeScript or the .cfg route. */
export interface FuzzCase {
  route: "ts" | "cfg";
  requests: FuzzRequest[];
}

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .record({ route: fc.constantFrom("ts", "cfg"), first: request, second: fc.option(request, { freq: 8 }) })
  .map(({ route, first, second }) => {
    const c: FuzzCase = { route, requests: second ? [first, second] : [first] };
    // fast-check prints a counterexample with this: the bytes sent, readable and replayable
    Object.defineProperty(c, fc.toStringMethod, { value: () => describeCase(c), enumerable: false });
    return c;
  });

export function bodyBytes(r: FuzzRequest): string {
  if (r.body === null) return "";
  return typeof r.body === "string" ? r.body : r.body.fill.repeat(r.body.length);
}

/** The request as the bytes sent (latin1). */
export function serialize(r: FuzzRequest): string {
  let head = `${r.method} ${r.target} ${r.version}\r\n`;
  for (const h of r.hosts) head += `Host: ${h}\r\n`;
  for (const [name, value] of r.headers) head += `${name}: ${value}\r\n`;
  if (r.long) head += `${r.long.name}: ${r.long.fill.repeat(r.long.length)}\r\n`;
  if (r.connection) head += `Connection: ${r.connection}\r\n`;
  const b = bodyBytes(r);
  if (r.body !== null && r.chunked) {
    head += "Transfer-Encoding: chunked\r\n\r\n";
    // chunks of a few sizes, a zero-size last one
    for (let i = 0, size = 1; i < b.length; i += size, size = size * 3 + 1) head += `${Math.min(size, b.length - i).toString(16)}\r\n${b.slice(i, i + size)}\r\n`;
    return head + "0\r\n\r\n";
  }
  if (r.body !== null || r.zeroLength) head += `Content-Length: ${b.length}\r\n`;
  return head + "\r\n" + b;
}

/** A request as a JavaScript string literal, runs of one character shortened, so
 * that a failure report can be read and replayed. */
export function describeRequest(r: FuzzRequest): string {
  const raw = serialize(r);
  return JSON.stringify(raw).replace(/(.)\1{31,}/g, (run, c) => `"+${JSON.stringify(c)}.repeat(${run.length})+"`);
}

export function describeCase(c: FuzzCase): string {
  return `${c.route} route: ${c.requests.map(describeRequest).join(" then ")}`;
}

// ---------------------------------------------------------------------------
// The client and a strict reader of HTTP/1.x responses

export interface ParsedResponse {
  statusLine: string;
  status: number;
  /** header lines as sent (latin1) */
  headerLines: string[];
  /** lower-case name -> values, in order */
  headers: Map<string, string[]>;
  body: Buffer;
  /** framed by the server closing the connection (no Content-Length, not chunked) */
  untilClose: boolean;
}

const STATUS_LINE = /^HTTP\/1\.[01] [1-5][0-9]{2}(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const HEADER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/;
/** RFC 9110 §5.5 / RFC 9112: the bytes a response head line may hold */
const HEAD_BYTES = /^[\t\x20-\x7e\x80-\xff]*$/;

type ReadResult = { responses: ParsedResponse[]; consumed: number; error?: string; incomplete: boolean };

/** Read the complete responses at the start of `buf`. `methods[i]` is the method of
 * the i-th request (a HEAD response has no body). `closed`: the server has closed,
 * which completes a response framed by the close. */
export function readResponses(buf: Buffer, methods: string[], closed: boolean): ReadResult {
  const responses: ParsedResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf("\r\n\r\n", pos, "latin1");
    if (end < 0) {
      if (buf.length - pos > 1 << 20) return { responses, consumed: pos, error: "a response head of over 1 MiB", incomplete: false };
      return { responses, consumed: pos, incomplete: true };
    }
    const lines = buf.subarray(pos, end).toString("latin1").split("\r\n");
    for (const line of lines) {
      if (!HEAD_BYTES.test(line)) {
        const bad = [...line].find((c) => !HEAD_BYTES.test(c))!;
        return { responses, consumed: pos, error: `byte 0x${hex2(bad.charCodeAt(0))} in the response head line ${JSON.stringify(line)}`, incomplete: false };
      }
    }
    const [statusLine, ...headerLines] = lines;
    if (!STATUS_LINE.test(statusLine)) return { responses, consumed: pos, error: `not a status line: ${JSON.stringify(statusLine)}`, incomplete: false };
    const headers = new Map<string, string[]>();
    for (const line of headerLines) {
      if (!HEADER_LINE.test(line)) return { responses, consumed: pos, error: `not a header line: ${JSON.stringify(line)}`, incomplete: false };
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, "")]);
    }
    const status = Number(statusLine.slice(9, 12));
    let p = end + 4;
    if (status < 200) {
      pos = p;
      continue; // interim
    }
    const lengths = headers.get("content-length");
    const te = headers.get("transfer-encoding");
    if (lengths && te) return { responses, consumed: pos, error: "a response with both Content-Length and Transfer-Encoding", incomplete: false };
    let body: Buffer = Buffer.alloc(0);
    let untilClose = false;
    const method = methods[responses.length] ?? "GET";
    if (method.toUpperCase() === "HEAD" || status === 204 || status === 304) {
      // no body
    } else if (te) {
      if (te.join(",").trim().toLowerCase() !== "chunked") return { responses, consumed: pos, error: `Transfer-Encoding ${te.join(",")}`, incomplete: false };
      const parts: Buffer[] = [];
      for (;;) {
        const le = buf.indexOf("\r\n", p, "latin1");
        if (le < 0) return { responses, consumed: pos, incomplete: true };
        const sizeText = buf.subarray(p, le).toString("latin1");
        if (!/^[0-9a-fA-F]+$/.test(sizeText)) return { responses, consumed: pos, error: `bad chunk size ${JSON.stringify(sizeText)}`, incomplete: false };
        const size = parseInt(sizeText, 16);
        if (size === 0) {
          if (buf.length < le + 4) return { responses, consumed: pos, incomplete: true };
          if (buf.toString("latin1", le + 2, le + 4) !== "\r\n") return { responses, consumed: pos, error: "a response trailer", incomplete: false };
          p = le + 4;
          break;
        }
        if (buf.length < le + 2 + size + 2) return { responses, consumed: pos, incomplete: true };
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (lengths) {
      if (new Set(lengths).size !== 1 || !/^[0-9]+$/.test(lengths[0])) return { responses, consumed: pos, error: `Content-Length ${lengths.join(", ")}`, incomplete: false };
      const n = Number(lengths[0]);
      if (buf.length < p + n) return { responses, consumed: pos, incomplete: true };
      body = buf.subarray(p, p + n);
      p += n;
    } else {
      // RFC 9112 §6.3: without either, the body runs to the close (Bun's own 400 and 413)
      if (!closed) return { responses, consumed: pos, incomplete: true };
      untilClose = true;
      body = buf.subarray(p);
      p = buf.length;
    }
    responses.push({ statusLine, status, headerLines, headers, body, untilClose });
    pos = p;
  }
  return { responses, consumed: pos, incomplete: false };
}

export interface Exchange {
  responses: ParsedResponse[];
  /** the server closed: FIN, or RST */
  closed: "" | "fin" | "rst";
  refused: boolean;
  timedOut: boolean;
  /** what could not be read as a response */
  error?: string;
  /** bytes after the last complete response */
  leftover: Buffer;
  /** how many requests were written */
  sent: number;
  raw: Buffer;
}

/** the connection carries no further request after this response: it says close, or
 * it ends with the close, or it made the connection a tunnel (2xx to CONNECT, RFC 9110 §9.3.6) */
const endsConnection = (res: ParsedResponse, method: string) =>
  (res.headers.get("connection") ?? []).some((v) => /(^|,)\s*close\s*(,|$)/i.test(v)) || res.untilClose || (method.toUpperCase() === "CONNECT" && res.status < 300);

/** Send the case's first request on a fresh connection; once its response came
 * and leaves the connection open, the second. Resolves when every request sent
 * has its response, the server closed, or timeoutMs passed. */
export function exchange(port: number, c: FuzzCase, timeoutMs: number): Promise<Exchange> {
  const methods = c.requests.map((r) => r.method);
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let sent = 0;
    let done = false;
    let closed: Exchange["closed"] = "";
    let refused = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks);
      const read = readResponses(raw, methods, closed !== "");
      resolve({ responses: read.responses, closed, refused, timedOut, error: read.error, leftover: raw.subarray(read.consumed), sent, raw });
    };
    const send = () => {
      sock.write(Buffer.from(serialize(c.requests[sent]), "latin1"));
      sent++;
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    sock.on("connect", send);
    sock.on("data", (d) => {
      chunks.push(d);
      const read = readResponses(Buffer.concat(chunks), methods, false);
      if (read.error) return finish(false);
      if (read.responses.length < sent) return;
      if (sent < c.requests.length && !endsConnection(read.responses[sent - 1], methods[sent - 1])) send();
      else finish(false);
    });
    sock.on("end", () => {
      closed ||= "fin";
      finish(false);
    });
    sock.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNREFUSED") refused = true;
      else closed = "rst";
      finish(false);
    });
  });
}
