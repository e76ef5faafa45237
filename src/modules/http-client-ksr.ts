// KSR.http_client (src/modules/http-client-api.ts): the KEMI side of the
// http_client engine. Each call stores its result in the variable named by `dpv`,
// as Kamailio's ki_* functions do, after checking that it can be written.
import type { RequestContext } from "../context.ts";
import { L_ERR, type Logger } from "../log.ts";
import { lookupPv, PvError, type PvValue } from "../pv.ts";
import { OnDemand } from "../on-demand.ts";
import type { KsrHttpClientApi } from "./http-client-api.ts";
import type { Call } from "./http-client.ts";

type Engine = typeof import("./http-client.ts");
/** the transfer engine, loaded by a route's first call (a route without one never loads it) */
const engine = new OnDemand<Engine>("http_client's engine", () => import("./http-client.ts"));

/** KSR.http_client for one request (ctx undefined: outside any request). */
export class KsrHttpClient implements KsrHttpClientApi {
  constructor(
    private readonly ctx: RequestContext | undefined,
    private readonly logger: Logger,
  ) {}

  query(url: string, dpv: string): Promise<number> {
    return this.query_post_hdrs(url, "", "", dpv);
  }
  query_post(url: string, post: string, dpv: string): Promise<number> {
    return this.query_post_hdrs(url, post, "", dpv);
  }
  query_post_hdrs(url: string, post: string, hdrs: string, dpv: string): Promise<number> {
    const body = String(post);
    return this.run("http_client.query", dpv, (e) => e.queryCall("http_client.query", body === "" ? "GET" : "POST", String(url), body, String(hdrs)));
  }
  get_hdrs(url: string, body: string, hdrs: string, dpv: string): Promise<number> {
    return this.run("http_client.get_hdrs", dpv, (e) => e.queryCall("http_client.get_hdrs", "GET", String(url), String(body), String(hdrs)));
  }
  query_request(method: string, url: string, body: string, hdrs: string, dpv: string): Promise<number> {
    return this.run("http_client.query_request", dpv, (e) => e.queryCall("http_client.query_request", String(method), String(url), String(body), String(hdrs)));
  }
  curl_connect(connection: string, url: string, dpv: string): Promise<number> {
    return this.runConnect("http_client.curl_connect", String(connection), String(url), undefined, dpv);
  }
  curl_connect_post(connection: string, url: string, ctype: string, data: string, dpv: string): Promise<number> {
    return this.runConnect("http_client.curl_connect_post", String(connection), String(url), { ctype: String(ctype), data: String(data) }, dpv);
  }

  private async run(what: string, dpv: string, make: (e: Engine) => Call): Promise<number> {
    const set = this.target(what, dpv);
    if (!set) return -1;
    const e = engine.loaded ?? (await engine.load());
    const call = make(e);
    const { code, result } = e.settle(this.ctx, this.logger, call, await e.perform(call, this.ctx?.signal));
    set(result);
    return code;
  }

  private async runConnect(what: string, name: string, path: string, post: { ctype: string; data: string } | undefined, dpv: string): Promise<number> {
    const set = this.target(what, dpv);
    if (!set) return -1;
    const e = engine.loaded ?? (await engine.load());
    const { code, result } = await e.connect(this.ctx, this.logger, what, name, path, post);
    set(result);
    return code;
  }

  /** The result variable's setter; undefined (and an error log) when it cannot be written, as ki_* checks first. */
  private target(what: string, dpv: string): ((v: PvValue) => void) | undefined {
    const pv = lookupPv(String(dpv));
    if (pv instanceof PvError || !pv.set) {
      this.logger.log(L_ERR, `${what}: the result variable ${JSON.stringify(String(dpv))} ${pv instanceof PvError ? `is invalid: ${pv.message}` : "is read-only"}`, "<script>");
      return undefined;
    }
    const set = pv.set.bind(pv);
    return (v) => set(this.ctx, v);
  }
}
