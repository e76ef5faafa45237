// What the core asks of a runtime, and nothing more: listen on a socket, tell a
// request's peer and local address and HTTP version, close a connection without
// writing, and say which limits the runtime enforces itself. Everything else (the
// order of the checks, the limits, the route, the reply) is the core's, the same
// on every runtime. An adapter may also offer a faster way to read a body or send
// a reply; webDefaults gives the plain Fetch way for both.
//
// adapters/bun.ts, deno.ts and node.ts implement ServerAdapter; src/edge.ts builds
// a RequestAdapter for platforms that listen themselves (workerd, deno serve).
import type { ListenSocket, Params } from "./params.ts";
import type { ContextStore } from "./ksr-global.ts";
import type { PipelineEvents } from "./metrics/events.ts";
import type { OutgoingReply } from "./reply.ts";
import { readWebBody, type BodyReader } from "./pipeline/body.ts";
import { failingResponse } from "./pipeline/responses.ts";
import { replyResponse } from "./reply.ts";

/** A Fetch handler as runtimes call it: env is the runtime's second argument
 * (Bun: the server; Deno: the connection info; Node: incoming and outgoing). */
export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

export interface SocketAddress {
  address: string;
  port: number;
}

/** The limits a runtime enforces itself; the core enforces the rest. */
export interface RuntimeLimits {
  /** the runtime refuses sockets beyond max_connections (else the core answers
   * 503 to requests beyond max_connections in flight) */
  connections: boolean;
  /** the head size the runtime refuses by itself: a number of bytes, or
   * "max_header_size" when the adapter set the runtime to that parameter (the
   * core measures heads only when max_header_size is smaller) */
  head: number | "max_header_size";
  /** the runtime times body stalls itself (body_timeout): no timer in the core */
  bodyStall: boolean;
  /** a timer belongs to the request that set it (Workers): no timer shared by requests */
  timersPerRequest: boolean;
}

/** The per-request part: what the pipeline asks while it serves a request. */
export interface RequestAdapter {
  /** "bun", "deno", "node", "workerd", ... (start-up lines, --version) */
  readonly name: string;
  readonly limits: RuntimeLimits;
  /** the socket's peer: the client, or the proxy in front of it */
  peer(request: Request, env: unknown): { address?: string; port?: number };
  /** the local socket the request came in on, where the runtime tells it */
  local(request: Request, env: unknown): SocketAddress | undefined;
  /** "HTTP/1.0", "HTTP/1.1", where the runtime tells it */
  httpVersion(request: Request, env: unknown): string | undefined;
  /** close the connection without writing anything; returns what the runtime's
   * fetch must return for that */
  drop(request: Request, env: unknown): Response;
  /** feed the body into `reader` (chunks, then end or fail) */
  readBody(request: Request, env: unknown, reader: BodyReader): void;
  /** hand a reply to the runtime */
  respond(request: Request, env: unknown, reply: OutgoingReply): Response;
  /** the store that keeps the running request across a route's awaits
   * (AsyncLocalStorage), made on first need; undefined where there is none */
  asyncContext(): ContextStore | Promise<ContextStore> | undefined;
}

/** What an adapter tells the metrics of the requests its runtime refuses itself,
 * before the handler sees them (node:http's 431 and 408, its socket cap). */
export type RuntimeEvents = Pick<PipelineEvents, "refused">;

/** The whole adapter of a runtime that listens itself. */
export interface ServerAdapter extends RequestAdapter {
  /** `tls` is given for an HTTPS socket: the PEMs read at start-up; `events`
   * when metrics are on */
  listen(socket: ListenSocket, fetch: FetchHandler, params: Params, tls?: TlsFiles, events?: RuntimeEvents): Promise<Listening>;
  /** the adapter for a handler that Hono middleware wrap (a route module's
   * `middleware`): replies as Responses the middleware can still change, the body
   * read from the Request they pass on. Absent: this adapter does both already. */
  forMiddleware?(): RequestAdapter;
  /** a parameter this runtime cannot honour on these sockets: why, which stops
   * start-up as a configuration error (and -c) rather than running otherwise */
  cannotHonour?(params: Params, tls: boolean): string | undefined;
}

export interface Listening {
  /** the port actually bound (listen_port 0 picks one) */
  port: number;
  /** stop accepting, close idle keep-alive connections; resolves once every
   * connection of this listener has closed */
  close(): Promise<void>;
  /** close every connection now (shutdown_timeout passed) */
  destroy(): void;
}

/** the PEM text of tls_cert and tls_key */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** The plain Fetch way of what a runtime may do faster: the body from the
 * request's web stream, the reply as a Fetch Response, a drop as a body that fails
 * before its first byte. An adapter spreads these and overrides what it can do better. */
export const webDefaults = {
  local: (): SocketAddress | undefined => undefined,
  httpVersion: (): string | undefined => undefined,
  drop: (): Response => failingResponse(),
  readBody: (request: Request, _env: unknown, reader: BodyReader): void => readWebBody(request, reader),
  respond: (_request: Request, _env: unknown, reply: OutgoingReply): Response => replyResponse(reply),
} satisfies Partial<RequestAdapter>;
