// The request path: one Fetch handler, the same on every runtime. A request goes
// through four steps, each in its own file under src/pipeline/, in this order:
//
//   admit   Host, allowed_ips, url_skip/url_match, max_connections   -> 400 403 404 503
//   read    the head's size, then the body (max_body_size, body_timeout) -> 431 413 408
//   run     the route, with its KSR; route_timeout for one that awaits  -> 503
//   answer  the route's reply, a drop, or 500 for a failure or no reply
//
// The first step that answers ends the request. The access log, when on, records
// what was sent; the metrics, when on, count it (src/metrics/: nothing of them is
// built, and nothing counted, when `metrics` is off). A runtime adapter
// (src/adapter.ts) calls `fetch` directly; Hono can mount the same `fetch`
// (docs/architecture.md says when it does).
import type { FetchHandler, RequestAdapter } from "./adapter.ts";
import { accessLogger } from "./access-log.ts";
import { Exchange } from "./exchange.ts";
import { AddressMatcher } from "./ip.ts";
import { Lifecycle } from "./lifecycle.ts";
import type { Logger } from "./log.ts";
import { MetricsCollector } from "./metrics/collector.ts";
import { renderExposition } from "./metrics/exposition.ts";
import type { Params } from "./params.ts";
import type { Route } from "./route.ts";
import { admission } from "./pipeline/admit.ts";
import { answering } from "./pipeline/answer.ts";
import { bodyReading, headSizeCheck } from "./pipeline/read.ts";
import { internalError } from "./pipeline/responses.ts";
import { routeRunner } from "./pipeline/run.ts";
import { metricsScrape } from "./pipeline/scrape.ts";
import { VERSION } from "./version.ts";

export interface HandlerOptions {
  route: Route;
  params: Params;
  logger: Logger;
  adapter: RequestAdapter;
  /** requests in flight and draining, shared with the shutdown */
  lifecycle?: Lifecycle;
  /** where access_log lines go (stdout) */
  accessLog?: (lines: string) => void;
  /** metrics on: the process's collector, and how a scrape gets the figures (a
   * worker asks its supervisor for the whole server's). Without it, a collector
   * of this handler's own, answered from this process alone. */
  metrics?: HandlerMetrics;
}

export interface HandlerMetrics {
  collector: MetricsCollector;
  exposition(): string | Promise<string>;
}

export interface Handler {
  fetch: FetchHandler;
  /** settles when the handler can take requests (an async route's context store is loaded) */
  ready: Promise<void> | undefined;
}

export function createHandler(opts: HandlerOptions): Handler {
  const { params, logger, adapter } = opts;
  const lifecycle = opts.lifecycle ?? new Lifecycle();
  const trusted = params.trusted_proxies.length > 0 ? new AddressMatcher(params.trusted_proxies) : undefined;
  const metrics = params.metrics === "off" ? undefined : (opts.metrics ?? ownMetrics(lifecycle, adapter.name));
  const events = metrics?.collector;
  const scrape = metrics && metricsScrape({ path: params.metrics, allowed: params.metrics_allowed_ips, exposition: metrics.exposition, logger });
  const admit = admission({ params, adapter, lifecycle, logger, scrape, metrics: events });
  const checkHead = headSizeCheck({ adapter, maxHeaderSize: params.max_header_size, logger, metrics: events });
  const readBody = bodyReading({ adapter, maxBodySize: params.max_body_size, bodyTimeout: params.body_timeout, logger, metrics: events });
  const answer = answering({ adapter, lifecycle, logger, metrics: events });
  const runner = routeRunner({ route: opts.route, routeTimeout: params.route_timeout, adapter, logger, answer, metrics: events });
  const log = params.access_log === "off" ? undefined : accessLogger(params.access_log, opts.accessLog ?? ((lines) => console.log(lines)));

  const handle = (x: Exchange): Response | Promise<Response> => {
    const refused = admit(x) ?? checkHead?.(x);
    if (refused) return refused;
    lifecycle.enter();
    let res: Response | Promise<Response>;
    try {
      const body = readBody(x);
      if (body instanceof Uint8Array) {
        x.bodyLength = body.length;
        res = runner.run(x, body);
      } else if (body instanceof Response) res = body;
      else return body.then((b) => afterBody(x, b), leaveFailed);
    } catch (e) {
      lifecycle.leave();
      throw e;
    }
    if (res instanceof Promise) return res.then(leave, leaveFailed);
    return leave(res);
  };

  /** a body that came later: the route runs in the same microtask, and a
   * synchronous route's answer leaves without another */
  const afterBody = (x: Exchange, b: Uint8Array | Response): Response | Promise<Response> => {
    let res: Response | Promise<Response>;
    try {
      if (b instanceof Response) res = b;
      else {
        x.bodyLength = b.length;
        res = runner.run(x, b);
      }
    } catch (e) {
      return leaveFailed(e);
    }
    return res instanceof Promise ? res.then(leave, leaveFailed) : leave(res);
  };
  const leaveFailed = (e: unknown): Response => (lifecycle.leave(), failed(e));

  /** the request is answered: it no longer counts, and while draining its
   * connection closes (a response the adapter wrote itself said so already) */
  const leave = (res: Response): Response => {
    lifecycle.leave();
    if (lifecycle.draining) {
      try {
        res.headers.set("connection", "close");
      } catch {
        // immutable headers: the adapter's own marker Response
      }
    }
    return res;
  };

  /** nothing a request does may escape as an exception to the runtime */
  const failed = (err: unknown): Response => {
    logger.err(`request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return internalError();
  };

  const collector = metrics?.collector;
  const fetch: FetchHandler = (request, env) => {
    const start = log || collector ? performance.now() : 0;
    const x = new Exchange(request, env, adapter, trusted);
    let res: Response | Promise<Response>;
    try {
      res = handle(x);
      if (res instanceof Promise) res = res.catch(failed);
    } catch (e) {
      res = failed(e);
    }
    if (collector) res = collector.observe(x, res, start);
    return log ? log(x, res, start) : res;
  };

  return { fetch, ready: runner.ready };
}

/** metrics on without a collector given (a fetch handler on a platform): this
 * handler counts, and a scrape gets what it counted. */
function ownMetrics(lifecycle: Lifecycle, runtime: string): HandlerMetrics {
  const collector = new MetricsCollector({ inflight: () => lifecycle.inflight });
  return { collector, exposition: () => renderExposition(collector.snapshot(), { version: VERSION, runtime }) };
}
