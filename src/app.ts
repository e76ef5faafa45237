// The core's fetch handler: a Hono app that checks allowed_ips, builds the
// request's context, runs the route and turns what it did into a Response.
// Runtime specifics (peer address, closing a connection without writing) come
// from the adapter's RuntimeBinding; this file knows no runtime.
import { Hono, type Context } from "hono";
import type { GetConnInfo } from "hono/conninfo";
import { HTTPException } from "hono/http-exception";
import { ipRestriction } from "hono/ip-restriction";
import { RequestContext } from "./context.ts";
import { KSR_EXIT, SyncContextStore, setKsrEnvironment, type ContextStore } from "./ksr.ts";
import type { Logger } from "./log.ts";
import type { Params } from "./params.ts";
import { replyResponse } from "./reply.ts";
import { EVENT_NAME, type RouteFunction } from "./route.ts";

export interface RuntimeBinding {
  /** "bun", "deno", "node", ... */
  name: string;
  /** Hono's getConnInfo for this runtime: the socket's peer address */
  getConnInfo: GetConnInfo;
  /** the HTTP version of the request, where the runtime exposes it */
  httpVersion?(c: Context): string | undefined;
  /** Close the connection without writing anything; returns what the runtime
   * needs the handler to return. Without it, drop uses a body that fails at once. */
  dropConnection?(c: Context): Response;
  /** keeps the running request across awaits (AsyncLocalStorage) */
  contextStore?: ContextStore;
  /** a response the runtime sends without adding a Content-Type (empty ctype);
   * needed where the runtime labels byte bodies itself */
  untypedResponse?(c: Context, status: number, bytes: Uint8Array): Response;
}

export interface HandlerOptions {
  route: RouteFunction;
  params: Params;
  logger: Logger;
  binding: RuntimeBinding;
}

const EMPTY = new Uint8Array(0);

/** A response whose body fails before its first byte: Bun resets the connection
 * having written nothing, Deno closes it after the status line, so the client
 * never gets a complete response. */
function failingResponse(): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.error();
      },
    }),
  );
}

function plain(status: number, text: string, extra?: Record<string, string>): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8", ...extra } });
}

export function createApp(opts: HandlerOptions): Hono {
  const { route, params, logger, binding } = opts;
  const store = binding.contextStore ?? new SyncContextStore();
  setKsrEnvironment(store, logger);
  const app = new Hono();

  if (params.allowed_ips.length > 0) {
    app.use(
      ipRestriction(binding.getConnInfo, { allowList: params.allowed_ips }, (remote) => {
        logger.dbg(`refused client ${remote.addr}: not in allowed_ips`);
        return plain(403, "Forbidden\n", { connection: "close" });
      }),
    );
  }

  const untyped = binding.untypedResponse?.bind(binding);
  const drop = (c: Context): Response => (binding.dropConnection ? binding.dropConnection(c) : failingResponse());

  const finish = (c: Context, ctx: RequestContext, error?: unknown): Response => {
    if (error !== undefined && error !== KSR_EXIT) {
      const detail = error instanceof Error ? (error.stack ?? String(error)) : String(error);
      logger.err(`route failed on ${ctx.method} ${ctx.url}: ${detail}`);
      if (!ctx.reply && !ctx.dropped) return plain(500, "Internal Server Error\n");
    }
    if (ctx.dropped) {
      logger.dbg(`drop: closing the connection of ${ctx.method} ${ctx.url} without a response`);
      return drop(c);
    }
    if (ctx.reply) return replyResponse(ctx.reply, untyped && ((status, bytes) => untyped(c, status, bytes)));
    logger.warn(`route ended without a reply for ${ctx.method} ${ctx.url}: sending 500`);
    return plain(500, "Internal Server Error\n");
  };

  const run = (c: Context, body: Uint8Array): Response | Promise<Response> => {
    const info = binding.getConnInfo(c).remote;
    const ctx = new RequestContext(
      c.req.raw,
      { remoteAddress: info.address ?? "", remotePort: info.port, httpVersion: binding.httpVersion?.(c) },
      body,
      logger,
    );
    let result: unknown;
    try {
      result = store.run(ctx, () => route(EVENT_NAME, ctx.ksr));
    } catch (e) {
      return finish(c, ctx, e);
    }
    // fast path: a synchronous route is answered without another microtask
    if (typeof (result as PromiseLike<unknown> | undefined)?.then !== "function") return finish(c, ctx);
    return Promise.resolve(result).then(
      () => finish(c, ctx),
      (e: unknown) => finish(c, ctx, e ?? new Error("route rejected with no reason")),
    );
  };

  app.all("*", (c) => {
    const req = c.req.raw;
    // the route reads the body synchronously ($mhttpd(data)), so it is read first
    if (req.body === null) return run(c, EMPTY);
    return req.arrayBuffer().then((buf) => run(c, new Uint8Array(buf)));
  });

  app.onError((err) => {
    if (err instanceof HTTPException) return err.getResponse();
    logger.err(`request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return plain(500, "Internal Server Error\n");
  });

  return app;
}
