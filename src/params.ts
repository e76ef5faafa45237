// The module's parameters, declared once as data (like Kamailio's param_export_t).
// The config resolver, the command line, `--help` and the cfg `modparam` all read
// this table, so a parameter added here is validated, settable and documented
// everywhere at once. Every value goes through its valibot schema.
import * as v from "valibot";
import { addressLibrary, parseAllowedIps } from "./ip.ts";
import { LOG_LEVELS, parseLogLevel } from "./log.ts";
import { compileEre, ereEngine, type EreMatcher } from "./ere.ts";
import type { OnDemand } from "./on-demand.ts";

/** access_log: off, or one line per request in Common Log Format or as JSON */
export type AccessLogFormat = "off" | "common" | "json";

/** Kamailio's declared modparam type: a cfg `modparam` must give this type. */
export type KamailioType = "int" | "str";

export interface ParamSpec<T> {
  /** the module's name, kept exactly */
  name: string;
  /** modparam type in a kamailio.cfg */
  type: KamailioType;
  /** what a valid value looks like, for error messages and --help */
  allowed: string;
  doc: string;
  default: T;
  /** how --help and the README say the default, where the value alone would not */
  defaultText?: string;
  /** the value may be given more than once; the values are collected */
  repeatable?: boolean;
  /** a library the schema uses, loaded only when the parameter is given (config.ts prepareParams) */
  needs?: OnDemand<unknown>;
  schema: v.GenericSchema<unknown, T>;
}

function spec<T>(s: ParamSpec<T>): ParamSpec<T> {
  return s;
}

/** url_match / url_skip: the compiled ERE; throws an Error saying why it cannot run. */
function urlPattern(raw: string): EreMatcher | undefined {
  return raw === "" ? undefined : compileEre(raw, false);
}

/** A schema from a parser that returns the value or throws an Error whose message says why. */
function parsed<T>(parse: (raw: unknown) => T): v.GenericSchema<unknown, T> {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      try {
        return parse(dataset.value);
      } catch (e) {
        addIssue({ message: (e as Error).message });
        return NEVER;
      }
    }),
  ) as v.GenericSchema<unknown, T>;
}

const str = (raw: unknown): string => {
  if (typeof raw === "string") return raw.trim();
  throw new Error(`expected a string, got ${typeof raw}`);
};

