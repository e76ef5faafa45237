// The http_client module's cfg functions (Kamailio's cmd_export_t of
// http_client.c), over the engine in src/modules/http-client.ts. Each waits for
// the network, so each is asynchronous: the route awaits it and other requests
// run meanwhile. Return codes as Kamailio's: the HTTP status of the response, -1
// when there is none (the log says why, $curlerror has cURL's words for it).
import type { RequestContext } from "../context.ts";
import { L_ERR } from "../log.ts";
import { connect, perform, queryCall, settle, type Call } from "../modules/http-client.ts";
import { callState, httpClientSettings } from "../modules/http-client-state.ts";
import type { Compiled, FunctionSpec } from "./function-spec.ts";
import { CfgSyntaxError, pvLength, type Pos } from "./lexer.ts";
import { compilePv, type CfgPv } from "./pvs.ts";
import type { Arg } from "./syntax-tree.ts";
import { printValue } from "./values.ts";
import { runtimeError, where, type Exec } from "./runtime.ts";
import { toInt } from "./values.ts";

const text = (a: Compiled, ctx: RequestContext) => (a as (ctx: RequestContext) => string)(ctx);
const pvOf = (a: Compiled) => a as CfgPv;

/** The result variable must be writable (the C fixups refuse others at start-up). */
function writableResult(args: Compiled[], pos: Pos, fname: string): void {
  const dst = pvOf(args[args.length - 1]);
  if (!dst.set) throw new CfgSyntaxError(pos, `${fname}: the result variable ${dst.spec} is read-only`);
}

/** A connection name is written as is (a char* parameter in C): it must be declared. */
function declaredConnection(args: Compiled[], pos: Pos, fname: string): void {
  const name = text(args[0], undefined as unknown as RequestContext);
  const known = httpClientSettings().connections;
  if (!known.has(name)) {
    const list = known.size ? ` (declared: ${[...known.keys()].join(", ")})` : "";
    throw new CfgSyntaxError(pos, `${fname}: no connection "${name}": declare it with modparam("http_client", "httpcon", "${name}=>http://host/path")${list}`);
  }
  writableResult(args, pos, fname);
}

/** Why a header argument cannot be sent, found before the call. */
class Refused {
  constructor(readonly why: string) {}
}

/** The hdrs argument: a formatted string whose line breaks must be written in the
 * cfg itself. A variable's value holding CR or LF (a request header, the body ...)
 * is refused, so request data can never add a header line; cURL would send it. */
function compileHeaderLines(a: Arg): (ctx: RequestContext) => string | Refused {
  const text = a.k === "num" ? String(a.num) : a.v;
  const parts: (string | CfgPv)[] = [];
  for (let i = 0, lit = ""; i <= text.length; ) {
    const n = i < text.length && text[i] === "$" ? pvLength(text, i) : 0;
    if (n > 0 || i === text.length) {
      if (lit) parts.push(lit);
      lit = "";
      if (i === text.length) break;
      parts.push(compilePv(text.slice(i, i + n), { ...a.pos, col: a.pos.col + i + 1 }));
      i += n;
    } else lit += text[i++];
  }
  return (ctx) => {
    let out = "";
    for (const p of parts) {
      if (typeof p === "string") out += p;
      else {
        const v = printValue(p.get(ctx));
        if (/[\r\n]/.test(v)) return new Refused(`the value of ${p.spec} in the header lines holds a line break (CR or LF): refused, it would add a header line (write the line breaks in the argument itself)`);
        out += v;
      }
    }
    return out;
  };
}

/** Fixup of a function whose argument `at` is header lines (and whose last is the result). */
const headerLinesAt = (fname: string, at: number) => (args: Compiled[], raw: Arg[], pos: Pos) => {
  writableResult(args, pos, fname);
  if (args.length > at + 1) args[at] = compileHeaderLines(raw[at]);
};

/** Header lines as compiled by compileHeaderLines, or "" when the form has none. */
const hdrsOf = (args: Compiled[], at: number, ctx: RequestContext): string | Refused => (args.length > at + 1 ? (args[at] as (ctx: RequestContext) => string | Refused)(ctx) : "");

/** Run a query function's call and store its result, as w_http_query_script does. */
async function runQuery(x: Exec, dst: CfgPv, call: Call | Refused): Promise<number> {
  const ctx = x.ctx;
  if (call instanceof Refused) {
    ctx.logger.log(L_ERR, call.why, "<script>");
    dst.set!(ctx, "");
    return -1;
  }
  if (call.url === "") {
    ctx.logger.log(L_ERR, `${call.what}: the URL is empty`, "<script>");
    return -1;
  }
  const { code, result } = settle(ctx, ctx.logger, call, await perform(call, ctx.signal));
  dst.set!(ctx, result);
  return code;
}

const at = (pos: Pos, fname: string) => `${where(pos)}: ${fname}`;
const refusal = (what: string, r: Refused) => new Refused(`${what}: ${r.why}`);

