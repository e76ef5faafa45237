// http_client's module parameters and connections (modparam("http_client", ...)),
// read as Kamailio reads them: in file order, so a connection declared by httpcon
// takes the defaults set by the modparams above it, not those below (the module's
// documented behaviour). What fetch cannot do (client certificates, a CA file,
// proxies, cipher lists, TLS versions, turning certificate checks off, a source
// interface) is refused by name at start-up, never accepted and ignored.

import { fieldValueProblem } from "../reply.ts";

export type HttpClientParamType = "int" | "str";

export interface HttpConnection {
  name: string;
  /** "http" or "https" */
  schema: string;
  /** what follows "schema://" (and the credentials), before the ";" parameters */
  base: string;
  username?: string;
  password?: string;
  /** in timeout_mode's unit; 0: the module's connection_timeout */
  timeout: number;
  maxdatasize: number;
  followRedirect: boolean;
  useragent: string;
  /** another connection tried once when this one fails or answers 5xx */
  failover?: string;
  /** the parameters its declaration set itself (the others are the defaults then in force) */
  own: Set<string>;
}

export interface HttpClientSettings {
  /** connection_timeout; 0 = not set: 4 s (4000 ms in timeout_mode 2) */
  connectionTimeout: number;
  /** 0 no timeout, 1 seconds, 2 milliseconds */
  timeoutMode: number;
  followRedirect: boolean;
  useragent: string;
  /** http_connect's body limit in bytes; 0 = the built-in cap */
  maxdatasize: number;
  /** 1: the query functions keep the body's first line */
  queryResult: number;
  queryMaxdatasize: number;
  responseHeaders: boolean;
  connections: Map<string, HttpConnection>;
}

export const DEFAULT_USERAGENT = "mhttpd http_client";
/** Kamailio's default connection_timeout, in seconds */
export const DEFAULT_TIMEOUT_S = 4;

export function defaultHttpClientSettings(): HttpClientSettings {
  return {
    connectionTimeout: 0,
    timeoutMode: 1,
    followRedirect: false,
    useragent: DEFAULT_USERAGENT,
    maxdatasize: 0,
    queryResult: 1,
    queryMaxdatasize: 0,
    responseHeaders: false,
    connections: new Map(),
  };
}

/** The request's timeout in milliseconds (0: none), from a value in timeout_mode's unit. */
export function timeoutMs(settings: HttpClientSettings, value = settings.connectionTimeout): number {
  if (settings.timeoutMode === 0) return 0;
  const unit = settings.timeoutMode === 2 ? 1 : 1000;
  const v = value > 0 ? value : settings.connectionTimeout > 0 ? settings.connectionTimeout : (DEFAULT_TIMEOUT_S * 1000) / unit;
  return v * unit;
}

type Apply = (s: HttpClientSettings, v: number & string) => string | void;