export function parseInteger(raw: unknown, min: number, max: number): number {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}`);
  return n;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIP(s: string): boolean {
  return v.is(v.pipe(v.string(), v.ip()), s);
}

/** `addr:port` or `[v6]:port`, as in the C module's listen_socket (PR #4878);
 * a `tls:` prefix (`tls:0.0.0.0:8443`) makes that socket HTTPS. */
export interface ListenSocket {
  hostname: string;
  port: number;
  /** HTTPS with tls_cert and tls_key */
  tls?: boolean;
}

export function parseListenSocket(entry: string): ListenSocket {
  const tls = /^tls:/i.test(entry);
  const rest = tls ? entry.slice(4) : entry;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(rest) ?? /^([^:[\]]+):(\d+)$/.exec(rest);
  if (!m) throw new Error(`"${entry}" is not addr:port (IPv6 as [::1]:8080, tls:addr:port for HTTPS)`);
  const [, hostname, port] = m;
  if (!isIP(hostname)) throw new Error(`"${hostname}" in "${entry}" is not an IPv4 or IPv6 address`);
  return tls ? { hostname, port: parseInteger(port, 0, 65535), tls } : { hostname, port: parseInteger(port, 0, 65535) };
}

/** A byte size: an integer with an optional k or m suffix (1024-based): 65536, 64k, 1m. */
export function parseSize(raw: unknown, min: number, max: number): number {
  const m = typeof raw === "number" ? [String(raw), String(raw), ""] : typeof raw === "string" ? /^\s*(\d+)\s*([kKmM]?)\s*$/.exec(raw) : null;
  const n = m ? Number(m[1]) * (m[2] === "" ? 1 : /k/i.test(m[2]) ? 1024 : 1024 * 1024) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`expected a size from ${min} to ${max} bytes (k and m suffixes allowed)`);
  return n;
}

/** A duration in seconds, fractions allowed: 10, 0.5, 2.25. */
export function parseSeconds(raw: unknown, min: number, max: number): number {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`expected seconds from ${min} to ${max} (fractions allowed)`);
  return n;
}

/** The characters a path segment may hold as they are (RFC 3986 pchar without
 * pct-encoded): the metrics path is compared with the request's path as sent, so a
 * %-escape or a query in it would never match. */
const METRICS_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]{0,255}$/;

/** metrics: "off" (or empty), or the path it answers at. */
function parseMetricsPath(raw: unknown): string {
  const s = str(raw);
  if (s === "" || s.toLowerCase() === "off") return "off";
  if (!METRICS_PATH.test(s)) throw new Error('expected "off" or a path that starts with "/" (up to 256 characters, no query, no %-escapes)');
  return s;
}

const sizeParam = (name: string, dflt: number, max: number, doc: string): ParamSpec<number> =>
  spec<number>({
    name,
    // a modparam may give an int (bytes) or a str with a suffix ("64k")
    type: "str",
    allowed: `bytes from 1 to ${max}, with an optional k or m suffix (64k, 1m); an int modparam is bytes`,
    doc,
    default: dflt,
    schema: parsed((raw) => parseSize(raw, 1, max)),
  });

const timeParam = (name: string, dflt: number, doc: string, min = 0.05): ParamSpec<number> =>
  spec<number>({
    name,
    // a modparam may give an int (seconds) or a str with a fraction ("0.5")
    type: "str",
    allowed: `seconds from ${min} to 86400, fractions allowed (2, 0.5); an int modparam is seconds`,
    doc,
    default: dflt,
    schema: parsed((raw) => parseSeconds(raw, min, 86400)),
  });

/** Every parameter and the type of its validated value, written out: a reader sees
 * them in one place, and JSR documents the package from written types. */
export interface ParamTable {
  listen_addr: ParamSpec<string>;
  listen_port: ParamSpec<number>;
  listen_socket: ParamSpec<ListenSocket[]>;
  tls_cert: ParamSpec<string>;
  tls_key: ParamSpec<string>;
  http2: ParamSpec<boolean>;
  event_callback: ParamSpec<string>;
  allowed_ips: ParamSpec<string[]>;
  max_body_size: ParamSpec<number>;
  max_header_size: ParamSpec<number>;
  header_timeout: ParamSpec<number>;
  body_timeout: ParamSpec<number>;
  idle_timeout: ParamSpec<number>;
  route_timeout: ParamSpec<number>;
  shutdown_timeout: ParamSpec<number>;
  max_connections: ParamSpec<number>;
  trusted_proxies: ParamSpec<string[]>;
  url_match: ParamSpec<EreMatcher | undefined>;
  url_skip: ParamSpec<EreMatcher | undefined>;
  access_log: ParamSpec<AccessLogFormat>;
  workers: ParamSpec<number | "auto">;
  metrics: ParamSpec<string>;
  metrics_allowed_ips: ParamSpec<string[]>;
  debug: ParamSpec<number>;
}

export const PARAMS: ParamTable = {
  listen_addr: spec<string>({
    name: "listen_addr",
    type: "str",
    allowed: "an IPv4 or IPv6 address, or empty for all local IPv4 addresses",
    doc: "Address to bind. Empty binds 0.0.0.0 (all local IPv4 addresses) on every runtime, as the C module does.",
    default: "",
    schema: parsed((raw) => {
      const s = str(raw).replace(/^\[(.*)\]$/, "$1");
      if (s !== "" && !isIP(s)) throw new Error("expected an IPv4 or IPv6 address, or empty");
      return s;
    }),
  }),
  listen_port: spec<number>({
    name: "listen_port",
    type: "int",
    allowed: "an integer from 0 to 65535 (0 = a free port chosen by the system)",
    doc: "Port to listen on; 0 lets the system choose one, printed at start.",
    default: 8280,
    schema: parsed((raw) => parseInteger(raw, 0, 65535)),
  }),
  listen_socket: spec<ListenSocket[]>({
    name: "listen_socket",
    type: "str",
    allowed: "comma-separated addr:port entries, IPv6 as [::1]:8080, tls:addr:port for HTTPS",
    doc: "Sockets to listen on; when set, replaces listen_addr/listen_port. May be given more than once. A tls: prefix makes that socket HTTPS.",
    default: [],
    repeatable: true,
    schema: parsed((raw) => {
      const values = Array.isArray(raw) ? raw : [raw];
      return values.flatMap((one) =>
        str(one)
          .split(",")
          .map((e) => e.trim())
          .filter((e) => e !== "")
          .map(parseListenSocket),
      );
    }),
  }),
  tls_cert: spec<string>({
    name: "tls_cert",
    type: "str",
    allowed: "a PEM certificate file (the chain after it), or empty",
    doc: "With tls_key: serve HTTPS on every listen socket, or only on the tls: ones of listen_socket when any has the prefix.",
    default: "",
    schema: parsed(str),
  }),
  tls_key: spec<string>({
    name: "tls_key",
    type: "str",
    allowed: "an unencrypted PEM private key file, or empty",
    doc: "Private key of tls_cert; a key that does not match the certificate stops start-up.",
    default: "",
    schema: parsed(str),
  }),
  http2: spec<boolean>({
    name: "http2",
    type: "int",
    allowed: "1 (h2 and http/1.1) or 0 (http/1.1 only)",
    doc: "On TLS sockets, offer HTTP/2 by ALPN beside HTTP/1.1 on the same socket. Deno.serve always offers it: 0 is a start-up error there.",
    default: true,
    defaultText: "1",
    schema: parsed((raw) => parseInteger(raw, 0, 1) === 1),
  }),
  event_callback: spec<string>({
    name: "event_callback",
    type: "str",
    allowed: "the name of a function exported by the route module",
    doc: "Exported function of the route module to run for each request; empty runs the default export.",
    default: "",
    schema: parsed((raw) => {
      const s = str(raw);
      if (s !== "" && !/^[A-Za-z_$][\w$]*$/.test(s)) throw new Error("expected a JavaScript identifier");
      return s;
    }),
  }),
  allowed_ips: spec<string[]>({
    name: "allowed_ips",
    type: "str",
    allowed: "comma-separated IPv4/IPv6 addresses and CIDR ranges (a.b.c.d/n, a.b.c.d/m.m.m.m, x::/n; ::ffff:a.b.c.d/n is a.b.c.d/(n-96))",
    doc: "Clients allowed to connect, checked on the client's address (the peer, or the address trusted_proxies forwarded for) before the route runs; others get 403; empty allows all.",
    default: [],
    needs: addressLibrary,
    schema: parsed((raw) => parseAllowedIps(str(raw))),
  }),
  max_body_size: sizeParam(
    "max_body_size",
    1024 * 1024,
    1024 * 1024 * 1024,
    "Largest request body; a larger one (announced or chunked) gets 413 and the route never runs.",
  ),
  max_header_size: spec<number>({
    ...sizeParam("max_header_size", 0, 1024 * 1024, "Largest request head (request line and headers); a larger one gets 431. Unset: the runtime's own limit."),
    // 0 = not set: the runtime refuses large heads itself, and no head is measured
    // per request (docs/limits-and-security.md says each runtime's limit)
    defaultText: "the runtime's: Bun 16 KiB (431), Deno 64 KiB (400), Node 16 KiB (431)",
  }),
  header_timeout: timeParam("header_timeout", 10, "Seconds a client has to send a complete request head; then the connection is closed."),
  body_timeout: timeParam("body_timeout", 30, "Seconds a request body may stop arriving; then 408 and the connection is closed."),
  idle_timeout: timeParam("idle_timeout", 60, "Seconds an idle keep-alive connection is kept open.", 1),
  route_timeout: timeParam("route_timeout", 30, "Seconds a route has to reply; then 503 and its KSR stops acting for that request."),
  shutdown_timeout: timeParam(
    "shutdown_timeout",
    10,
    "Seconds SIGTERM/SIGINT waits for requests in flight before closing what is left.",
    0,
  ),
  max_connections: spec<number>({
    name: "max_connections",
    type: "int",
    allowed: "an integer from 1 to 1000000",
    doc: "Node: most sockets open at once, further ones are closed when accepted. Bun and Deno: most requests in flight, further ones get 503 (idle keep-alive sockets are not counted).",
    default: 10000,
    schema: parsed((raw) => parseInteger(raw, 1, 1000000)),
  }),
  trusted_proxies: spec<string[]>({
    name: "trusted_proxies",
    type: "str",
    allowed: "comma-separated IPv4/IPv6 addresses and CIDR ranges, as in allowed_ips, or empty",
    doc: "Proxies whose X-Forwarded-For is believed for srcip and allowed_ips; an entry that is not an address makes the client unknown (srcip null, 403 with allowed_ips); empty ignores X-Forwarded-For.",
    default: [],
    needs: addressLibrary,
    schema: parsed((raw) => parseAllowedIps(str(raw))),
  }),
  url_match: spec<EreMatcher | undefined>({
    name: "url_match",
    type: "str",
    allowed: "a POSIX extended regular expression (case-sensitive, no back-references), or empty",
    doc: "Only requests whose target (path and query) matches run the route; others get 404. As in xhttp.",
    default: undefined,
    needs: ereEngine,
    schema: parsed((raw) => urlPattern(str(raw))),
  }),
  url_skip: spec<EreMatcher | undefined>({
    name: "url_skip",
    type: "str",
    allowed: "a POSIX extended regular expression (case-sensitive, no back-references), or empty",
    doc: "Requests whose target matches get 404 without running the route; checked before url_match. As in xhttp.",
    default: undefined,
    needs: ereEngine,
    schema: parsed((raw) => urlPattern(str(raw))),
  }),
  access_log: spec<AccessLogFormat>({
    name: "access_log",
    type: "str",
    allowed: "off, common or json",
    doc: "One line per request on stdout after the response (time, client, method, target, status sent, bytes, duration); request fields escaped (common: as nginx's escape=default).",
    default: "off",
    schema: parsed((raw) => {
      const s = str(raw).toLowerCase();
      if (s !== "off" && s !== "common" && s !== "json") throw new Error("expected off, common or json");
      return s;
    }),
  }),
  workers: spec<number | "auto">({
    name: "workers",
    // a modparam may give an int or the str "auto"
    type: "str",
    allowed: "an integer from 1 to 1024, or auto (one per CPU)",
    doc: "Processes serving the same listen sockets; a worker that dies is restarted. State ($var, module variables) is per worker.",
    default: 1,
    schema: parsed((raw) => (typeof raw === "string" && raw.trim().toLowerCase() === "auto" ? "auto" : parseInteger(raw, 1, 1024))),
  }),
  metrics: spec<string>({
    name: "metrics",
    type: "str",
    allowed: 'off, or a path such as /metrics (letters, digits and - . _ ~ ! $ & \' ( ) * + , ; = : @ /; no query, no %-escapes)',
    doc: "Path where a GET from an address in metrics_allowed_ips gets the server's figures in Prometheus text format, before allowed_ips and the route; off counts nothing.",
    default: "off",
    schema: parsed(parseMetricsPath),
  }),
  metrics_allowed_ips: spec<string[]>({
    name: "metrics_allowed_ips",
    type: "str",
    allowed: "comma-separated IPv4/IPv6 addresses and CIDR ranges, as in allowed_ips; not empty (0.0.0.0/0,::/0 for every address)",
    doc: "Clients that get the figures at the metrics path (the client address as for allowed_ips); a request for that path from another goes on as any other request.",
    default: ["127.0.0.0/8", "::1"],
    defaultText: "127.0.0.0/8, ::1 (loopback)",
    schema: parsed((raw) => {
      const list = parseAllowedIps(str(raw));
      if (list.length === 0) throw new Error("the list is empty: name the scrapers' addresses (0.0.0.0/0,::/0 lets every address scrape)");
      return list;
    }),
  }),
  debug: spec<number>({
    name: "debug",
    type: "int",
    allowed: `a Kamailio log level: -5..3 or ${Object.keys(LOG_LEVELS).join(", ")}`,
    doc: "Log level as in Kamailio (2 = info, 3 = debug).",
    default: 2,
    schema: parsed(parseLogLevel),
  }),
};

export type ParamName = keyof ParamTable;
export type Params = { [K in ParamName]: ParamTable[K] extends ParamSpec<infer T> ? T : never };

export const PARAM_NAMES = Object.keys(PARAMS) as ParamName[];

export const isIPv4 = (s: string): boolean => IPV4.test(s);
