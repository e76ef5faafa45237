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

/** The target as the WHATWG URL parser writes it (Bun and Node do the same). The
 * base authority is a constant: nothing from the request can move the path. */
function normalizeTarget(target: string): string {
  try {
    const u = new URL("http://h" + target);
    return u.pathname + u.search;
  } catch {
    return "/";
  }
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
