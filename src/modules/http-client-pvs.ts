// http_client's pseudo-variables, for src/pv.ts (KSR.pv and the cfg alike):
//   $curlerror(N)    curl_easy_strerror(N), as Kamailio's; N may also be a variable
//                    ($curlerror($var(rc))), read when used (Kamailio reads the text
//                    with atoi, so a variable there always gives "No error")
//   $curlerror       mhttpd's: cURL's words for this request's last failed call,
//                    null once a call got a response (the functions return -1 on
//                    failure, not cURL's code, so $curlerror(N) alone cannot say why)
//   $httprhdr(Name)  a header of the last response, when response_headers is on
import type { RequestContext } from "../context.ts";
import type { PvValue } from "../ksr-api.ts";
import { curlErrorText } from "./curl-errors.ts";
import { callState } from "./http-client-state.ts";

interface PvLike {
  readonly spec: string;
  get(ctx: RequestContext | undefined): PvValue;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const lastCurlErrorPv: PvLike = { spec: "$curlerror", get: (ctx) => callState(ctx).lastError };

/** The integer a variable's value stands for, as Kamailio's str2sint reads text. */
function codeOf(v: PvValue): number {
  if (typeof v === "number") return Math.trunc(v);
  const n = parseInt(String(v ?? ""), 10);
  return Number.isNaN(n) ? 0 : n;
}

/** $curlerror(7) or $curlerror($var(x)); `lookup` parses the inner variable (src/pv.ts). */
export function curlErrorPv(spec: string, inner: string, lookup: (spec: string) => PvLike | Error): PvLike {
  const t = inner.trim();
  if (/^-?\d{1,9}$/.test(t)) {
    const text = curlErrorText(Number(t));
    return { spec, get: () => text };
  }
  if (t.startsWith("$")) {
    const pv = lookup(t);
    if (pv instanceof Error) throw pv;
    return { spec, get: (ctx) => curlErrorText(codeOf(pv.get(ctx))) };
  }
  throw new Error(`${spec}: expected a cURL error code (a number) or a variable holding one`);
}

/** $httprhdr(Name): the last response's header (repeats joined with ", "), null when absent or not stored. */
export function httpResponseHeaderPv(spec: string, name: string): PvLike {
  if (!TOKEN.test(name)) throw new Error(`${spec}: ${JSON.stringify(name)} is not a header name`);
  return { spec, get: (ctx) => callState(ctx).headers?.get(name) ?? null };
}
