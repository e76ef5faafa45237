// The per-request mhttpd context: what $mhttpd(...) reads and mhttpd_reply writes.
// Built from a Fetch API Request plus the connection info the adapter captured.
// Everything that costs work (path decoding, UTF-8 decoding of the body) is done
// on first access only: most routes read two or three variables.
import { normalizeIp } from "./ip.ts";
import type { Logger } from "./log.ts";
import type { Reply } from "./reply.ts";
import type { RunScope } from "./run-scope.ts";
import { decodePath, rawPath, targetOf } from "./target.ts";

export interface ConnInfo {
  /** peer address as the runtime reports it, normalized (no ::ffff:) by the context;
   * null when a trusted proxy forwarded something that is not an address */
  remoteAddress: string | null;
  remotePort?: number;
  /** "HTTP/1.0" / "HTTP/1.1" / "HTTP/2" where the runtime tells it */
  httpVersion?: string;
  /** the local socket the request came in on, where the runtime tells us */
  localAddress?: string;
  localPort?: number;
}

const EMPTY = new Uint8Array(0);

/** the authority of an absolute URL; null for a URL that is only a target */
function authorityOf(url: string): string | null {
  const start = url.indexOf("://");
  if (start < 0) return null;
  const end = url.slice(start + 3).search(/[/?#]/);
  return end < 0 ? url.slice(start + 3) : url.slice(start + 3, start + 3 + end);
}

const utf8 = new TextDecoder("utf-8");

export class RequestContext {
  /** the reply queued by mhttpd_reply; the first one wins */
  reply: Reply | undefined = undefined;
  /** headers added by mhttpd_reply_header, sent with the reply */
  replyHeaders: [string, string][] | undefined = undefined;
  /** an added header's value holds obs-text (src/reply.ts) */
  replyObsText = false;
  /** drop: close the connection without a response */
  dropped = false;
  #path: string | undefined;
  #data: string | undefined;
  /** this request's KSR facade, made by src/ksr.ts (ksrOf) on first use: a .cfg
   * route never makes one */
  ksrSlot: object | undefined = undefined;
  /** route_timeout passed: the client got 503 and this request's KSR stops acting */
  timedOut = false;
  /** the response is decided: a later abort of the runtime's signal is not a disconnect */
  settled = false;
  #abort: AbortController | undefined;
  /** the run state of the .cfg route serving this request: its $rc, and its own
   * $var/$vn while it can suspend (src/run-scope.ts) */
  scope: RunScope | undefined = undefined;
  /** set when this context runs a timer's route (rtimer), not an HTTP request:
   * $mhttpd(...) reads null and a reply is refused */
  timer: { name: string; worker: number } | undefined = undefined;

  constructor(
    readonly request: Request,
    readonly conn: ConnInfo,
    readonly body: Uint8Array = EMPTY,
    readonly logger: Logger,
  ) {}

  /** Aborted when the client goes away before the response, or at route_timeout.
   * Made on first use, so routes that never look at it pay nothing. */
  get signal(): AbortSignal {
    if (!this.#abort) {
      const abort = (this.#abort = new AbortController());
      // some runtimes also abort request.signal after a normal response: ignored once settled
      const runtime = this.request.signal;
      const forward = () => {
        if (!this.settled) abort.abort(new DOMException("the client went away", "AbortError"));
      };
      if (this.timedOut) abort.abort(new DOMException("route_timeout passed", "TimeoutError"));
      else if (runtime.aborted) forward();
      else runtime.addEventListener("abort", forward, { once: true });
    }
    return this.#abort.signal;
  }

  /** Abort the route's signal (route_timeout); a no-op when nobody is listening. */
  abort(reason: unknown): void {
    if (this.#abort && !this.#abort.signal.aborted) this.#abort.abort(reason);
  }

  get method(): string {
    return this.request.method;
  }

  get version(): string {
    return this.conn.httpVersion ?? "HTTP/1.1";
  }

  get srcip(): string | null {
    const addr = this.conn.remoteAddress;
    return addr === null ? null : normalizeIp(addr);
  }

  /** $mhttpd(url): the percent-decoded path without the query, as libmicrohttpd gives it. */
  get url(): string {
    return (this.#path ??= decodePath(rawPath(this.request.url)));
  }

  /** $mhttpd(data): the whole body as UTF-8 text; binary-safe through `body`. */
  get data(): string {
    return (this.#data ??= this.body.length === 0 ? "" : utf8.decode(this.body));
  }

  /** $mhttpd(target): path and query as the URL parser gives them (dot segments
   * resolved, non-ASCII percent-encoded). */
  get target(): string {
    return targetOf(this.request.url);
  }

  /** $mhttpd(query): the raw query string without "?", "" when none. */
  get query(): string {
    const target = this.target;
    const q = target.indexOf("?");
    return q < 0 ? "" : target.slice(q + 1);
  }

  /** $mhttpd(arg:name): the first value of a query argument, decoded; null when absent. */
  arg(name: string): string | null {
    const query = this.query;
    return query === "" ? null : new URLSearchParams(query).get(name);
  }

  get scheme(): string {
    return this.request.url.startsWith("https:") ? "https" : "http";
  }

  /** $mhttpd(hdrc:Name): how many times the header was sent. The Fetch API joins
   * repeats with ", ", so this counts the joined parts; Set-Cookie is exact. */
  headerCount(name: string): number {
    if (name.toLowerCase() === "set-cookie") return this.request.headers.getSetCookie().length;
    const value = this.header(name);
    return value === null ? 0 : value.split(", ").length;
  }

  /** $mhttpd(h:Name): case-insensitive; a repeated header is seen joined ("a, b").
   * An HTTP/2 request carries its authority in :authority, not Host: it is Host
   * here, as a gateway to HTTP/1.1 must write it (RFC 9113 §8.3.1; Bun does so
   * itself, Node and Deno do not). */
  header(name: string): string | null {
    let value: string | null;
    try {
      value = this.request.headers.get(name);
    } catch {
      return null; // not a valid header name: no such header
    }
    if (value === null && name.length === 4 && name.toLowerCase() === "host" && this.version === "HTTP/2") return authorityOf(this.request.url);
    return value;
  }
}
