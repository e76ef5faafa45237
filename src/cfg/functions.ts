// The cfg functions, declared as data (Kamailio's cmd_export_t): the module that
// exports each one, its parameters and what it does. Parameters are compiled at
// start-up by kind: "fmt" is a formatted string, "igp" an int or one variable,
// "pvname" the name of a variable, "level" an xlog level.
import type { RequestContext } from "../context.ts";
import { L_ALERT, L_CRIT, L_DBG, L_ERR, L_INFO, L_NOTICE, L_WARN } from "../log.ts";
import { queueReply, queueReplyHeader } from "../reply.ts";
import { CfgSyntaxError, pvLength, type Pos } from "./lexer.ts";
import type { Arg } from "./syntax-tree.ts";
import { table } from "./htable.ts";
import { ownEntry } from "../pv.ts";
import { compileFormat, compilePv, type CfgPv, type Getter } from "./pvs.ts";
import { callRoute, runtimeError, type Exec, type RouteTable } from "./runtime.ts";
import { isIntText, toInt } from "./values.ts";
import { NDB_REDIS_FUNCTIONS } from "./ndb-redis.ts";

export type ParamKind = "fmt" | "igp" | "pvname" | "level";

/** A compiled parameter: a getter for fmt/igp/level, the variable for pvname. */
type Compiled = ((ctx: RequestContext) => unknown) | CfgPv;

export interface FunctionSpec {
  module: string;
  doc: string;
  /** parameter kinds for each accepted argument count */
  forms: ParamKind[][];
  /** it runs routes by a name known only at request time: every route[] must compile */
  routesByName?: boolean;
  /** it may return a promise (the async protocol: the route awaits it) */
  async?: true;
  /** compiles its arguments itself, when they need more than one kind's rules
   * (the forms still give the argument counts) */
  compile?(args: Arg[], pos: Pos): Compiled[];
  /** returns the function's code: > 0 success, < 0 failure, 0 stops the script */
  run(x: Exec, args: Compiled[], pos: Pos, env: FnEnv): number | Promise<number>;
}

export interface FnEnv {
  routes: RouteTable;
  /** a route is called by a name known only at request time */
  dynamicRoutes: boolean;
}

const LEVEL_BY_LETTER: Record<string, number> = { A: L_ALERT, B: -4, C: L_CRIT, E: L_ERR, W: L_WARN, N: L_NOTICE, I: L_INFO, D: L_DBG };

const fmt = (a: Compiled) => a as (ctx: RequestContext) => string;
const pvOf = (a: Compiled) => a as CfgPv;

function xlogAt(level: number): FunctionSpec {
  return {
    module: "xlog",
    doc: "log the formatted message at a fixed level; returns 1",
    forms: [["fmt"]],
    run: (x, args) => (x.ctx.logger.log(level, fmt(args[0])(x.ctx), "<script>"), 1),
  };
}

function xlogRun(x: Exec, args: Compiled[]): number {
  const n = args.length;
  const level = n === 1 ? L_ERR : ((args[n - 2] as (ctx: RequestContext) => number)(x.ctx));
  x.ctx.logger.log(level, fmt(args[n - 1])(x.ctx), "<script>");
  return 1;
}

