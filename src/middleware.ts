// A route module's `middleware` (Hono middleware) around the core's handler: the
// same handler, with the middleware in front. Composed once, when the handler is
// built: the mhttpd server and createFetchHandler run them in a Hono Context of
// their own, mhttpd/hono in the app's own context (src/hono.ts). Hono is loaded
// only for a route that has middleware: without, nothing here runs and the server
// calls the handler directly.
import type { Context, ExecutionContext, MiddlewareHandler } from "hono";
import type { FetchHandler } from "./adapter.ts";
import type { Logger } from "./log.ts";
import { internalError } from "./pipeline/responses.ts";
import type { RouteMiddleware } from "./route.ts";

/** A fetch handler as Hono's app.fetch is one: Workers pass their ExecutionContext third. */
export type ComposedFetch = (request: Request, env?: unknown, ctx?: unknown) => Response | Promise<Response>;

/**
 * Hono answers HEAD by running the GET handler and keeping only the head of its
 * answer (`new Response(null, res)`): the runtime then writes Content-Length 0
 * (Bun, Deno) or none (Node), where RFC 9110 §8.6 allows only the length GET's
 * body would have. The length goes in the head. A drop's body fails on purpose:
 * it stays a drop where the runtime can close the socket itself (Node); elsewhere
 * Hono's HEAD makes it an empty answer, whatever is done here.
 */
async function withGetLength(res: Response): Promise<Response> {
  if (res.body === null || res.headers.has("content-length")) return res;
  let bytes: ArrayBuffer;
  try {
    bytes = await res.arrayBuffer();
  } catch {
    return res;
  }
  const headers = new Headers(res.headers);
  headers.set("content-length", String(bytes.byteLength));
  return new Response(null, { status: res.status, statusText: res.statusText, headers });
}

/** A Hono handler that runs the middleware in order, then the core's handler on
 * the request as they leave it (c.req.raw: the full path, whatever the mount) with
 * the server's env (c.env: the peer comes from there). `inHonoApp`: the handler is
 * mounted in a Hono app, which answers HEAD itself (withGetLength). */
export async function routeHandler(middleware: RouteMiddleware[], fetch: FetchHandler, inHonoApp: boolean): Promise<MiddlewareHandler> {
  const core = async (c: Context) => {
    const res = await fetch(c.req.raw, c.env);
    return inHonoApp && c.req.raw.method === "HEAD" ? withGetLength(res) : res;
  };
  if (middleware.length === 0) return core;
  const { every } = await import("hono/combine");
  const chain = every(...middleware, core);
  return async (c, next) => {
    await chain(c, next);
    // Hono's own dispatch refuses this too ("Context is not finalized")
    if (!c.finalized) throw new Error("a middleware of the route module ended with neither a response nor a call to next()");
    return c.res;
  };
}

/**
 * The middleware and the core's handler as one fetch handler. Each request gets
 * a Hono Context of its own rather than going through a Hono app: an app answers
 * HEAD by running GET and keeping the head (a drop would become an empty answer),
 * and routes, which there is nothing to do with here. A middleware that throws
 * gets its HTTPException's response (hono/bearer-auth's 401), or 500 with the
 * error in the log.
 */
export async function composeAround(middleware: RouteMiddleware[], fetch: FetchHandler, logger: Logger): Promise<ComposedFetch> {
  const [{ Context }, { getPath }, handler] = await Promise.all([import("hono"), import("hono/utils/url"), routeHandler(middleware, fetch, false)]);
  const last = async () => {};
  const failed = (err: unknown): Response => {
    const exception = err as Error & { getResponse?: () => Response };
    if (typeof exception?.getResponse === "function") return exception.getResponse();
    logger.err(`a middleware of the route failed: ${exception?.stack ?? String(err)}`);
    return internalError();
  };
  return async (request, env, ctx) => {
    const c = new Context(request, { env, executionCtx: ctx as ExecutionContext | undefined, path: getPath(request) });
    try {
      return (await handler(c, last)) ?? c.res;
    } catch (err) {
      return failed(err);
    }
  };
}
