// url_match / url_skip, as in Kamailio's xhttp module: POSIX extended regular
// expressions, case-sensitive, checked against the request target (path and
// query, like xhttp's $hu); skip is checked first. A request kept out gets 404
// and the route never runs. Matched in linear time (src/ere.ts): the target is
// the client's to choose.
import type { EreMatcher } from "./ere.ts";

export class UrlFilter {
  constructor(
    private readonly match: EreMatcher | undefined,
    private readonly skip: EreMatcher | undefined,
  ) {}

  /** which parameter keeps the target out, or undefined when it may pass */
  refuses(target: string): "url_skip" | "url_match" | undefined {
    if (this.skip !== undefined && this.skip.test(target)) return "url_skip";
    if (this.match !== undefined && !this.match.test(target)) return "url_match";
    return undefined;
  }
}