const flag = (name: string, v: number) => {
  if (v !== 0 && v !== 1) throw new Error(`${name} must be 0 or 1, got ${v}`);
  return v === 1;
};
const unsigned = (name: string, v: number) => {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be an integer >= 0, got ${v}`);
  return v;
};
/** a parameter fetch has no way to honour: fine at its default, refused otherwise */
const onlyDefault = (name: string, dflt: number | string, why: string): Apply => (_s, v) => {
  if (v !== dflt) throw new Error(`${name} ${JSON.stringify(v)} is not supported: ${why}`);
};

const TLS_BY_RUNTIME = "requests go through the runtime's fetch, which verifies servers against the system's CA store (add a CA with NODE_EXTRA_CA_CERTS on Node and Bun, DENO_CERT on Deno)";

/** name -> Kamailio type and what setting it does. */
const MODPARAMS: Record<string, { type: HttpClientParamType; apply: Apply }> = {
  connection_timeout: { type: "int", apply: (s, v) => void (s.connectionTimeout = unsigned("connection_timeout", v)) },
  timeout_mode: {
    type: "int",
    apply: (s, v) => {
      if (v !== 0 && v !== 1 && v !== 2) throw new Error(`timeout_mode must be 0 (no timeout), 1 (seconds) or 2 (milliseconds), got ${v}`);
      s.timeoutMode = v;
    },
  },
  httpredirect: { type: "int", apply: (s, v) => void (s.followRedirect = flag("httpredirect", v)) },
  useragent: { type: "str", apply: (s, v) => void (s.useragent = checkedUseragent(v)) },
  maxdatasize: { type: "int", apply: (s, v) => void (s.maxdatasize = unsigned("maxdatasize", v)) },
  query_result: { type: "int", apply: (s, v) => void (s.queryResult = flag("query_result", v) ? 1 : 0) },
  query_maxdatasize: { type: "int", apply: (s, v) => void (s.queryMaxdatasize = unsigned("query_maxdatasize", v)) },
  response_headers: { type: "int", apply: (s, v) => void (s.responseHeaders = flag("response_headers", v)) },
  httpcon: { type: "str", apply: (s, v) => void declareConnection(s, v) },
  keep_connections: {
    type: "int",
    apply: (_s, v) => {
      flag("keep_connections", v);
      return "keep_connections: the runtime's fetch keeps connections open and reuses them either way";
    },
  },
  authmethod: {
    type: "int",
    apply: (_s, v) => {
      // 1 BASIC, 3 BASIC|DIGEST (Kamailio's default): credentials go as Basic
      if (v !== 1 && v !== 3) throw new Error(`authmethod ${v} is not supported: only Basic authentication (1, or Kamailio's default 3 whose Basic part is used) is sent over fetch`);
    },
  },
  verify_peer: { type: "int", apply: onlyDefault("verify_peer", 1, "server certificates are always verified over fetch") },
  verify_host: {
    type: "int",
    apply: (_s, v) => {
      if (v === 0) throw new Error("verify_host 0 is not supported: server names are always verified over fetch");
    },
  },
  tlsversion: { type: "int", apply: onlyDefault("tlsversion", 0, "the runtime negotiates the TLS version") },
  cacert: { type: "str", apply: onlyDefault("cacert", "", TLS_BY_RUNTIME) },
  client_cert: { type: "str", apply: onlyDefault("client_cert", "", "fetch sends no client certificate on every runtime") },
  client_key: { type: "str", apply: onlyDefault("client_key", "", "fetch sends no client certificate on every runtime") },
  cipher_suites: { type: "str", apply: onlyDefault("cipher_suites", "", "the runtime chooses the ciphers") },
  httpproxy: { type: "str", apply: onlyDefault("httpproxy", "", "fetch takes no proxy on every runtime (Bun and Deno read HTTP_PROXY / HTTPS_PROXY from the environment)") },
  httpproxyport: { type: "int", apply: onlyDefault("httpproxyport", 0, "fetch takes no proxy on every runtime") },
  netinterface: { type: "str", apply: onlyDefault("netinterface", "", "fetch cannot choose the local interface") },
  config_file: { type: "str", apply: onlyDefault("config_file", "", 'declare the connections with modparam("http_client", "httpcon", "name=>url;param=value")') },
};

/** http_client's parameters and their Kamailio types, for the cfg's module table. */
export const HTTP_CLIENT_PARAMS: Record<string, HttpClientParamType> = Object.fromEntries(Object.entries(MODPARAMS).map(([n, p]) => [n, p.type]));

/** Apply one modparam (its type already checked); returns a note for the log, or
 * throws an Error whose message names the parameter and the value. */
export function applyHttpClientParam(settings: HttpClientSettings, name: string, value: number | string): string | undefined {
  const p = Object.hasOwn(MODPARAMS, name) ? MODPARAMS[name] : undefined;
  if (!p) throw new Error(`http_client has no parameter "${name}"`);
  const note = p.apply(settings, value as number & string) ?? undefined;
  // Kamailio's order rule, said where it bites: this default does not reach the
  // connections declared above (a connection_timeout does reach those declared
  // while it was unset: they take the final one, as curl_conn_list_fixup does)
  const own = name === "connection_timeout" ? "timeout" : name;
  const missed = [...settings.connections.values()].filter((c) => CAPTURED.has(name) && !c.own.has(own) && (name !== "connection_timeout" || c.timeout !== 0));
  if (missed.length > 0) {
    const names = missed.map((c) => c.name).join(", ");
    return [note, `${name} is set after httpcon: as in Kamailio, ${names} keep${missed.length === 1 ? "s" : ""} the value in force when declared`].filter(Boolean).join("; ");
  }
  return note;
}

/** the defaults a connection copies when httpcon declares it */
const CAPTURED = new Set(["connection_timeout", "maxdatasize", "httpredirect", "useragent"]);

function checkedUseragent(v: string): string {
  const problem = fieldValueProblem(v);
  if (problem) throw new Error(`useragent ${JSON.stringify(v)}: the value ${problem}`);
  return v;
}

