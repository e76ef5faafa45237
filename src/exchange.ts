// One request on its way through the pipeline: the Fetch Request, the runtime's
// env and what the steps learn about it, each asked of the runtime only when a
// step needs it (on Bun the peer address alone costs a native call). It is also
// the connection the route's context reads ($mhttpd(srcip), srcport, dstip, ...),
// and what the access log reads once the response is decided.
import type { RequestAdapter } from "./adapter.ts";
import { clientAddress } from "./client-ip.ts";
import type { ConnInfo } from "./context.ts";
import { normalizeIp, type AddressMatcher } from "./ip.ts";
import type { Reply } from "./reply.ts";
import { rawPath, targetOf } from "./target.ts";

export class Exchange implements ConnInfo {
  #method: string | undefined;
  #target: string | undefined;
  #peer: { address?: string; port?: number } | undefined;
  #client: string | null | undefined;
  #local: { address: string; port: number } | undefined | null = null;

  /** why the client is unknown (a trusted proxy forwarded something that is not an address) */
  unknownClient: string | undefined;
  /** for the access log: the reply that was handed to the runtime (a Response the
   * adapter wrote itself is only a marker), and whether the connection was dropped */
  reply: Reply | undefined;
  dropped = false;
  /** for the metrics: the body's length once read, and whether this request was a
   * scrape of the metrics path (not counted among the requests) */
  bodyLength = 0;
  scrape = false;

  constructor(
    readonly request: Request,
    readonly env: unknown,
    private readonly adapter: RequestAdapter,
    /** trusted_proxies, when set */
    private readonly trusted: AddressMatcher | undefined,
  ) {}

  get method(): string {
    return (this.#method ??= this.request.method);
  }

  /** path and query, canonical (src/target.ts) */
  get target(): string {
    return (this.#target ??= targetOf(this.request.url));
  }

  /** the path of the target, without the query */
  get path(): string {
    return rawPath(this.request.url);
  }

  get peer(): { address?: string; port?: number } {
    return (this.#peer ??= this.adapter.peer(this.request, this.env));
  }

  /** the peer, or the address our trusted proxies forwarded for; null when they
   * forwarded something that is not an address (unknownClient says what) */
  get client(): string | null {
    if (this.#client === undefined) {
      const peer = this.peer.address ?? "";
      const found = clientAddress(peer, this.trusted ? this.request.headers.get("x-forwarded-for") : null, this.trusted);
      this.#client = found.address;
      this.unknownClient = found.unknown;
    }
    return this.#client;
  }

  /** the client for a log line */
  get clientForLog(): string {
    return this.client ?? "an unknown client";
  }

  // ConnInfo: what the route's context reads

  get remoteAddress(): string | null {
    return this.trusted ? this.client : (this.peer.address ?? "");
  }
  get remotePort(): number | undefined {
    return this.peer.port;
  }
  get httpVersion(): string | undefined {
    return this.adapter.httpVersion(this.request, this.env);
  }
  private get local(): { address: string; port: number } | undefined {
    if (this.#local === null) this.#local = this.adapter.local(this.request, this.env);
    return this.#local;
  }
  get localAddress(): string | undefined {
    const l = this.local;
    return l && normalizeIp(l.address);
  }
  get localPort(): number | undefined {
    return this.local?.port;
  }
}
