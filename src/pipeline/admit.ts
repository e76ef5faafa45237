// Step 1 of the pipeline, admit: whether the request may go further at all. The
// checks run in this order, each only when configured, and the first that refuses
// answers:
//   1. Host          a Host that is more than host[:port], or two of them: 400
//                    (RFC 9112 §3.2; every later step reads the target, and
//                    src/target.ts relies on this check having run)
//      CONNECT       405: a 2xx to it would turn the connection into a tunnel
//                    (Bun keeps it open as one); mhttpd is no proxy
//      metrics       a GET of the metrics path from a client in
//                    metrics_allowed_ips: the figures (scrape.ts says why here)
//   2. allowed_ips   a client not in the list, or an unknown one: 403
//   3. url_skip / url_match   (POSIX ERE on the target, as xhttp): 404
//   4. max_connections        where the runtime does not cap sockets itself,
//                    requests in flight beyond it: 503
import type { RequestAdapter } from "../adapter.ts";
import type { Exchange } from "../exchange.ts";
import { AddressMatcher, normalizeIp, parsePeerAddress } from "../ip.ts";
import type { Lifecycle } from "../lifecycle.ts";
import { quote, type Logger } from "../log.ts";
import type { PipelineEvents } from "../metrics/events.ts";
import type { Params } from "../params.ts";
import { isValidHost } from "../target.ts";
import { UrlFilter } from "../url-filter.ts";
import { badRequest, busy, forbidden, methodNotAllowed, notFound } from "./responses.ts";
import type { Scrape } from "./scrape.ts";

/** undefined: go on; else the answer (a scrape's may take a while to gather) */
export type Admit = (x: Exchange) => Response | Promise<Response> | undefined;

export function admission(opts: {
  params: Params;
  adapter: RequestAdapter;
  lifecycle: Lifecycle;
  logger: Logger;
  /** metrics on: the metrics path's check, and where refusals are counted */
  scrape?: Scrape;
  metrics?: PipelineEvents;
}): Admit {
  const { params, lifecycle, logger, scrape, metrics } = opts;
  const allowed = params.allowed_ips.length > 0 ? new AddressMatcher(params.allowed_ips) : undefined;
  const urls = params.url_match || params.url_skip ? new UrlFilter(params.url_match, params.url_skip) : undefined;
  const maxInFlight = opts.adapter.limits.connections ? Infinity : params.max_connections;

  return (x) => {
    const host = x.request.headers.get("host");
    if (host !== null && !isValidHost(host)) {
      logger.dbg(`invalid Host header (${host.length} bytes): 400`);
      metrics?.refused("host");
      return badRequest();
    }
    if (x.method === "CONNECT") {
      logger.dbg("CONNECT: 405 (mhttpd is not a proxy)");
      metrics?.refused("connect");
      return methodNotAllowed();
    }
    if (scrape) {
      const figures = scrape(x);
      if (figures) return figures;
    }
    if (allowed) {
      const client = x.client;
      if (client === null || !allowed.includes(client)) {
        logger.dbg(client === null ? `refused client: ${x.unknownClient}` : `refused client ${shownAddress(client)}: not in allowed_ips`);
        metrics?.refused("allowed_ips");
        return forbidden();
      }
    }
    if (urls) {
      const refusedBy = urls.refuses(x.target);
      if (refusedBy) {
        logger.dbg(`url filter: ${x.target} is kept out (${refusedBy}): 404`);
        metrics?.refused("url_filter");
        return notFound();
      }
    }
    if (lifecycle.inflight >= maxInFlight) {
      logger.warn(`max_connections ${params.max_connections} requests in flight: answering 503`);
      metrics?.refused("max_connections");
      return busy();
    }
    return undefined;
  };
}

/** an address as the log shows it: a platform's address header (CF-Connecting-IP)
 * can hold anything off the platform */
function shownAddress(addr: string): string {
  return parsePeerAddress(addr) ? normalizeIp(addr) : quote(addr);
}
