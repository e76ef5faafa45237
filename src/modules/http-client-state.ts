// What http_client keeps between calls, apart from its engine (http-client.ts,
// loaded on a route's first call): the settings of the loaded .cfg, and per
// request what the last call left for $curlerror, $httprhdr and
// http_get_redirect to read (src/pv.ts reads them for any route).
import type { RequestContext } from "../context.ts";
import { defaultHttpClientSettings, type HttpClientSettings } from "./http-client-config.ts";

let active: HttpClientSettings = defaultHttpClientSettings();

/** The settings of the process's http_client, from the .cfg that was loaded last. */
export function useHttpClientSettings(settings: HttpClientSettings): void {
  active = settings;
}

export function httpClientSettings(): HttpClientSettings {
  return active;
}

/** What a request's calls leave behind for the next ones to read. */
interface CallState {
  /** cURL's words for the last call's failure; null after a response */
  lastError: string | null;
  /** http_client_response_headers_set(), starting from modparam response_headers */
  storeHeaders: boolean;
  /** the last response's headers, when stored */
  headers: Headers | null;
  /** http_get_redirect(): the URL each connection's last call ended at */
  lastUrl: Map<string, string>;
}

const states = new WeakMap<RequestContext, CallState>();
/** the calls made outside any request (a KEMI script's top level, a timer) */
let processState: CallState | undefined;

export function callState(ctx: RequestContext | undefined): CallState {
  const fresh = (): CallState => ({ lastError: null, storeHeaders: active.responseHeaders, headers: null, lastUrl: new Map() });
  if (!ctx) return (processState ??= fresh());
  let s = states.get(ctx);
  if (!s) states.set(ctx, (s = fresh()));
  return s;
}
