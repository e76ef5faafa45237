// url_match / url_skip, as in Kamailio's xhttp module: POSIX extended regular
// expressions, case-sensitive, checked against the request target (path and
// query, like xhttp's $hu); skip is checked first. A request kept out gets 404
// and the route never runs.
import type { MiddlewareHandler } from "hono";
import { compileEre } from "./cfg/values.ts";
import { targetOf } from "./context.ts";
import type { Logger } from "./log.ts";

/** The ERE as a RegExp; throws an Error saying why the expression is bad. */
export function parseUrlPattern(raw: string): RegExp | undefined {
  return raw === "" ? undefined : compileEre(raw, false);
}


export function urlFilter(match: RegExp | undefined, skip: RegExp | undefined, logger: Logger): MiddlewareHandler {
  return (c, next) => {
    const target = targetOf(c.req.url);
    if ((skip && skip.test(target)) || (match && !match.test(target))) {
      logger.dbg(`url filter: ${target} is kept out (${skip && skip.test(target) ? "url_skip" : "url_match"}): 404`);
      return Promise.resolve(c.text("Not Found\n", 404));
    }
    return next();
  };
}