export const FUNCTIONS: Record<string, FunctionSpec> = {
  xlog: {
    module: "xlog",
    doc: 'xlog([facility,] [level,] format): level "L_INFO" style (only the 3rd character counts) or a variable holding the number; one argument logs at L_ERR',
    forms: [["fmt"], ["level", "fmt"], ["fmt", "level", "fmt"]],
    run: xlogRun,
  },
  xalert: xlogAt(L_ALERT),
  xbug: xlogAt(-4),
  xcrit: xlogAt(L_CRIT),
  xerr: xlogAt(L_ERR),
  xwarn: xlogAt(L_WARN),
  xnotice: xlogAt(L_NOTICE),
  xinfo: xlogAt(L_INFO),
  xdbg: xlogAt(L_DBG),
  mhttpd_reply: {
    module: "microhttpd",
    doc: "mhttpd_reply(code, reason, ctype, body): queue the reply; 1 when queued, -1 when refused or when a reply was already queued",
    forms: [["igp", "fmt", "fmt", "fmt"]],
    run(x, args, pos) {
      const ctx = x.ctx;
      // (no destructuring of args: JavaScriptCore allocates an iterator for it)
      const error = queueReply(ctx, (args[0] as Getter)(ctx), fmt(args[1])(ctx), fmt(args[2])(ctx), fmt(args[3])(ctx));
      if (error === undefined) return 1;
      runtimeError(ctx, pos, `mhttpd_reply: ${error}`);
      return -1;
    },
  },
  mhttpd_reply_header: {
    module: "microhttpd",
    doc: "mhttpd_reply_header(name, value): add a header to the reply (any number; Set-Cookie may repeat); 1, or -1 for a bad name or value",
    forms: [["fmt", "fmt"]],
    run(x, args, pos) {
      const error = queueReplyHeader(x.ctx, fmt(args[0])(x.ctx), fmt(args[1])(x.ctx));
      if (error === undefined) return 1;
      runtimeError(x.ctx, pos, `mhttpd_reply_header: ${error}`);
      return -1;
    },
  },
  pv_isset: {
    module: "pv",
    doc: 'pv_isset("$var(x)"): 1 when the variable is not null, else -1',
    forms: [["pvname"]],
    run: (x, [v]) => (pvOf(v).get(x.ctx) !== null ? 1 : -1),
  },
  pv_unset: {
    module: "pv",
    doc: 'pv_unset("$vn(x)"): set the variable to null ($var becomes 0); returns 1',
    forms: [["pvname"]],
    run(x, [v], pos) {
      const pv = pvOf(v);
      if (!pv.set) return (runtimeError(x.ctx, pos, `pv_unset: ${pv.spec} is read-only`), -1);
      pv.set(x.ctx, null);
      return 1;
    },
  },
  is_int: {
    module: "pv",
    doc: 'is_int("$var(x)"): 1 when the value is an integer (or a string of one), else -1',
    forms: [["pvname"]],
    run(x, [v]) {
      const val = pvOf(v).get(x.ctx);
      return typeof val === "number" || (typeof val === "string" && isIntText(val)) ? 1 : -1;
    },
  },
  check_route_exists: {
    module: "cfgutils",
    doc: "check_route_exists(name): 1 when route[name] exists, else -1",
    routesByName: true,
    forms: [["fmt"]],
    run: (x, [n], _pos, env) => (env.routes.has(fmt(n)(x.ctx)) ? 1 : -1),
  },
  route_if_exists: {
    module: "cfgutils",
    doc: "route_if_exists(name): run route[name] when it exists; its return value, else -1",
    routesByName: true,
    forms: [["fmt"]],
    run(x, [n], pos, env) {
      const r = env.routes.get(fmt(n)(x.ctx));
      return r ? callRoute(x, r, pos) : -1;
    },
  },
};

FUNCTIONS.sht_rm = {
  module: "htable",
  doc: "sht_rm(table, key): remove the item; 1 (-1 and an error log for an unknown table)",
  forms: [["fmt", "fmt"]],
  run(x, args, pos) {
    const name = fmt(args[0])(x.ctx);
    try {
      table(name, pos).delete(fmt(args[1])(x.ctx));
    } catch {
      return (runtimeError(x.ctx, pos, `sht_rm: no htable "${name}"`), -1);
    }
    return 1;
  },
};

FUNCTIONS.sht_reset = {
  module: "htable",
  doc: "sht_reset(table): remove every item; 1 (-1 and an error log for an unknown table)",
  forms: [["fmt"]],
  run(x, args, pos) {
    const name = fmt(args[0])(x.ctx);
    try {
      table(name, pos).clear();
    } catch {
      return (runtimeError(x.ctx, pos, `sht_reset: no htable "${name}"`), -1);
    }
    return 1;
  },
};

