// The metrics check of the admit step (metrics = a path): a GET or HEAD of that
// path from a client in metrics_allowed_ips is answered with the server's figures
// in Prometheus text format, before allowed_ips, the url filters and
// max_connections. A scraper is seldom a client of the API (allowed_ips), and it
// should see an overloaded server's figures most of all. A request for the path
// from any other client, or with another method, is not refused here: it goes on
// as any other request, through allowed_ips to the route, so the path tells a
// stranger nothing that another path would not.
import type { Exchange } from "../exchange.ts";
import { AddressMatcher } from "../ip.ts";
import type { Logger } from "../log.ts";
import { EXPOSITION_CONTENT_TYPE } from "../metrics/exposition.ts";
import { unavailable } from "./responses.ts";

export type Scrape = (x: Exchange) => Response | Promise<Response> | undefined;

export interface ScrapeOptions {
  path: string;
  allowed: readonly string[];
  /** the figures as Prometheus text (a worker asks its supervisor for the server's) */
  exposition(): string | Promise<string>;
  logger: Logger;
}

const utf8 = new TextEncoder();

const answer = (text: string, head: boolean): Response => {
  const bytes = utf8.encode(text);
  return new Response(head ? null : bytes, {
    headers: { "content-type": EXPOSITION_CONTENT_TYPE, "content-length": String(bytes.length), "cache-control": "no-store" },
  });
};

export function metricsScrape(opts: ScrapeOptions): Scrape {
  const { path, logger } = opts;
  const scrapers = new AddressMatcher(opts.allowed);
  return (x) => {
    const method = x.method;
    if ((method !== "GET" && method !== "HEAD") || x.path !== path) return undefined;
    const client = x.client;
    if (client === null || !scrapers.includes(client)) return undefined;
    x.scrape = true;
    const head = method === "HEAD";
    let text: string | Promise<string>;
    try {
      text = opts.exposition();
    } catch (e) {
      return failed(e);
    }
    return typeof text === "string" ? answer(text, head) : text.then((t) => answer(t, head), failed);
  };

  function failed(e: unknown): Response {
    logger.err(`metrics: the figures could not be gathered: ${(e as Error)?.message ?? String(e)}: 503`);
    return unavailable();
  }
}