/** The connection parameters httpcon takes after ";" (curlcon.c). */
const CONNECTION_PARAMS: Record<string, (c: HttpConnection, v: string, s: HttpClientSettings) => void> = {
  httpredirect: (c, v) => (c.followRedirect = flag("httpredirect", intOf("httpredirect", v))),
  timeout: (c, v) => (c.timeout = unsigned("timeout", intOf("timeout", v))),
  useragent: (c, v) => (c.useragent = checkedUseragent(v)),
  failover: (c, v) => (c.failover = v),
  maxdatasize: (c, v) => (c.maxdatasize = unsigned("maxdatasize", intOf("maxdatasize", v))),
  verify_peer: (_c, v) => MODPARAMS.verify_peer.apply(defaultHttpClientSettings(), intOf("verify_peer", v) as number & string),
  verify_host: (_c, v) => MODPARAMS.verify_host.apply(defaultHttpClientSettings(), intOf("verify_host", v) as number & string),
  tlsversion: (_c, v) => MODPARAMS.tlsversion.apply(defaultHttpClientSettings(), intOf("tlsversion", v) as number & string),
  client_cert: (_c, v) => MODPARAMS.client_cert.apply(defaultHttpClientSettings(), v as number & string),
  client_key: (_c, v) => MODPARAMS.client_key.apply(defaultHttpClientSettings(), v as number & string),
  cipher_suites: (_c, v) => MODPARAMS.cipher_suites.apply(defaultHttpClientSettings(), v as number & string),
};

function intOf(name: string, text: string): number {
  if (!/^\d{1,10}$/.test(text.trim())) throw new Error(`${name} ${JSON.stringify(text)} is not an unsigned integer`);
  return Number(text.trim());
}

/** "name=>schema://[user[:password]@]host[/path][;param=value...]" */
function declareConnection(settings: HttpClientSettings, spec: string): void {
  const m = /^\s*([^=\s]+)\s*=>\s*([A-Za-z][A-Za-z0-9+.-]*):\/\/([^;]*)(?:;(.*))?$/s.exec(spec);
  if (!m) throw new Error(`httpcon ${JSON.stringify(spec)}: expected "name=>http://host/path" (optionally ";param=value")`);
  const [, name, schemaText, rest, params] = m;
  const schema = schemaText.toLowerCase();
  if (schema !== "http" && schema !== "https") throw new Error(`httpcon "${name}": scheme "${schemaText}" is not http or https (the module speaks HTTP only)`);
  if (settings.connections.has(name)) throw new Error(`httpcon "${name}" is declared twice`);
  // credentials end at the last "@" before the path
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf("@");
  const conn: HttpConnection = {
    name,
    schema,
    base: at < 0 ? rest : rest.slice(at + 1),
    timeout: settings.connectionTimeout,
    maxdatasize: settings.maxdatasize,
    followRedirect: settings.followRedirect,
    useragent: settings.useragent,
    own: new Set(),
  };
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(":");
    conn.username = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (colon >= 0) conn.password = userinfo.slice(colon + 1);
  }
  conn.base = conn.base.trim();
  if (conn.base === "") throw new Error(`httpcon "${name}": no host after "${schemaText}://"`);
  if (!URL.canParse(`${schema}://${conn.base}`)) throw new Error(`httpcon "${name}": "${schema}://${conn.base}" is not a valid URL`);
  for (const param of (params ?? "").split(";")) {
    if (param.trim() === "") continue;
    const eq = param.indexOf("=");
    const key = (eq < 0 ? param : param.slice(0, eq)).trim();
    const value = eq < 0 ? "" : param.slice(eq + 1).trim().replace(/^"(.*)"$/s, "$1");
    const set = Object.hasOwn(CONNECTION_PARAMS, key) ? CONNECTION_PARAMS[key] : undefined;
    if (!set) throw new Error(`httpcon "${name}": unknown parameter "${key}" (known: ${Object.keys(CONNECTION_PARAMS).join(", ")})`);
    try {
      set(conn, value, settings);
      conn.own.add(key);
    } catch (e) {
      throw new Error(`httpcon "${name}": ${(e as Error).message}`);
    }
  }
  settings.connections.set(name, conn);
}

/** A connection whose declaration is wrong only in view of the others. */
export class ConnectionError extends Error {
  constructor(
    readonly connection: string,
    message: string,
  ) {
    super(message);
  }
}

/** After the last modparam: every failover names a declared connection. */
export function finishHttpClientSettings(settings: HttpClientSettings): void {
  for (const c of settings.connections.values()) {
    if (c.failover !== undefined && !settings.connections.has(c.failover)) {
      throw new ConnectionError(c.name, `httpcon "${c.name}": failover "${c.failover}" is not a declared connection (declared: ${[...settings.connections.keys()].join(", ")})`);
    }
  }
}