/** "a.b[0].c" -> the value inside parsed JSON, or undefined. */
function jsonPath(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (cur === null || typeof cur !== "object") return undefined;
    const key = part.startsWith("[") ? Number(part.slice(1, -1)) : part;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

FUNCTIONS.jansson_get = {
  module: "jansson",
  doc: 'jansson_get(path, json, "$var(dst)"): the value at path ("a.b[0]") of the JSON text into dst (strings as text, integers as integers, others as JSON); 1, or -1 when the JSON is invalid or the path is absent',
  forms: [["fmt", "fmt", "pvname"]],
  run(x, args, pos) {
    const dst = pvOf(args[2]);
    if (!dst.set) return (runtimeError(x.ctx, pos, `jansson_get: ${dst.spec} is read-only`), -1);
    let doc: unknown;
    try {
      doc = JSON.parse(fmt(args[1])(x.ctx));
    } catch {
      return -1;
    }
    const v = jsonPath(doc, fmt(args[0])(x.ctx));
    if (v === undefined) return -1;
    dst.set(x.ctx, typeof v === "string" ? v : typeof v === "number" && Number.isInteger(v) ? v : typeof v === "boolean" ? (v ? 1 : 0) : JSON.stringify(v));
    return 1;
  },
};

Object.assign(FUNCTIONS, NDB_REDIS_FUNCTIONS satisfies Record<string, FunctionSpec>);

/** Compile one argument for its declared kind. */
function compileArg(kind: ParamKind, a: Arg, fname: string): Compiled {
  const text = a.v;
  switch (kind) {
    case "fmt":
      // a number argument is its value (0x10 is "16"); anything else is a format
      return compileFormat(a.k === "num" ? String(a.num) : text, a.pos).get;
    case "pvname":
      if (!(text.startsWith("$") && pvLength(text, 0) === text.length)) {
        throw new CfgSyntaxError(a.pos, `${fname}: expected a variable name such as "$var(x)", found ${JSON.stringify(text)}`);
      }
      return compilePv(text, a.pos);
    case "igp": {
      if (a.k === "num") {
        const n = a.num!;
        return () => n;
      }
      const t = text.trim();
      if (t.startsWith("$") && pvLength(t, 0) === t.length) return compilePv(t, a.pos).get;
      if (!isIntText(t)) throw new CfgSyntaxError(a.pos, `${fname}: expected an integer or a variable, found ${JSON.stringify(text)}`);
      const n = Number(t);
      return () => n;
    }
    case "level": {
      const t = text.trim();
      if (t.startsWith("$") && pvLength(t, 0) === t.length) {
        const g = compilePv(t, a.pos).get;
        return (ctx: RequestContext) => toInt(g(ctx));
      }
      const lvl = /^L_/.test(t) ? LEVEL_BY_LETTER[t[2]] : undefined;
      if (lvl === undefined) throw new CfgSyntaxError(a.pos, `${fname}: expected a log level (L_ALERT, L_BUG, L_CRIT, L_ERR, L_WARN, L_NOTICE, L_INFO, L_DBG) or a variable, found ${JSON.stringify(text)}`);
      return () => lvl;
    }
  }
}

/** The compiled call: (x) => the function's return code. */
export function compileCall(name: string, args: Arg[], pos: Pos, env: FnEnv, loaded: Set<string>): (x: Exec) => number {
  const spec = ownEntry(FUNCTIONS, name);
  if (!spec) throw new CfgSyntaxError(pos, `unknown function ${name}() (supported: ${Object.keys(FUNCTIONS).join(", ")})`);
  if (!loaded.has(spec.module)) throw new CfgSyntaxError(pos, `${name}() is exported by module ${spec.module}: add loadmodule "${spec.module}.so"`);
  const form = spec.forms.find((f) => f.length === args.length);
  if (!form) {
    const counts = spec.forms.map((f) => f.length).join(" or ");
    throw new CfgSyntaxError(pos, `${name}() takes ${counts} argument(s), got ${args.length}`);
  }
  const compiled = spec.compile ? spec.compile(args, pos) : form.map((kind, i) => compileArg(kind, args[i], name));
  if (spec.async) throw new CfgSyntaxError(pos, `${name}() is asynchronous: this build's cfg compiler runs synchronous functions only`);
  if (spec.routesByName) env.dynamicRoutes = true;
  const run = spec.run as (x: Exec, args: Compiled[], pos: Pos, env: FnEnv) => number;
  return (x) => run(x, compiled, pos, env);
}
