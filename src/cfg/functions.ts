// The cfg functions, declared as data (Kamailio's cmd_export_t): the module that
// exports each one, its parameters and what it does (function-spec.ts says what an
// entry holds; other modules' tables are added from their own files, as http-client.ts). Parameters
// are compiled at start-up by kind.
import type { RequestContext } from "../context.ts";
import { L_ALERT, L_CRIT, L_DBG, L_ERR, L_INFO, L_NOTICE, L_WARN } from "../log.ts";
import { queueReply, queueReplyHeader } from "../reply.ts";
import { CfgSyntaxError, pvLength, type Pos } from "./lexer.ts";
import type { Arg } from "./syntax-tree.ts";
import { table } from "./htable.ts";
import { ownEntry } from "../pv.ts";
import { compileFormat, compilePv, type CfgPv, type Getter } from "./pvs.ts";
import { callAnyRoute, EXIT, runtimeError, where, type Exec } from "./runtime.ts";
import type { Compiled, FnEnv, FunctionSpec, ParamKind } from "./function-spec.ts";
import { isIntText, printValue, toInt } from "./values.ts";
import { pause, waitMs } from "../modules/cfgutils.ts";
import { CRYPTO_FUNCTIONS } from "./crypto-functions.ts";
import { HTTP_CLIENT_FUNCTIONS } from "./http-client.ts";
import { JANSSON_FUNCTIONS } from "./jansson-functions.ts";
import { NDB_REDIS_FUNCTIONS } from "./ndb-redis.ts";
import { SQLOPS_FUNCTIONS } from "./sqlops.ts";
import { STATISTICS_FUNCTIONS } from "./statistics.ts";
import { hasConnection, connectionNames } from "../modules/sqlops.ts";
import { splitPvList } from "../pv.ts";

