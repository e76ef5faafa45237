// Step 4 of the pipeline, answer: what the route did, as the response. In order:
// the request was already answered at route_timeout (503, never sent); the route
// failed before replying (500); it dropped the connection (no response at all,
// even after a reply, as the C module); it replied (its reply); it ended without
// a reply (500, where the C module would run the route again for ever).
import type { RequestAdapter } from "../adapter.ts";
import type { Exchange } from "../exchange.ts";
import { KSR_EXIT } from "../ksr-api.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { Logger } from "../log.ts";
import type { PipelineEvents } from "../metrics/events.ts";
import type { Ended } from "./run.ts";
import { internalError, unavailable } from "./responses.ts";

export function answering(opts: { adapter: RequestAdapter; lifecycle: Lifecycle; logger: Logger; metrics?: PipelineEvents }) {
  const { adapter, lifecycle, logger, metrics } = opts;
  return (x: Exchange, { ctx, error }: Ended): Response => {
    if (ctx.settled) return unavailable(); // answered 503 at route_timeout; this one is never sent
    ctx.settled = true;
    if (error !== undefined && error !== KSR_EXIT) {
      const detail = error instanceof Error ? (error.stack ?? String(error)) : String(error);
      logger.err(`route failed on ${ctx.method} ${ctx.url}: ${detail}`);
      metrics?.routeFailed();
      if (!ctx.reply && !ctx.dropped) return internalError();
    }
    if (ctx.dropped) {
      logger.dbg(`drop: closing the connection of ${ctx.method} ${ctx.url} without a response`);
      x.dropped = true;
      return adapter.drop(x.request, x.env);
    }
    if (ctx.reply) {
      const obsText = ctx.replyObsText || ctx.reply.obsText === true;
      const response = adapter.respond(x.request, x.env, { reply: ctx.reply, headers: ctx.replyHeaders, close: lifecycle.draining, obsText });
      // for the access log, once the reply is out of our hands (what the adapter
      // wrote itself has only a marker Response); its length is counted only there
      x.reply = ctx.reply;
      return response;
    }
    logger.warn(`route ended without a reply for ${ctx.method} ${ctx.url}: sending 500`);
    return internalError();
  };
}
