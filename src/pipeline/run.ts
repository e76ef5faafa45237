// Step 3 of the pipeline, run: the route, with the request's KSR. A route that
// returns at once (every .cfg route, most TypeScript ones) is answered in the same
// call, without a promise; one that returns a promise gets route_timeout: at that
// point the client gets 503 and the route's KSR stops acting for this request.
import type { RequestAdapter } from "../adapter.ts";
import { RequestContext } from "../context.ts";
import type { Exchange } from "../exchange.ts";
import { runWithKsr, setKsrEnvironment } from "../ksr-global.ts";
import type { Logger } from "../log.ts";
import type { PipelineEvents } from "../metrics/events.ts";
import type { Route } from "../route.ts";
import { unavailable } from "./responses.ts";

/** How a route ended: normally, or with what it threw (KSR.x.exit() included). */
export type Ended = { ctx: RequestContext; error?: unknown };

export interface RouteRunner {
  /** run the route on a request whose body has been read; the answer step turns
   * how it ended into the response */
  run(x: Exchange, body: Uint8Array): Response | Promise<Response>;
  /** settles when requests can be taken (an async route's context store is loaded) */
  ready: Promise<void> | undefined;
}

export function routeRunner(opts: {
  route: Route;
  routeTimeout: number;
  adapter: RequestAdapter;
  logger: Logger;
  answer: (x: Exchange, ended: Ended) => Response;
  metrics?: PipelineEvents;
}): RouteRunner {
  const { route, adapter, logger, answer, metrics } = opts;
  const routeMs = opts.routeTimeout * 1000;
  const store = asyncContextLoader(adapter, logger);
  // an `async function` route runs in the async store from its first request; a
  // plain function that turns out to return a promise, from its next request on
  let acrossAwaits = route.awaits === true;
  const ready = acrossAwaits ? store.load() : undefined;

  const run: RouteRunner["run"] = (x, body) => {
    const ctx = new RequestContext(x.request, x, body, logger);
    let result: unknown;
    try {
      result = runWithKsr(ctx, route, acrossAwaits);
    } catch (error) {
      return answer(x, { ctx, error });
    }
    // fast path: a synchronous route is answered without another microtask
    if (typeof (result as PromiseLike<unknown> | undefined)?.then !== "function") return answer(x, { ctx });
    if (!acrossAwaits) {
      acrossAwaits = true;
      void store.load();
      logger.dbg("the route returned a promise: the global KSR now follows requests across awaits (declare the route `async` to have it from the first request)");
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      Promise.resolve(result).then(
        () => answer(x, { ctx }),
        (error: unknown) => answer(x, { ctx, error: error ?? new Error("route rejected with no reason") }),
      ),
      new Promise<Response>((resolve) => (timer = setTimeout(() => resolve(timedOut(ctx)), routeMs))),
    ]).finally(() => clearTimeout(timer));
  };

  /** route_timeout: the client gets 503 now; the route's KSR refuses to act from here on */
  const timedOut = (ctx: RequestContext): Response => {
    ctx.timedOut = true;
    ctx.abort(new DOMException("route_timeout passed", "TimeoutError"));
    ctx.settled = true;
    logger.err(`route did not reply to ${ctx.method} ${ctx.url} within route_timeout ${opts.routeTimeout} s: sending 503`);
    metrics?.routeTimedOut();
    return unavailable();
  };

  return { run, ready };
}

/** The adapter's async context store (AsyncLocalStorage), asked for once, when a
 * route first needs it: on Deno merely loading it costs memory. */
function asyncContextLoader(adapter: RequestAdapter, logger: Logger) {
  setKsrEnvironment(undefined, logger);
  let loading: Promise<void> | undefined;
  return {
    load(): Promise<void> {
      return (loading ??= Promise.resolve()
        .then(() => adapter.asyncContext())
        .then(
          (store) => setKsrEnvironment(store, logger),
          (e: unknown) => logger.err(`the async context store could not be loaded; the global KSR stays synchronous: ${(e as Error)?.message ?? String(e)}`),
        ));
    },
  };
}
