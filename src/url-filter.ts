// url_match / url_skip, as in Kamailio's xhttp module: POSIX extended regular
// expressions, case-sensitive, checked against the request target (path and
// query, like xhttp's $hu); skip is checked first. A request kept out gets 404
// and the route never runs. Matched in linear time (src/ere.ts): the target is
// the client's to choose.
import type { MiddlewareHandler } from "hono";
import { targetOf } from "./context.ts";
import { compileEre, type EreMatcher } from "./ere.ts";
import type { Logger } from "./log.ts";

/** The compiled ERE; throws an Error saying why the expression cannot run. */
export function parseUrlPattern(raw: string): EreMatcher | undefined {
  return raw === "" ? undefined : compileEre(raw, false);
}

export function urlFilter(match: EreMatcher | undefined, skip: EreMatcher | undefined, logger: Logger): MiddlewareHandler {
  return (c, next) => {
    const target = targetOf(c.req.url);
    const skipped = skip !== undefined && skip.test(target);
    if (skipped || (match && !match.test(target))) {
      logger.dbg(`url filter: ${target} is kept out (${skipped ? "url_skip" : "url_match"}): 404`);
      return Promise.resolve(c.text("Not Found\n", 404));
    }
    return next();
  };
}
