// A reference for what $mhttpd(url) and $mhttpd(query) must be for a raw request
// target, written from the specifications and the C module's library, not from
// src/: the tests that compare against it (test/fuzz.test.ts, test/cfg-live.test.ts)
// must not agree with the code by sharing its mistakes. Nothing here may import src/.

import { URL as WhatwgUrl } from "whatwg-url";

const utf8 = new TextDecoder("utf-8");

/** The raw target bytes as a runtime hands them to the Fetch API: Bun reads bytes
 * 0x80-0xFF of the request line as UTF-8, an invalid sequence becoming U+FFFD (Deno
 * and Node answer 400 to such a target, which needs no reference). */
export function targetAsRuntimeReadsIt(raw: Uint8Array): string {
  return utf8.decode(raw);
}

/** pathname and search of a request target, as the WHATWG URL parser resolves it
 * (dot segments, "\" as "/", the fragment dropped, what must be percent-encoded
 * encoded), by whatwg-url, the standard's reference implementation in JavaScript:
 * not the platform's URL class, which the runtimes do not agree on (Node 20's keeps
 * ".." after a segment that starts with a dot; Deno's keeps "C:" before "..").
 * Origin-form is read against a constant authority, so nothing in the target can
 * move the path. Absolute-form (RFC 9112 §3.2.2) is covered only with an authority
 * that is a plain host[:port], where RFC 3986 and WHATWG agree on where the path
 * starts (they do not for "http:///x" or "http://a\b/x"). undefined for any other
 * form (`*`, a bare word) or a target the parser refuses. */
export function whatwgTarget(target: string): { pathname: string; search: string } | undefined {
  let url: WhatwgUrl;
  try {
    if (target.startsWith("/")) url = new WhatwgUrl("http://h" + target);
    else if (PLAIN_ABSOLUTE.test(target)) url = new WhatwgUrl(target);
    else return undefined;
  } catch {
    return undefined;
  }
  return { pathname: url.pathname, search: url.search };
}
const PLAIN_ABSOLUTE = /^https?:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?(?:[/?#]|$)/i;

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** libmicrohttpd's MHD_http_unescape as the C module applies it to the path, to
 * bytes: each valid %XX becomes that byte, a "%" not followed by two hex digits
 * stays as it is, "+" stays "+", and the first escaped NUL ends the string (the
 * module hands Kamailio a C string). */
export function mhdUnescapeBytes(path: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === 0x25 && i + 2 < path.length) {
      const hi = hexDigit(path[i + 1]);
      const lo = hexDigit(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        const byte = hi * 16 + lo;
        if (byte === 0) break;
        out.push(byte);
        i += 2;
        continue;
      }
    }
    out.push(c);
  }
  return Uint8Array.from(out);
}

/** mhdUnescapeBytes of a string's UTF-8 bytes, read back as UTF-8 (U+FFFD for an
 * invalid sequence): what a route gets as $mhttpd(url) for that path. */
export function mhdUnescape(path: string): string {
  return utf8.decode(mhdUnescapeBytes(new TextEncoder().encode(path)));
}

/** The same unescape on a latin1 string (one character per byte), giving latin1:
 * how the recorded C-module logs (stored as latin1) show a decoded path. */
export function mhdUnescapeLatin1(path: string): string {
  return Buffer.from(mhdUnescapeBytes(Buffer.from(path, "latin1"))).toString("latin1");
}

/** $mhttpd(url) and $mhttpd(query) for the raw bytes of a request target, or
 * undefined when the target is in no form the reference covers. */
export function referenceUrlAndQuery(rawTarget: Uint8Array): { url: string; query: string } | undefined {
  const t = whatwgTarget(targetAsRuntimeReadsIt(rawTarget));
  if (!t) return undefined;
  return { url: mhdUnescape(t.pathname), query: t.search.replace(/^\?/, "") };
}