export const HTTP_CLIENT_FUNCTIONS: Record<string, FunctionSpec> = {
  http_client_query: {
    module: "http_client",
    doc: 'http_client_query(url, [post], [hdrs], "$var(result)"): GET, or POST when post is not empty; hdrs are "Name: value" lines (CRLF between). The body of a 2xx-4xx answer (its first line while query_result is 1) goes to the result. Returns the HTTP status, or -1 (and an error log, $curlerror) when there is no response',
    forms: [["fmt", "pvname"], ["fmt", "fmt", "pvname"], ["fmt", "fmt", "fmt", "pvname"]],
    async: true,
    fixup: headerLinesAt("http_client_query", 2),
    run(x, args, pos) {
      const n = args.length;
      const body = n > 2 ? text(args[1], x.ctx) : "";
      const what = at(pos, "http_client_query");
      const hdrs = hdrsOf(args, 2, x.ctx);
      return runQuery(x, pvOf(args[n - 1]), hdrs instanceof Refused ? refusal(what, hdrs) : queryCall(what, body === "" ? "GET" : "POST", text(args[0], x.ctx), body, hdrs));
    },
  },
  http_client_get: {
    module: "http_client",
    doc: 'http_client_get(url, body, hdrs, "$var(result)"): GET (a non-empty body is refused: fetch sends none with GET); as http_client_query otherwise',
    forms: [["fmt", "fmt", "fmt", "pvname"]],
    async: true,
    fixup: headerLinesAt("http_client_get", 2),
    run(x, args, pos) {
      const what = at(pos, "http_client_get");
      const hdrs = hdrsOf(args, 2, x.ctx);
      return runQuery(x, pvOf(args[3]), hdrs instanceof Refused ? refusal(what, hdrs) : queryCall(what, "GET", text(args[0], x.ctx), text(args[1], x.ctx), hdrs));
    },
  },
  http_client_request: {
    module: "http_client",
    doc: 'http_client_request(method, url, body, hdrs, "$var(result)"): any method (a token; not CONNECT, TRACE, TRACK; no body with GET or HEAD); as http_client_query otherwise',
    forms: [["fmt", "fmt", "fmt", "fmt", "pvname"]],
    async: true,
    fixup: headerLinesAt("http_client_request", 3),
    run(x, args, pos) {
      const method = text(args[0], x.ctx);
      if (method === "") return (runtimeError(x.ctx, pos, "http_client_request: the method is empty"), -1);
      const what = at(pos, "http_client_request");
      const hdrs = hdrsOf(args, 3, x.ctx);
      return runQuery(x, pvOf(args[4]), hdrs instanceof Refused ? refusal(what, hdrs) : queryCall(what, method, text(args[1], x.ctx), text(args[2], x.ctx), hdrs));
    },
  },
  http_client_request_v2pk: {
    module: "http_client",
    doc: "refused at start-up: fetch cannot force HTTP/2 with prior knowledge (use http_client_request; the runtime negotiates HTTP/2 over TLS where it can)",
    forms: [["fmt", "fmt", "fmt", "fmt", "pvname"]],
    fixup(_args, _raw, pos) {
      throw new CfgSyntaxError(pos, "http_client_request_v2pk() is not supported: fetch cannot force HTTP/2 with prior knowledge; use http_client_request()");
    },
    run: () => -1,
  },
  http_connect: {
    module: "http_client",
    doc: 'http_connect(connection, url, [content_type, data,] "$var(result)"): GET (POST with data) on a connection of modparam httpcon, url appended to its base URL; the whole body of a 2xx-4xx answer goes to the result (up to the connection\'s maxdatasize); returns the HTTP status, or -1; a failover connection is tried once on failure or 5xx',
    forms: [["str", "fmt", "pvname"], ["str", "fmt", "str", "fmt", "pvname"]],
    async: true,
    fixup: (args, _raw, pos) => declaredConnection(args, pos, "http_connect"),
    run(x, args, pos) {
      const post = args.length === 5 ? { ctype: text(args[2], x.ctx), data: text(args[3], x.ctx) } : undefined;
      return runConnect(x, pos, "http_connect", args, post);
    },
  },
  http_connect_raw: {
    module: "http_client",
    doc: 'http_connect_raw(connection, url, content_type, data, "$var(result)"): http_connect POST whose data is sent as written (no variables in it)',
    forms: [["str", "fmt", "str", "str", "pvname"]],
    async: true,
    fixup: (args, _raw, pos) => declaredConnection(args, pos, "http_connect_raw"),
    run: (x, args, pos) => runConnect(x, pos, "http_connect_raw", args, { ctype: text(args[2], x.ctx), data: text(args[3], x.ctx) }),
  },
  http_get_redirect: {
    module: "http_client",
    doc: 'http_get_redirect(connection, "$var(url)"): the URL this request\'s last http_connect on the connection ended at (after redirects when httpredirect is 1; "" before one); 1',
    forms: [["str", "pvname"]],
    fixup: (args, _raw, pos) => declaredConnection(args, pos, "http_get_redirect"),
    run(x, args) {
      pvOf(args[1]).set!(x.ctx, callState(x.ctx).lastUrl.get(text(args[0], x.ctx)) ?? "");
      return 1;
    },
  },
  http_client_response_headers_set: {
    module: "http_client",
    doc: "http_client_response_headers_set(mode): 1 keeps the headers of the next responses for $httprhdr(name), 0 stops and forgets them (for this request; the default is modparam response_headers); 1",
    forms: [["igp"]],
    run(x, args) {
      const state = callState(x.ctx);
      state.storeHeaders = toInt((args[0] as (ctx: RequestContext) => unknown)(x.ctx) as number) !== 0;
      if (!state.storeHeaders) state.headers = null;
      return 1;
    },
  },
};

async function runConnect(x: Exec, pos: Pos, fname: string, args: Compiled[], post: { ctype: string; data: string } | undefined): Promise<number> {
  const ctx = x.ctx;
  const { code, result } = await connect(ctx, ctx.logger, at(pos, fname), text(args[0], ctx), text(args[1], ctx), post);
  pvOf(args[args.length - 1]).set!(ctx, result);
  return code;
}