export type { FnEnv, FunctionSpec, ParamKind };

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
    async: "routes",
    forms: [["fmt"]],
    run(x, [n], pos, env) {
      const r = env.routes.get(fmt(n)(x.ctx));
      return r ? callAnyRoute(x, r, pos) : -1;
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

Object.assign(FUNCTIONS, JANSSON_FUNCTIONS, CRYPTO_FUNCTIONS, STATISTICS_FUNCTIONS);

/** sleep / usleep: the wait of src/modules/cfgutils.ts, on the request's signal. */
function waitSpec(fn: "sleep" | "usleep", unit: number, doc: string): FunctionSpec {
  return {
    module: "cfgutils",
    doc,
    forms: [["igp"]],
    async: true,
    run(x, args, pos) {
      const v = (args[0] as Getter)(x.ctx);
      // Kamailio's fixup_get_ivalue: a variable that holds no integer is an error (-1)
      if (typeof v !== "number" && !(typeof v === "string" && isIntText(v.trim()))) {
        return (runtimeError(x.ctx, pos, `${fn}: ${printValue(v)} is not an integer`), -1);
      }
      const ms = waitMs(fn, toInt(v), unit);
      if (typeof ms === "string") return (runtimeError(x.ctx, pos, ms), -1);
      return pause(ms, x.ctx.signal);
    },
  };
}

FUNCTIONS.sleep = waitSpec("sleep", 1000, "sleep(seconds): wait, holding the request, not the server; 1 (-1 with an error log for a negative time); the route stops there when the request ends meanwhile");
FUNCTIONS.usleep = waitSpec("usleep", 0.001, "usleep(microseconds): as sleep, to the millisecond");

Object.assign(FUNCTIONS, HTTP_CLIENT_FUNCTIONS, SQLOPS_FUNCTIONS, NDB_REDIS_FUNCTIONS);

/** Compile one argument for its declared kind. */
function compileArg(kind: ParamKind, a: Arg, fname: string): Compiled {
  const text = a.v;
  switch (kind) {
    case "fmt":
      // a number argument is its value (0x10 is "16"); anything else is a format
      return compileFormat(a.k === "num" ? String(a.num) : text, a.pos).get;
    case "pvname":
    case "pvdst": {
      if (!(text.startsWith("$") && pvLength(text, 0) === text.length)) {
        throw new CfgSyntaxError(a.pos, `${fname}: expected a variable name such as "$var(x)", found ${JSON.stringify(text)}`);
      }
      const pv = compilePv(text, a.pos);
      if (kind === "pvdst" && !pv.set) throw new CfgSyntaxError(a.pos, `${fname}: ${text} is read-only: the result needs a variable that can be set, such as "$var(x)"`);
      return pv;
    }
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
    case "str": {
      const s = a.k === "num" ? String(a.num) : text;
      return () => s;
    }
    case "literal":
    case "sqlcon": {
      const literal = compileFormat(a.k === "num" ? String(a.num) : text, a.pos).constant;
      if (literal === undefined) throw new CfgSyntaxError(a.pos, `${fname}: expected a plain string, taken as written (no variables), found ${JSON.stringify(text)}`);
      if (kind === "sqlcon" && !hasConnection(literal)) {
        throw new CfgSyntaxError(a.pos, `${fname}: no sqlops connection ${JSON.stringify(literal)} (declared: ${connectionNames().join(", ") || "none"}; modparam("sqlops", "sqlcon", "${literal}=>url"))`);
      }
      return () => literal;
    }
    case "pvs":
    case "pvsdst":
      return compilePvList(text, a.pos, fname, kind === "pvsdst");
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

/** "$var(a), $vn(b)": the variables, each writable when `writable` (sql_pvquery's results). */
function compilePvList(text: string, pos: Pos, fname: string, writable: boolean): CfgPv[] {
  const names = splitPvList(text);
  if (names.length === 0) throw new CfgSyntaxError(pos, `${fname}: expected a list of variables ("$var(a), $var(b)"), found ${JSON.stringify(text)}`);
  return names.map((name, i) => {
    if (!(name.startsWith("$") && pvLength(name, 0) === name.length)) throw new CfgSyntaxError(pos, `${fname}: item ${i + 1} of the list, ${JSON.stringify(name)}, is not a variable`);
    const pv = compilePv(name, pos);
    if (writable && !pv.set) throw new CfgSyntaxError(pos, `${fname}: result variable ${i + 1} (${name}) is read-only`);
    return pv;
  });
}

/** A compiled call: the function's return code, or a promise of it where the function waits. */
export type Call = (x: Exec) => number | Promise<number>;

/** The compiled call. `suspending`: the call is in a route compiled to suspend
 * (src/cfg/suspend.ts decided); elsewhere a function that waits cannot be. */
export function compileCall(name: string, args: Arg[], pos: Pos, env: FnEnv, loaded: Set<string>, suspending = false): Call {
  const spec = ownEntry(FUNCTIONS, name);
  if (!spec) throw new CfgSyntaxError(pos, `unknown function ${name}() (supported: ${Object.keys(FUNCTIONS).join(", ")})`);
  if (!loaded.has(spec.module)) throw new CfgSyntaxError(pos, `${name}() is exported by module ${spec.module}: add loadmodule "${spec.module}.so"`);
  const form = spec.forms.find((f) => f.length === args.length);
  if (!form) {
    const counts = spec.forms.map((f) => f.length).join(" or ");
    throw new CfgSyntaxError(pos, `${name}() takes ${counts} argument(s), got ${args.length}`);
  }
  const compiled = spec.compile ? spec.compile(args, pos) : form.map((kind, i) => compileArg(kind, args[i], name));
  spec.fixup?.(compiled, args, pos);
  if (spec.routesByName) env.dynamicRoutes = true;
  if (spec.async === true && !suspending) throw new Error(`internal: ${name}() at ${pos.file}:${pos.line} waits but its route was compiled not to suspend`);
  if (spec.async === undefined) {
    const run = spec.run;
    return (x) => run(x, compiled, pos, env);
  }
  const run = spec.run;
  return (x) => {
    const code = run(x, compiled, pos, env);
    return typeof code === "number" ? code : settled(x, code, name, pos);
  };
}

/** After a wait: a rejection is the function's failure (-1, logged); a request
 * that ended meanwhile (route_timeout, the client gone, the server stopping) stops
 * the route here, as nothing it does next can reach the client. */
function settled(x: Exec, pending: Promise<number>, name: string, pos: Pos): Promise<number> {
  const after = (code: number): number => {
    const signal = x.ctx.signal;
    if (signal.aborted && !(x.flags & EXIT)) {
      x.flags |= EXIT;
      const why = (signal.reason as Error | undefined)?.message ?? "aborted";
      x.ctx.logger.log(L_INFO, `${where(pos)}: ${name}(): ${why}: the route stops here`, "<script>");
    }
    return code;
  };
  return pending.then(after, (err: unknown) => {
    runtimeError(x.ctx, pos, `${name}(): failed: ${err instanceof Error ? err.message : String(err)}`);
    return after(-1);
  });
}
