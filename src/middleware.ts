// A route module's `middleware` (Hono middleware) around the core's handler: the
// same handler, with the middleware in front. Composed once, when the handler is
// built: the mhttpd server and createFetchHandler put them in a Hono app of their
// own, mhttpd/hono runs them in the app's own context (src/hono.ts). Hono is
// loaded only for a route that has middleware: without, nothing here runs and
// the server calls the handler directly.
import type { Context, ExecutionContext, MiddlewareHandler } from "hono";
import type { FetchHandler } from "./adapter.ts";
import type { Logger } from "./log.ts";
import { internalError } from "./pipeline/responses.ts";
import type { RouteMiddleware } from "./route.ts";

/** A fetch handler as Hono's app.fetch is one: Workers pass their ExecutionContext third. */
export type ComposedFetch = (request: Request, env?: unknown, ctx?: unknown) => Response | Promise<Response>;

/** A Hono handler that runs the middleware in order, then the core's handler on
 * the request as they leave it (c.req.raw: the full path, whatever the mount) with
 * the server's env (c.env: the peer comes from there). */
export async function routeHandler(middleware: RouteMiddleware[], fetch: FetchHandler): Promise<MiddlewareHandler> {
  const core = async (c: Context) => fetch(c.req.raw, c.env);
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

/** The middleware and the core's handler as one fetch handler (a Hono app). A
 * middleware that throws gets its HTTPException's response (hono/bearer-auth's
 * 401), or 500 with the error in the log. */
export async function composeAround(middleware: RouteMiddleware[], fetch: FetchHandler, logger: Logger): Promise<ComposedFetch> {
  const [{ Hono }, handler] = await Promise.all([import("hono"), routeHandler(middleware, fetch)]);
  const app = new Hono();
  app.all("*", handler);
  app.onError((err) => {
    const exception = err as Error & { getResponse?: () => Response };
    if (typeof exception.getResponse === "function") return exception.getResponse();
    logger.err(`a middleware of the route failed: ${err.stack ?? err.message}`);
    return internalError();
  });
  return (request, env, ctx) => app.fetch(request, env, ctx as ExecutionContext | undefined);
}
