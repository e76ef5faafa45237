// The core's fetch handler: a Hono app that checks allowed_ips, builds the
// request's context, runs the route and turns what it did into a Response.
// Runtime specifics (peer address, closing a connection without writing) come
// from the adapter's RuntimeBinding; this file knows no runtime.
import { Hono, type Context } from "hono";
import type { GetConnInfo } from "hono/conninfo";
import type { Result, Router } from "hono/router";
import { HTTPException } from "hono/http-exception";
import { clientAddress } from "./client-ip.ts";
import { isValidHost, RequestContext, rawPath, targetOf } from "./context.ts";
import { Lifecycle } from "./lifecycle.ts";
import { headSize, readBody, StallWatch, type BodyResult } from "./limits.ts";
import { KSR_EXIT, runWithKsr, setKsrEnvironment, type ContextStore } from "./ksr.ts";
import { quote, type Logger } from "./log.ts";
import type { Params } from "./params.ts";
import { AddressMatcher, normalizeIp, parsePeerAddress } from "./ip.ts";
import { replyHeaderRecord, replyLength, replyResponse } from "./reply.ts";
import { accessLog } from "./access-log.ts";
import { urlFilter } from "./url-filter.ts";
import type { RouteFunction } from "./route.ts";

/** What the request handler and the runtime bindings use of a request's Hono
 * Context. Hono's Context is one; without middleware the handler gets a
 * DirectExchange instead (see createApp). */
export interface Exchange {
  readonly req: { readonly raw: Request; readonly method: string; readonly url: string };
  /** the runtime's second argument to fetch (Bun: the server; Deno: the connection info; Node: incoming/outgoing) */
  readonly env: unknown;
  get<K extends keyof Vars>(key: K): Vars[K] | undefined;
  set<K extends keyof Vars>(key: K, value: Vars[K]): void;
}

/** What the handler remembers about a request for the access log and allowed_ips */
type Vars = { client: string | null; unknownClient: string; dropped: boolean; bytes: number; status: number };

export interface RuntimeBinding {
  /** "bun", "deno", "node", ... */
  name: string;
  /** Hono's getConnInfo for this runtime: the socket's peer address (it reads the
   * Exchange's env and req.raw only) */
  getConnInfo(c: Exchange): ReturnType<GetConnInfo>;
  /** the HTTP version of the request, where the runtime exposes it */
  httpVersion?(c: Exchange): string | undefined;
  /** Close the connection without writing anything; returns what the runtime
   * needs the handler to return. Without it, drop uses a body that fails at once. */
  dropConnection?(c: Exchange): Response;
  /** keeps the running request across awaits (AsyncLocalStorage) */
  contextStore?: ContextStore;
  /** the same, made on first need (a route that awaits) where merely loading it
   * costs memory (Deno: node:async_hooks is ≈ 4.6 MiB of RSS) */
  loadContextStore?(): Promise<ContextStore>;
  /** a response the runtime sends without adding a Content-Type (empty ctype);
   * needed where the runtime labels byte bodies itself */
  untypedResponse?(c: Exchange, status: number, bytes: Uint8Array, headers: Headers): Response;
  /** Write a reply straight to the connection and return what the runtime's
   * server then needs (Node: @hono/node-server's "already sent" marker). Faster
   * there than a Fetch Response, and it never adds a Content-Type of its own. */
  writeReply?(c: Exchange, status: number, headers: Record<string, string | string[]>, body: string | Uint8Array | null): Response;
  /** the local socket the request came in on ($mhttpd(dstip), $mhttpd(dstport)) */
  localAddress?(c: Exchange): { address: string; port: number } | undefined;
  /** the runtime refuses connections beyond max_connections itself; without it the
   * core answers 503 to requests beyond max_connections in flight */
  capsConnections?: boolean;
  /** the runtime answers 431 beyond max_header_size itself; without it the core
   * measures each head (which costs building the request's Headers) */
  limitsHeadSize?: boolean;
  /** Read the body straight from the connection, with readBody's rules (413 past
   * `limit`, 408 once `stalls` sees no byte for body_timeout): cheaper there than the
   * Fetch Request's stream (Node: the IncomingMessage, without building a web
   * stream; Bun: its native whole-body read). Status 0: nobody left to answer. */
  readBody?(c: Exchange, limit: number, stalls: StallWatch): Promise<BodyResult>;
  /** a timer belongs to the request that made it (Workers): no timer shared by requests */
  timersPerRequest?: boolean;
  /** the head size the runtime refuses by itself (Bun: 16 KiB and 431; Deno: 64 KiB
   * and 400): the core measures heads only for a smaller max_header_size */
  headLimit?: number;
  /** called as each request arrives, before anything else (per-request runtime knobs) */
  onRequest?(c: Exchange): void;
}

