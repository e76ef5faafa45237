// The request target as every reader of it sees it: the route ($mhttpd(url),
// query, target), url_match/url_skip and the access log. One canonical form,
// whatever the runtime and whatever Host held (docs/limits-and-security.md,
// "The request target").

const utf8 = new TextDecoder("utf-8");
const utf8Encoder = new TextEncoder();

/** The request target (path and query, no fragment) of a request URL, in one
 * canonical form whatever the runtime and whatever Host held. The runtimes build
 * request.url differently: Bun gives the target alone ("/x?y") when Host is
 * missing and a WHATWG-normalized absolute URL otherwise; Deno glues
 * "http://" + Host + the raw target, dot segments and all; Node (@hono/node-server)
 * normalizes as Bun does. So the authority is cut off at the first "/", "?" or "#"
 * (the handler refuses a Host that could hold one before anything reads the
 * target, see isValidHost; `host` is for readers that come before that), and the rest
 * is normalized as the WHATWG URL parser does it (dot segments resolved, "\" as
 * "/", what must be percent-encoded encoded), which is what Bun and Node did
 * already: the same target on every runtime, with or without Host. */
export function targetOf(url: string, host?: string | null): string {
  if (url === lastUrl && host === undefined) return lastTarget;
  let target: string;
  if (url.charCodeAt(0) === 47 /* / */) target = url;
  else {
    const scheme = url.indexOf("://");
    let start = scheme < 0 ? 0 : scheme + 3;
    // Host not yet checked (the access log sees refused requests too): where the
    // runtime glued it in as it came, exactly that much is the authority
    if (host && url.startsWith(host, start) && "/?#".includes(url[start + host.length] ?? "/")) start += host.length;
    while (start < url.length && url[start] !== "/" && url[start] !== "?" && url[start] !== "#") start++;
    target = start >= url.length ? "/" : url[start] === "/" ? url.slice(start) : "/" + url.slice(start);
  }
  if (!CANONICAL_TARGET.test(target) || DOT_SEGMENT.test(target)) target = normalizeTarget(target);
  if (host === undefined) {
    lastUrl = url;
    lastTarget = target;
  }
  return target;
}

/** the last URL asked of targetOf (without a host): the filter and the context ask
 * for the same request's target in turn */
let lastUrl = "";
let lastTarget = "/";

/** A target the WHATWG URL parser leaves as it is, if it has no dot segment: ASCII
 * that needs no percent-encoding in a path or a query, no "\" and no fragment. */
const CANONICAL_TARGET = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/;
/** "." or ".." (or their %2e spellings) as a whole segment of the path */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:[/?#]|$)/i;

/** The target as the WHATWG URL standard parses a path and query of an http URL
 * (its "path state" and "query state"), written out rather than left to the
 * runtime's URL class: the runtimes do not agree. Node 20's (ada 2.9) keeps ".."
 * after a segment that starts with a dot (/static/.a/../../etc/passwd stays as it
 * is), and Deno's keeps a segment like "C:" before "..", as only file: URLs should.
 * Dot segments ("." ".." and their %2e spellings) are resolved, "\" is "/", a
 * fragment is dropped, and what the standard percent-encodes is encoded (UTF-8).
 * test/fuzz.test.ts checks this against whatwg-url, the standard's reference. */
function normalizeTarget(raw: string): string {
  // the standard strips trailing C0 controls and spaces, and removes tabs and
  // newlines anywhere, before parsing
  const target = raw.replace(/[\u0000-\u0020]+$/, "").replace(/[\t\n\r]/g, "");
  const path: string[] = [];
  let segment = "";
  let i = 1; // past the leading "/"
  for (; i <= target.length; i++) {
    const c = target[i];
    if (c === undefined || c === "/" || c === "\\" || c === "?" || c === "#") {
      const last = c !== "/" && c !== "\\";
      if (isDoubleDot(segment)) {
        path.pop();
        if (last) path.push("");
      } else if (isSingleDot(segment)) {
        if (last) path.push("");
      } else path.push(segment);
      segment = "";
      if (last) break;
    } else {
      // a surrogate pair is one character: encoded together
      const pair = isPairAt(target, i) ? target.slice(i, ++i + 1) : c;
      segment += encodeIn(pair, PATH_ENCODED);
    }
  }
  let query = "";
  if (target[i] === "?") {
    query = "?";
    for (i++; i < target.length && target[i] !== "#"; i++) query += encodeIn(isPairAt(target, i) ? target.slice(i, ++i + 1) : target[i], QUERY_ENCODED);
  }
  return "/" + path.join("/") + query;
}

const isSingleDot = (s: string) => s === "." || s.toLowerCase() === "%2e";
const isDoubleDot = (s: string) => {
  if (s.length !== 2 && s.length !== 4 && s.length !== 6) return false;
  const t = s.toLowerCase();
  return t === ".." || t === ".%2e" || t === "%2e." || t === "%2e%2e";
};

/** what the standard's path and special-query percent-encode sets add to the C0
 * control set (controls, and everything above 0x7E) */
const PATH_ENCODED = new Set([..." \"#<>?`{}"]);
const QUERY_ENCODED = new Set([..." \"#<>'"]);

const isPairAt = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
};

/** one character (a lone surrogate becomes U+FFFD) percent-encoded if
 * the set or the C0 control set says so */
function encodeIn(c: string, set: Set<string>): string {
  const code = c.charCodeAt(0);
  if (code > 0x20 && code < 0x7f && !set.has(c)) return c;
  let out = "";
  for (const b of utf8Encoder.encode(c)) out += "%" + (b < 16 ? "0" : "") + b.toString(16).toUpperCase();
  return out;
}

/** The path part of a request URL, without query or fragment (see targetOf). */
export function rawPath(url: string): string {
  const target = targetOf(url);
  const q = target.indexOf("?");
  return q < 0 ? target : target.slice(0, q);
}

/** Host holds what RFC 9112 §3.2 allows, as a URL parser reads it: nothing but
 * host[:port] (no userinfo, path, query or fragment), or is empty. A server must
 * answer 400 otherwise; it is also what keeps the authority of request.url from
 * holding a "/" that would move the path (Deno glues Host into the URL as it is).
 * The same rule as @hono/node-server's, so Node, which applies that one before
 * us, agrees with Bun and Deno. */
export function isValidHost(host: string): boolean {
  if (host === "") return true;
  if (SIMPLE_HOST.test(host)) return true;
  let u: URL;
  try {
    u = new URL(`http://${host}/`);
  } catch {
    return false;
  }
  if (u.username !== "" || u.password !== "" || u.pathname !== "/" || u.search !== "" || u.hash !== "") return false;
  const name = host.replace(/:\d+$/, "");
  return u.hostname.length === name.length || u.hostname === name.toLowerCase();
}
/** a DNS name or IPv4 address with an optional port up to 65535: no parse needed */
const SIMPLE_HOST = /^[A-Za-z0-9._-]+(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?$/;

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/** libmicrohttpd's unescape: valid %XX become bytes, anything else is kept literally
 * ("+" too), and an escaped NUL ends the path (as the C module's string does). */
export function decodePath(path: string): string {
  if (!path.includes("%")) return path;
  const bytes: number[] = [];
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < path.length) {
      const hi = hexVal(path.charCodeAt(i + 1));
      const lo = hexVal(path.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const b = (hi << 4) | lo;
        if (b === 0) break;
        bytes.push(b);
        i += 2;
        continue;
      }
    }
    if (c < 0x80) bytes.push(c);
    else for (const b of utf8Encoder.encode(path[i])) bytes.push(b);
  }
  return utf8.decode(new Uint8Array(bytes));
}
