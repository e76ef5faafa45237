// Pseudo-variables: `$mhttpd(...)` (the module's pv_export_t) and the pv module's
// $var / $vn / $shv / $null. A name is parsed once into an accessor; both KEMI's
// KSR.pv.* and the cfg compiler use the same accessors.
import type { RequestContext } from "./context.ts";
import type { PvValue } from "./ksr-api.ts";
import { quote } from "./log.ts";
import { CLOCK_NAMED_PVS, CLOCK_PVS } from "./modules/pv-time.ts";
import { uuidPv } from "./modules/uuid.ts";
import { PvError, type Pv } from "./pv-accessor.ts";
import type { VarView } from "./run-scope.ts";
import { curlErrorPv, httpResponseHeaderPv, lastCurlErrorPv } from "./modules/http-client-pvs.ts";
import { parseRedisPv, REDISD, RedisPvError } from "./modules/ndb_redis/replies.ts";
import { statPv } from "./modules/statistics.ts";

export type { PvValue };
export { PvError, type Pv };

/** The `$mhttpd(name)` attributes. Names are case-insensitive, as in the C module. */
export const MHTTPD_VARS: Record<string, { doc: string; get: (ctx: RequestContext) => PvValue }> = {
  url: { doc: "percent-decoded path, without the query string", get: (c) => c.url },
  data: { doc: "the body as UTF-8 text (\"\" when none)", get: (c) => c.data },
  size: { doc: "body length in bytes (a number)", get: (c) => c.body.length },
  method: { doc: "request method as sent", get: (c) => c.method },
  version: { doc: "HTTP version (HTTP/1.1; on Node the version as sent)", get: (c) => c.version },
  srcip: { doc: "client IP address (IPv4 without ::ffff:); null when a trusted proxy forwarded something that is not an address", get: (c) => c.srcip },
  srcport: { doc: "client port (a number)", get: (c) => c.conn.remotePort ?? null },
  dstip: { doc: "local address the request came in on", get: (c) => c.conn.localAddress ?? null },
  dstport: { doc: "local port the request came in on (a number)", get: (c) => c.conn.localPort ?? null },
  scheme: { doc: "http or https", get: (c) => c.scheme },
  query: { doc: "the raw query string without \"?\" (\"\" when none)", get: (c) => c.query },
  target: { doc: "path and query of the request target", get: (c) => c.target },
};

/** `$mhttpd(prefix:name)` attributes, e.g. h:Host. */
export const MHTTPD_PREFIXED: Record<string, { doc: string; get: (ctx: RequestContext, name: string) => PvValue }> = {
  h: { doc: "the header's value (repeats joined with \", \"), null when absent", get: (c, n) => c.header(n) },
  hdrc: { doc: "how many times the header was sent (0 when absent)", get: (c, n) => c.headerCount(n) },
  arg: { doc: "first value of the query argument, decoded; null when absent", get: (c, n) => c.arg(n) },
};

/** Header names longer than this are refused, as libmicrohttpd's lookup does. */
const MAX_HEADER_NAME = 255;

/** table[name] when the table itself has it: never Object.prototype's
 * constructor, __proto__, toString, ... */
