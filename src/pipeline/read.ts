// Step 2 of the pipeline, read: the head's size, where the runtime does not limit
// it to max_header_size itself (431), then the body, whole, before the route runs
// (the route reads $mhttpd(data) synchronously), with the one reader of body.ts
// whatever the runtime feeds it from.
import type { RequestAdapter } from "../adapter.ts";
import type { Logger } from "../log.ts";
import type { Exchange } from "../exchange.ts";
import type { PipelineEvents } from "../metrics/events.ts";
import { BodyReader, EMPTY_BODY, StallWatch } from "./body.ts";
import { badRequest, contentTooLarge, headersTooLarge, requestTimeout } from "./responses.ts";

/** Size of the request head as it came on the wire, near enough: request line,
 * each header as "Name: value\r\n", the blank line. The runtimes do not give the
 * raw head; header names and values are what a client can make large. */
export function headSize(req: Request, target: string): number {
  let n = req.method.length + target.length + 12; // " " + " HTTP/1.1\r\n" + "\r\n"
  req.headers.forEach((value, name) => {
    n += name.length + value.length + 4;
  });
  return n;
}

/** The head-size check, or undefined where the runtime refuses large heads at
 * max_header_size itself: measuring a head costs building the request's Headers. */
export function headSizeCheck(opts: { adapter: RequestAdapter; maxHeaderSize: number; logger: Logger; metrics?: PipelineEvents }) {
  const { maxHeaderSize: max, logger, metrics } = opts;
  const own = opts.adapter.limits.head;
  // not set (0): the runtime's own limit is the limit
  if (max === 0 || own === "max_header_size" || max >= own) return undefined;
  return (x: Exchange): Response | undefined => {
    const head = headSize(x.request, x.target);
    if (head <= max) return undefined;
    logger.dbg(`request head of about ${head} bytes is over max_header_size ${max}: 431`);
    metrics?.refused("max_header_size");
    return headersTooLarge();
  };
}

/** The read step, made once: (exchange) => the body, or the refusal to answer with. */
export function bodyReading(opts: { adapter: RequestAdapter; maxBodySize: number; bodyTimeout: number; logger: Logger; metrics?: PipelineEvents }) {
  const { adapter, maxBodySize: limit, logger, metrics } = opts;
  const stalls = adapter.limits.bodyStall ? undefined : new StallWatch(opts.bodyTimeout * 1000, adapter.limits.timersPerRequest);
  return (x: Exchange): Uint8Array | Response | Promise<Uint8Array | Response> => {
    // GET and HEAD never carry a body in the Fetch API: not asking spares
    // @hono/node-server building the full Request
    const method = x.method;
    if (method === "GET" || method === "HEAD") return EMPTY_BODY;
    const declared = x.request.headers.get("content-length");
    if (declared !== null && Number(declared) > limit) {
      logger.info(`${method} ${x.path} from ${x.clientForLog}: Content-Length ${declared} is over max_body_size ${limit}: 413`);
      metrics?.refused("max_body_size");
      return contentTooLarge();
    }
    const reader = new BodyReader(limit, stalls);
    adapter.readBody(x.request, x.env, reader);
    // no body at all: the feeder has ended the reader already
    if (reader.outcome?.ok) return reader.outcome.bytes;
    reader.watchStalls();
    return reader.result.then((body) => {
      if (body.ok) return body.bytes;
      if (body.status === 0) {
        logger.dbg(`${method} ${x.path}: ${body.why}; the route is not run`);
        return badRequest();
      }
      logger.info(`${method} ${x.path} from ${x.clientForLog}: ${body.why}: ${body.status}`);
      metrics?.refused(body.status === 413 ? "max_body_size" : "body_timeout");
      return body.status === 413 ? contentTooLarge() : requestTimeout();
    });
  };
}