export interface HandlerOptions {
  route: RouteFunction;
  params: Params;
  logger: Logger;
  binding: RuntimeBinding;
  /** requests in flight and draining, shared with the shutdown */
  lifecycle?: Lifecycle;
  /** where access_log lines go (stdout) */
  accessLog?: (lines: string) => void;
}

/** Hono's router for an app whose every handler (the optional middleware, then the
 * one request handler) runs for every request, whatever the method and path: it
 * answers each match with the same list, in the order they were added, instead of
 * running a regular expression over the path per request. */
class EveryRequestRouter<T> implements Router<T> {
  readonly name = "EveryRequestRouter";
  readonly #all: [[T, Record<string, string>][]] = [[]];
  add(_method: string, _path: string, handler: T): void {
    this.#all[0].push([handler, {}]);
  }
  match(): Result<T> {
    return this.#all;
  }
}

type Env = { Variables: Vars };

/** The Exchange of a request when no middleware is configured: the handler is
 * called straight from the runtime's fetch, without Hono's Context (a dozen
 * private fields per request, measurable on Bun) or its dispatch. Hono runs the
 * chain as soon as any middleware (access_log, allowed_ips, url_match/url_skip) is. */
class DirectExchange implements Exchange {
  #method: string | undefined;
  #vars: Partial<Vars> | undefined;
  constructor(
    readonly raw: Request,
    readonly env: unknown,
  ) {}
  /** Hono's c.req.raw, c.req.method, c.req.url: the same object */
  get req(): this {
    return this;
  }
  get method(): string {
    return (this.#method ??= this.raw.method);
  }
  get url(): string {
    return this.raw.url;
  }
  get<K extends keyof Vars>(key: K): Vars[K] | undefined {
    return this.#vars?.[key];
  }
  set<K extends keyof Vars>(key: K, value: Vars[K]): void {
    (this.#vars ??= {})[key] = value;
  }
}

/** An `async function` route can await: the global KSR must then follow it
 * through an AsyncLocalStorage. Anything else runs with the synchronous store,
 * which costs nothing (on Node 20 an AsyncLocalStorage hooks every promise). */
const isAsyncFunction = (fn: unknown) => typeof fn === "function" && fn.constructor?.name === "AsyncFunction";

/** The connection facts of one request, asked of the runtime only when the route
 * (or a check) reads them: on Bun the peer address alone costs a native call. */
class RuntimeConn {
  #remote: { address?: string; port?: number } | undefined;
  #local: { address: string; port: number } | undefined | null = null;
  constructor(
    private readonly c: Exchange,
    private readonly app: ConnSource,
  ) {}
  private get remote() {
    return (this.#remote ??= this.app.binding.getConnInfo(this.c).remote);
  }
  get remoteAddress(): string | null {
    return this.app.trusted ? this.app.client(this.c) : (this.remote.address ?? "");
  }
  get remotePort(): number | undefined {
    return this.remote.port;
  }
  get httpVersion(): string | undefined {
    return this.app.binding.httpVersion?.(this.c);
  }
  private get local() {
    if (this.#local === null) this.#local = this.app.binding.localAddress?.(this.c);
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

interface ConnSource {
  binding: RuntimeBinding;
  trusted: AddressMatcher | undefined;
  client(c: Exchange): string | null;
}

const EMPTY = new Uint8Array(0);

/** A response whose body fails before its first byte: Bun resets the connection
 * having written nothing, Deno closes it after the status line, so the client
 * never gets a complete response. */
/** The error a dropped request's body fails with: adapters whose runtime reports
 * body errors (Deno's onError) recognise it and stay quiet. */
export const DROPPED = new Error("mhttpd: connection dropped by the route");

function failingResponse(): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        // with a reason: workerd refuses controller.error() without one
        controller.error(DROPPED);
      },
    }),
  );
}

/** Our own short ASCII answers (403, 404, 500, ...): their length is known. */
function plain(status: number, text: string, extra?: Record<string, string>): Response {
  return new Response(text, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "content-length": String(text.length), ...extra },
  });
}