export function ownEntry<T>(table: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

function mhttpdPv(spec: string, inner: string): Pv {
  const colon = inner.indexOf(":");
  if (colon >= 0) {
    const kind = inner.slice(0, colon).toLowerCase();
    const name = inner.slice(colon + 1);
    const prefixed = ownEntry(MHTTPD_PREFIXED, kind);
    if (!prefixed) throw new PvError(`unknown $mhttpd attribute ${quote(inner)} in ${quote(spec)} (prefixes: ${Object.keys(MHTTPD_PREFIXED).join(": ")}:)`);
    if (name === "" || name.length > MAX_HEADER_NAME) throw new PvError(`bad name after "${kind}:" in ${quote(spec)}`);
    const get = prefixed.get;
    return { spec, get: (c) => (c && c.timer === undefined ? get(c, name) : null) };
  }
  const v = ownEntry(MHTTPD_VARS, inner.toLowerCase());
  if (!v) {
    throw new PvError(`unknown $mhttpd attribute ${quote(inner)} in ${quote(spec)} (known: ${Object.keys(MHTTPD_VARS).join(", ")}, h:Name, hdrc:Name, arg:name)`);
  }
  const get = v.get;
  return { spec, get: (c) => (c && c.timer === undefined ? get(c) : null) };
}

/** Per-process variables, kept across requests as in Kamailio (one store per worker). */
export const varStore = new Map<string, PvValue>();
export const vnStore = new Map<string, PvValue>();
export const shvStore = new Map<string, PvValue>();

/** `isolated`: a .cfg route that can suspend reads and writes its own view of the
 * store (src/run-scope.ts), so that requests in flight never see each other's writes */
const storePv = (spec: string, store: Map<string, PvValue>, key: string, nullable: boolean, isolated: boolean): Pv => ({
  spec,
  // $var is never null: unset reads as 0 and assigning $null stores 0
  get: (c) => {
    const view: VarView | undefined = isolated ? c?.scope?.vars : undefined;
    return (view ? view.get(store, key) : store.get(key)) ?? (nullable ? null : 0);
  },
  set: (c, value) => {
    const stored = value === null && nullable ? undefined : (value ?? 0);
    const view = isolated ? c?.scope?.vars : undefined;
    if (view) view.set(store, key, stored);
    else if (stored === undefined) store.delete(key);
    else store.set(key, stored);
  },
});

/** $rtimer_worker (rtimer): which of a timer's `mode` runs this is; 0 outside a timer, as in Kamailio */
const RTIMER_WORKER_PV: Pv = { spec: "$rtimer_worker", get: (c) => c?.timer?.worker ?? 0 };

/** A module's variable parser throws plain Errors; callers expect PvError. */
function asPvError(parse: () => Pv): Pv {
  try {
    return parse();
  } catch (e) {
    throw e instanceof PvError ? e : new PvError((e as Error).message);
  }
}

const NULL_PV: Pv = { spec: "$null", get: () => null };

/** Variable classes that modules add ($dbr, $xavp, $sqlrows from sqlops): class -> parser of "$class(inner)". */
const MODULE_CLASSES: Record<string, (spec: string, inner: string) => Pv> = {};

/** A module's variable class, parsed here like the built-in ones (so KSR.pv and the cfg both see it). */
export function definePvClass(cls: string, parse: (spec: string, inner: string) => Pv): void {
  MODULE_CLASSES[cls] = parse;
}

const PV_RE = /^\$(\w+)(?:\((.*)\))?$/s;

/** The other modules' variables with a name in parentheses: class -> accessor for
 * a name (read when a name is parsed: the modules import this file too). */
function namedPvOf(cls: string): ((spec: string, inner: string) => Pv) | undefined {
  if (cls === "uuid") return uuidPv;
  return ownEntry(CLOCK_NAMED_PVS, cls);
}

export function parsePv(spec: string): Pv {
  if (spec === "$null") return NULL_PV;
  if (spec === "$rtimer_worker") return RTIMER_WORKER_PV;
  if (spec === "$curlerror") return lastCurlErrorPv;
  const m = PV_RE.exec(spec);
  if (!m) throw new PvError(`invalid pseudo-variable name ${quote(spec)}`);
  const [, cls, inner] = m;
  if (inner === undefined) {
    const bare = ownEntry(CLOCK_PVS, cls);
    if (bare) return bare;
    throw new PvError(`unknown pseudo-variable ${quote(spec)}`);
  }
  switch (cls) {
    case "mhttpd":
      return mhttpdPv(spec, inner);
    case "var":
      return storePv(spec, varStore, inner, false, true);
    case "vn":
      return storePv(spec, vnStore, inner, true, true);
    case "shv":
      // shared by design, as Kamailio's shared memory: every run sees every write at once
      return storePv(spec, shvStore, inner, true, false);
    case "curlerror":
      return asPvError(() => curlErrorPv(spec, inner, lookupPv));
    case "httprhdr":
      return asPvError(() => httpResponseHeaderPv(spec, inner));
    case "redis":
      return redisPv(spec, inner);
    case "stat":
      return statPv(spec, inner);
    case "redisd": {
      const n = ownEntry(REDISD, inner);
      if (n === undefined) throw new PvError(`unknown $redisd name ${quote(inner)} (known: ${Object.keys(REDISD).join(", ")})`);
      return { spec, get: () => n };
    }
    default: {
      const named = namedPvOf(cls);
      if (named) return named(spec, inner);
      const parse = ownEntry(MODULE_CLASSES, cls);
      if (parse) return parse(spec, inner);
      throw new PvError(`unknown pseudo-variable class "$${cls}" in ${quote(spec)}`);
    }
  }
}

/** "$var(a), $vn(b);$shv(c)" -> the names, split where Kamailio's parse_pvname_list splits
 * (spaces, tabs, commas, semicolons, newlines) outside parentheses and braces. */
export function splitPvList(list: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of list) {
    if (c === "(" || c === "{") depth++;
    else if (c === ")" || c === "}") depth--;
    if (depth === 0 && /[ \t\n,;]/.test(c)) {
      if (cur !== "") names.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur !== "") names.push(cur);
  return names;
}

/** $redis(name=>key): ndb_redis's reply containers, the request's own. */
function redisPv(spec: string, inner: string): Pv {
  let read: ReturnType<typeof parseRedisPv<RequestContext | undefined>>;
  try {
    read = parseRedisPv<RequestContext | undefined>(inner, (index) => {
      const pv = parsePv(index);
      return (ctx) => pv.get(ctx);
    });
  } catch (e) {
    if (e instanceof RedisPvError) throw new PvError(e.message);
    throw e;
  }
  return { spec, get: (ctx) => read(ctx, ctx) };
}

// KEMI passes names as strings on every call; parse each distinct name once.
const cache = new Map<string, Pv | PvError>();
const CACHE_MAX = 4096;

export function lookupPv(spec: string): Pv | PvError {
  let pv = cache.get(spec);
  if (pv === undefined) {
    try {
      pv = parsePv(spec);
    } catch (e) {
      pv = e instanceof PvError ? e : new PvError(String(e));
    }
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(spec, pv);
  }
  return pv;
}