/** The core as a Fetch handler: `fetch(request, env)`, env being what the runtime
 * passes as fetch's second argument. */
export interface App {
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /** settles when the app can take requests (an async route's context store is loaded) */
  ready?: Promise<void>;
}

export function createApp(opts: HandlerOptions): App {
  const { route, params, logger, binding } = opts;
  const lifecycle = opts.lifecycle ?? new Lifecycle();
  setKsrEnvironment(binding.contextStore, logger);
  // an `async function` route runs in the async store from the first request; a
  // plain function that turns out to return a promise, from its next request on
  // (until a store loaded on that need is there, requests run as before)
  let acrossAwaits = isAsyncFunction(route);
  let storeLoad: Promise<void> | undefined;
  const loadStore = (): Promise<void> | undefined => {
    if (binding.contextStore || !binding.loadContextStore) return undefined;
    return (storeLoad ??= binding.loadContextStore().then(
      (store) => setKsrEnvironment(store, logger),
      (e: unknown) => logger.err(`the async context store could not be loaded; the global KSR stays synchronous: ${(e as Error)?.message ?? String(e)}`),
    ));
  };
  const ready = acrossAwaits ? loadStore() : undefined;
  const needAsyncStore = () => {
    if (acrossAwaits) return;
    acrossAwaits = true;
    void loadStore();
    logger.dbg("the route returned a promise: the global KSR now follows requests across awaits (declare the route `async` to have it from the first request)");
  };
  // Every request goes through the same handlers, so Hono needs neither the path
  // (a constant spares parsing the URL) nor a router that matches it.
  const app = new Hono<Env>({ getPath: () => "/", router: new EveryRequestRouter() });
  const trusted = params.trusted_proxies.length > 0 ? new AddressMatcher(params.trusted_proxies) : undefined;
  const routeMs = params.route_timeout * 1000;
  const stalls = new StallWatch(params.body_timeout * 1000, binding.timersPerRequest);

  /** the peer address, or the one our trusted proxies forwarded for; null when
   * they forwarded something that is not an address (why: c.get("unknownClient")) */
  const client = (c: Exchange): string | null => {
    let addr = c.get("client");
    if (addr === undefined) {
      const peer = binding.getConnInfo(c).remote.address ?? "";
      const found = clientAddress(peer, trusted ? c.req.raw.headers.get("x-forwarded-for") : null, trusted);
      addr = found.address;
      c.set("client", addr);
      if (found.unknown) c.set("unknownClient", found.unknown);
    }
    return addr;
  };

  const conns: ConnSource = { binding, trusted, client };

  if (params.access_log !== "off") {
    const write = opts.accessLog ?? ((lines: string) => console.log(lines));
    app.use(
      accessLog(params.access_log, write, {
        client: (c) => client(c as unknown as Exchange),
        dropped: (c) => (c as Context<Env>).get("dropped") === true,
        bytes: (c) => (c as Context<Env>).get("bytes"),
        status: (c) => (c as Context<Env>).get("status"),
      }),
    );
  }

  /** RFC 9112 §3.2: a Host that is more than host[:port] gets 400, the same on
   * every runtime (Node's @hono/node-server refuses it before us, by the same rule).
   * It comes before every check that reads the target: targetOf relies on it. */
  const refuseBadHost = (c: Exchange): Response | undefined => {
    const host = c.req.raw.headers.get("host");
    if (host === null || isValidHost(host)) return undefined;
    logger.dbg(`invalid Host header (${host.length} bytes): 400`);
    return plain(400, "Bad Request\n", { connection: "close" });
  };
  const usesMiddleware = params.access_log !== "off" || params.allowed_ips.length > 0 || Boolean(params.url_match || params.url_skip);
  if (usesMiddleware) app.use(async (c, next) => refuseBadHost(c as unknown as Exchange) ?? next());

  if (params.allowed_ips.length > 0) {
    const allowed = new AddressMatcher(params.allowed_ips);
    app.use(async (c, next) => {
      const addr = client(c as unknown as Exchange);
      if (addr !== null && allowed.includes(addr)) return next();
      // a platform's address header (CF-Connecting-IP) can hold anything off the platform
      const shown = addr === null ? "" : parsePeerAddress(addr) ? normalizeIp(addr) : quote(addr);
      logger.dbg(addr === null ? `refused client: ${c.get("unknownClient")}` : `refused client ${shown}: not in allowed_ips`);
      return plain(403, "Forbidden\n", { connection: "close" });
    });
  }

  if (params.url_match || params.url_skip) app.use(urlFilter(params.url_match, params.url_skip, logger));

  const untyped = binding.untypedResponse?.bind(binding);
  const logBytes = params.access_log !== "off";
  const drop = (c: Exchange): Response => (binding.dropConnection ? binding.dropConnection(c) : failingResponse());

  const finish = (c: Exchange, ctx: RequestContext, error?: unknown): Response => {
    if (ctx.settled) return plain(503, "Service Unavailable\n"); // answered at route_timeout; never sent
    ctx.settled = true;
    if (error !== undefined && error !== KSR_EXIT) {
      const detail = error instanceof Error ? (error.stack ?? String(error)) : String(error);
      logger.err(`route failed on ${ctx.method} ${ctx.url}: ${detail}`);
      if (!ctx.reply && !ctx.dropped) return plain(500, "Internal Server Error\n");
    }
    if (ctx.dropped) {
      logger.dbg(`drop: closing the connection of ${ctx.method} ${ctx.url} without a response`);
      c.set("dropped", true);
      return drop(c);
    }
    if (ctx.reply) {
      // The access log's status and bytes are set only once the reply is built or
      // written: a header the runtime refuses throws on the way, and the 500 sent
      // instead is what must be logged.
      if (binding.writeReply) {
        const { status, body } = ctx.reply;
        const headers = replyHeaderRecord(ctx.reply, ctx.replyHeaders);
        // written now, so the draining middleware below cannot add it afterwards
        if (lifecycle.draining) headers["connection"] = "close";
        const written = binding.writeReply(c, status, headers, body instanceof ArrayBuffer ? new Uint8Array(body) : body);
        if (logBytes) {
          c.set("status", status);
          c.set("bytes", replyLength(ctx.reply));
        }
        return written;
      }
      // the runtime's untyped Response is only ever needed for an empty ctype
      const byRuntime = untyped && ctx.reply.ctype === "" ? (status: number, bytes: Uint8Array, headers: Headers) => untyped(c, status, bytes, headers) : undefined;
      const res = replyResponse(ctx.reply, ctx.replyHeaders, byRuntime);
      if (logBytes) c.set("bytes", replyLength(ctx.reply));
      return res;
    }
    logger.warn(`route ended without a reply for ${ctx.method} ${ctx.url}: sending 500`);
    return plain(500, "Internal Server Error\n");
  };

  /** route_timeout: the client gets 503 now; the route's KSR refuses to act from here on */
  const timeout = (ctx: RequestContext): Response => {
    ctx.timedOut = true;
    ctx.abort(new DOMException("route_timeout passed", "TimeoutError"));
    ctx.settled = true;
    logger.err(`route did not reply to ${ctx.method} ${ctx.url} within route_timeout ${params.route_timeout} s: sending 503`);
    return plain(503, "Service Unavailable\n");
  };

  const run = (c: Exchange, body: Uint8Array): Response | Promise<Response> => {
    const ctx = new RequestContext(c.req.raw, new RuntimeConn(c, conns), body, logger);
    let result: unknown;
    try {
      result = runWithKsr(ctx, route, acrossAwaits);
    } catch (e) {
      return finish(c, ctx, e);
    }
    // fast path: a synchronous route is answered without another microtask
    if (typeof (result as PromiseLike<unknown> | undefined)?.then !== "function") return finish(c, ctx);
    needAsyncStore();
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      Promise.resolve(result).then(
        () => finish(c, ctx),
        (e: unknown) => finish(c, ctx, e ?? new Error("route rejected with no reason")),
      ),
      new Promise<Response>((resolve) => (timer = setTimeout(() => resolve(timeout(ctx)), routeMs))),
    ]).finally(() => clearTimeout(timer));
  };

  // The limits that a Fetch Request shows, then the body, then the route. One
  // synchronous handler: a synchronous route on a body-less request is answered
  // without a promise (Hono calls a lone handler directly).
  const checkHead = !binding.limitsHeadSize || (binding.headLimit !== undefined && params.max_header_size < binding.headLimit);
  const closeWhileDraining = (res: Response): Response => {
    if (lifecycle.draining) {
      try {
        res.headers.set("connection", "close");
      } catch {
        // a response the adapter wrote itself: it said Connection: close then
      }
    }
    return res;
  };
  const leave = (res: Response): Response => {
    lifecycle.leave();
    return closeWhileDraining(res);
  };

  const handle = (c: Exchange): Response | Promise<Response> => {
    binding.onRequest?.(c);
    if (!usesMiddleware) {
      const refused = refuseBadHost(c);
      if (refused) return refused;
    }
    if (!binding.capsConnections && lifecycle.inflight >= params.max_connections) {
      logger.warn(`max_connections ${params.max_connections} requests in flight: answering 503`);
      return plain(503, "Service Unavailable\n", { connection: "close", "retry-after": "1" });
    }
    if (checkHead) {
      const head = headSize(c.req.raw, targetOf(c.req.url));
      if (head > params.max_header_size) {
        logger.dbg(`request head of about ${head} bytes is over max_header_size ${params.max_header_size}: 431`);
        return plain(431, "Request Header Fields Too Large\n", { connection: "close" });
      }
    }
    lifecycle.enter();
    let res: Response | Promise<Response>;
    try {
      // GET and HEAD never carry a body in the Fetch API: not asking spares
      // @hono/node-server building the full Request
      const method = c.req.method;
      if (method === "GET" || method === "HEAD") res = run(c, EMPTY);
      else if (binding.readBody) res = readAndRun(c, binding.readBody(c, params.max_body_size, stalls));
      else res = c.req.raw.body === null ? run(c, EMPTY) : readAndRun(c, readBody(c.req.raw, params.max_body_size, stalls));
    } catch (e) {
      lifecycle.leave();
      throw e;
    }
    if (res instanceof Promise) {
      return res.then(leave, (e: unknown) => {
        lifecycle.leave();
        throw e;
      });
    }
    return leave(res);
  };

  /** the route reads the body synchronously ($mhttpd(data)), so it is read first,
   * never past max_body_size and never waiting longer than body_timeout for a byte */
  const readAndRun = async (c: Exchange, reading: Promise<BodyResult>): Promise<Response> => {
    const body = await reading;
    if (body.ok) return run(c, body.bytes);
    if (body.status === 0) {
      logger.dbg(`${c.req.method} ${rawPath(c.req.url)}: ${body.why}; the route is not run`);
      return plain(400, "Bad Request\n", { connection: "close" });
    }
    logger.info(`${c.req.method} ${rawPath(c.req.url)} from ${client(c) ?? "an unknown client"}: ${body.why}: ${body.status}`);
    return body.status === 413
      ? plain(413, "Content Too Large\n", { connection: "close" })
      : plain(408, "Request Timeout\n", { connection: "close" });
  };

  const failed = (err: unknown): Response => {
    if (err instanceof HTTPException) return err.getResponse();
    logger.err(`request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return plain(500, "Internal Server Error\n");
  };

  if (!usesMiddleware) {
    return {
      ready,
      fetch(request: Request, env?: unknown): Response | Promise<Response> {
        let res: Response | Promise<Response>;
        try {
          res = handle(new DirectExchange(request, env));
        } catch (e) {
          return failed(e);
        }
        return res instanceof Promise ? res.catch(failed) : res;
      },
    };
  }
  // Hono's Context is an Exchange (req.raw, req.method, req.url, env, get, set)
  app.all("*", (c) => handle(c as unknown as Exchange));
  app.onError(failed);
  return { fetch: app.fetch, ready };
}
