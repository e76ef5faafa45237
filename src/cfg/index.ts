// A kamailio.cfg as a route: preprocess -> parse -> check the top level (modules,
// modparams, globals) -> compile the event route to closures. Every start-up
// error is a StartupError naming file:line:col; nothing is half-loaded because
// the route function only exists once everything compiled.
// With app_jsdt + event_callback, the KEMI script named by modparam("app_jsdt",
// "load", ...) is the route instead (a plain script or a module).
import type { RequestContext } from "../context.ts";
import { L_DBG } from "../log.ts";
import { PARAMS, type ParamName } from "../params.ts";
import { ownEntry, shvStore, varStore } from "../pv.ts";
import { EVENT_NAME } from "../ksr-api.ts";
import { displayPath, importUserModule, kemiRoute, type LoadedRoute, type Route, type RouteFunction } from "../route.ts";
import { StartupError } from "../errors.ts";
import { validateParam } from "../config.ts";
import { compileBlock, type CompileEnv } from "./compile.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import { DEFAULT_SHM_MIB, DEFAULT_TIMER_INTERVAL, declareTable, setMemoryLimit, setTimerInterval } from "./htable.ts";
import { filePathOf, fileUrlOf, readTextFile, resolveFrom } from "./host.ts";
import { IGNORED_GLOBALS, IGNORED_PARAMS, MODULES, moduleName, SHM_GLOBALS, USED_GLOBALS } from "./modules.ts";
import { parse, type RouteBlock } from "./parser.ts";
import { preprocess } from "./preprocess.ts";
import { type Exec, type RouteTable } from "./runtime.ts";

export { CfgSyntaxError } from "./lexer.ts";

export const EVENT_ROUTE = "microhttpd:request";
const DEFAULT_MAX_WHILE = 100;
/** what the reused run state points to between requests */
const IDLE = undefined as unknown as RequestContext;

export interface CfgProgram {
  file: string;
  /** the route's parameters: microhttpd modparams and debug= */
  config: Record<string, unknown>;
  /** the compiled event_route[microhttpd:request], when the file has one */
  event?: Route;
  /** modparam("app_jsdt", "load", ...), resolved against the cfg's directory */
  kemiScript?: string;
  loaded: Set<string>;
  defines: Map<string, string>;
  /** debug-level notes (ignored settings), logged on the first request */
  notes: string[];
}

const at = (p: Pos) => `${p.file}:${p.line}:${p.col}`;

function setFromModparam(store: Map<string, unknown>, spec: string, pos: Pos, what: string) {
  const m = /^([^=]+)=([is]):(.*)$/s.exec(spec);
  if (!m) throw new CfgSyntaxError(pos, `${what}: expected "name=s:text" or "name=i:number", found ${JSON.stringify(spec)}`);
  const value = m[2] === "i" ? Number(m[3]) : m[3];
  if (m[2] === "i" && !Number.isInteger(value)) throw new CfgSyntaxError(pos, `${what}: ${JSON.stringify(m[3])} is not an integer`);
  store.set(m[1].trim(), value);
}

/** Parse and compile a .cfg. `text` stands for the file's content (tests). */
export function compileCfg(file: string, opts: { text?: string; predefined?: Record<string, string> } = {}): CfgProgram {
  const pre = preprocess(file, opts);
  const tree = parse(pre.tokens);
  const notes: string[] = [];
  const config: Record<string, unknown> = {};
  const loaded = new Set<string>();
  let kemiScript: string | undefined;
  let maxWhile = DEFAULT_MAX_WHILE;
  const tables = new Map<string, Pos>();
  let timerInterval = DEFAULT_TIMER_INTERVAL;
  let shmMib = DEFAULT_SHM_MIB;

  for (const m of tree.modules) {
    const name = moduleName(m.name);
    const spec = ownEntry(MODULES, name);
    if (!spec) throw new CfgSyntaxError(m.pos, `unknown module "${m.name}": mhttpd provides ${Object.keys(MODULES).join(", ")}`);
    if (spec.ignored) notes.push(`${at(m.pos)}: module ${name} is SIP only: loaded and ignored`);
    loaded.add(name);
  }

  for (const p of tree.modparams) {
    const mod = Object.keys(MODULES).find((n) => n.toLowerCase() === p.module.toLowerCase());
    if (!mod || !loaded.has(mod)) throw new CfgSyntaxError(p.pos, `modparam for module "${p.module}", which is not loaded (add loadmodule "${p.module}.so" before it)`);
    const spec = MODULES[mod];
    if (spec.ignored) {
      notes.push(`${at(p.pos)}: modparam ${mod}.${p.name} ignored (SIP-only module)`);
      continue;
    }
    const type = ownEntry(spec.params, p.name);
    if (!type) throw new CfgSyntaxError(p.pos, `module ${mod} has no parameter "${p.name}" (known: ${Object.keys(spec.params).join(", ")})`);
    const given = typeof p.value === "number" ? "int" : "str";
    // an int parameter must be given as an int (Kamailio's modparam type rule); a
    // str parameter given an int is left to the parameter's own validation
    if (given !== type && !(type === "str" && mod === "microhttpd")) {
      throw new CfgSyntaxError(p.pos, `modparam("${p.module}", "${p.name}", ...): the parameter is ${type === "int" ? "an integer" : "a string"}, got ${given === "int" ? "an integer" : "a string"} ${JSON.stringify(p.value)}`);
    }
    const key = `${mod}.${p.name}`;
    if (mod === "microhttpd") {
      const name = p.name as ParamName;
      try {
        validateParam(name, p.value, `modparam at ${at(p.pos)}`);
      } catch (e) {
        throw new CfgSyntaxError(p.pos, (e as Error).message);
      }
      if (PARAMS[name].repeatable) config[name] = [...((config[name] as unknown[]) ?? []), p.value];
      else config[name] = p.value;
    } else if (key === "pv.shvset") setFromModparam(shvStore as Map<string, unknown>, String(p.value), p.pos, "shvset");
    else if (key === "pv.varset") setFromModparam(varStore as Map<string, unknown>, String(p.value), p.pos, "varset");
    else if (key === "htable.htable") declareTable(String(p.value), p.pos, tables, notes);
    else if (key === "htable.timer_interval") timerInterval = Number(p.value);
    else if (key === "app_jsdt.load") kemiScript = resolveFrom(p.pos.file, String(p.value));
    else if (IGNORED_PARAMS.has(key)) notes.push(`${at(p.pos)}: modparam ${key} has no effect here: ignored`);
  }

  for (const g of tree.globals) {
    if (g.name === "debug") {
      try {
        config.debug = validateParam("debug", g.value, `debug= at ${at(g.pos)}`);
      } catch (e) {
        throw new CfgSyntaxError(g.pos, (e as Error).message);
      }
    } else if (g.name === "max_while_loops") {
      if (typeof g.value !== "number" || g.value < 0) throw new CfgSyntaxError(g.pos, "max_while_loops: expected a non-negative integer");
      maxWhile = g.value;
    } else if (SHM_GLOBALS.has(g.name)) {
      // Kamailio's bounds for -m / shm_mem_size, in MiB
      if (typeof g.value !== "number" || !Number.isInteger(g.value) || g.value <= 0 || g.value > 16 * 1024 * 1024) {
        throw new CfgSyntaxError(g.pos, `${g.name}: expected a size in MiB from 1 to 16777216`);
      }
      shmMib = g.value;
    } else if (IGNORED_GLOBALS.has(g.name)) notes.push(`${at(g.pos)}: global setting ${g.name} has no effect here: ignored`);
    else if (!USED_GLOBALS.has(g.name)) throw new CfgSyntaxError(g.pos, `unknown global setting "${g.name}"`);
  }

  if (tree.cfgengine) {
    const e = tree.cfgengine.name.toLowerCase();
    if (e === "jsdt" || e === "javascript") {
      if (!loaded.has("app_jsdt")) throw new CfgSyntaxError(tree.cfgengine.pos, `cfgengine "${tree.cfgengine.name}" needs loadmodule "app_jsdt.so"`);
    } else if (e !== "native" && e !== "kamailio") {
      throw new CfgSyntaxError(tree.cfgengine.pos, `cfgengine "${tree.cfgengine.name}": mhttpd provides "native" and "jsdt"`);
    }
  }

  setMemoryLimit(shmMib);
  setTimerInterval(timerInterval);

  // ---- routes ----
  const named = new Map<string, RouteBlock>();
  let event: RouteBlock | undefined;
  for (const r of tree.routes) {
    if (r.kind === "route") {
      if (named.has(r.name)) throw new CfgSyntaxError(r.pos, `route[${r.name}] is defined twice (first at ${at(named.get(r.name)!.pos)})`);
      named.set(r.name, r);
    } else if (r.kind === "event_route" && r.name === EVENT_ROUTE) {
      if (event) throw new CfgSyntaxError(r.pos, `event_route[${EVENT_ROUTE}] is defined twice`);
      event = r;
    } else notes.push(`${at(r.pos)}: ${r.kind}${r.name ? `[${r.name}]` : ""} is not run by mhttpd: ignored`);
  }
  if (event && !loaded.has("microhttpd")) throw new CfgSyntaxError(event.pos, `event_route[${EVENT_ROUTE}] needs loadmodule "microhttpd.so"`);

  const routes: RouteTable = new Map();
  const env: CompileEnv = { routes, loaded, referenced: [], dynamicRoutes: false };
  let main: ReturnType<typeof compileBlock> | undefined;
  if (event) {
    main = compileBlock(event.body, env);
    // compile the route[] blocks reachable from the event route (all of them when route($var) is used)
    const done = new Set<string>();
    for (let k = 0; k < env.referenced.length || (env.dynamicRoutes && done.size < named.size); k++) {
      let name: string;
      if (k < env.referenced.length) {
        const ref = env.referenced[k];
        if (!named.has(ref.name)) throw new CfgSyntaxError(ref.pos, `route(${ref.name}): no route[${ref.name}] in the configuration`);
        name = ref.name;
      } else name = [...named.keys()].find((n) => !done.has(n))!;
      if (done.has(name)) continue;
      done.add(name);
      const block = named.get(name)!;
      routes.set(name, { name, pos: block.pos, run: compileBlock(block.body, env) });
    }
    // references met while compiling in the dynamic phase are checked here
    for (const ref of env.referenced) {
      if (!named.has(ref.name)) throw new CfgSyntaxError(ref.pos, `route(${ref.name}): no route[${ref.name}] in the configuration`);
    }
    for (const n of named.keys()) if (!done.has(n)) notes.push(`${at(named.get(n)!.pos)}: route[${n}] is never called from event_route[${EVENT_ROUTE}]: not compiled`);
  }

  const program: CfgProgram = { file, config, kemiScript, loaded, defines: pre.defines, notes };
  if (main) {
    const run = main;
    let pending: string[] | null = notes.length ? notes : null;
    const x: Exec = { ctx: IDLE, flags: 0, ret: 1, depth: 0, maxWhile };
    program.event = (ctx) => {
      if (pending) {
        for (const n of pending) ctx.logger.log(L_DBG, n, "<core>");
        pending = null;
      }
      // a cfg route runs synchronously to its end, so one state object serves every request
      x.ctx = ctx;
      x.flags = 0;
      x.ret = 1;
      x.depth = 0;
      run(x);
      x.ctx = IDLE;
    };
  }
  return program;
}

/** Evaluate a plain KEMI script (Kamailio's kemi.js is not a module) and collect its top-level functions. */
function evaluateScript(file: string): Record<string, unknown> {
  const src = readTextFile(file);
  const names = new Set<string>();
  for (const m of src.matchAll(/^\s*(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)|^\s*(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=/gm)) names.add(m[1] ?? m[2]);
  const ret = [...names].map((n) => `${JSON.stringify(n)}: typeof ${n} === "undefined" ? undefined : ${n}`).join(", ");
  // the script sees the global KSR that the core installs, as under app_jsdt
  return new Function(`${src}\n;return { ${ret} };\n//# sourceURL=${fileUrlOf(file)}`)() as Record<string, unknown>;
}

async function loadKemi(file: string, pos: string): Promise<Record<string, unknown>> {
  try {
    if (/\.(ts|mts|mjs)$/.test(file)) return (await importUserModule(fileUrlOf(file))) as Record<string, unknown>;
    const src = readTextFile(file);
    if (/^\s*(export|import)\s/m.test(src)) return (await importUserModule(fileUrlOf(file))) as Record<string, unknown>;
    return evaluateScript(file);
  } catch (e) {
    const err = e as Error & { code?: string };
    throw new StartupError(`cannot load the KEMI script ${file} (${pos}): ${err.code === "ENOENT" ? "no such file" : `${err.name}: ${err.message}`}`);
  }
}

/** The .cfg branch of loadRoute. */
export async function loadCfgRoute(url: string, predefined: Record<string, string> = {}): Promise<LoadedRoute> {
  const file = url.startsWith("file:") ? filePathOf(url) : url;
  let program: CfgProgram;
  try {
    program = compileCfg(file, { predefined });
  } catch (e) {
    if (e instanceof CfgSyntaxError) throw new StartupError(e.message);
    throw e;
  }
  const kemi = program.kemiScript ? await loadKemi(program.kemiScript, `modparam("app_jsdt", "load") in ${displayPath(url)}`) : undefined;
  return {
    label: `the modparams of ${displayPath(url)}`,
    config: program.config,
    callback(eventCallback: string): Route {
      if (eventCallback) {
        if (!kemi) {
          throw new StartupError(`${displayPath(url)}: event_callback "${eventCallback}" needs a KEMI script: loadmodule "app_jsdt.so" and modparam("app_jsdt", "load", "file.js")`);
        }
        const fn = Object.hasOwn(kemi, eventCallback) ? kemi[eventCallback] : undefined;
        if (typeof fn !== "function") {
          const have = Object.keys(kemi).filter((k) => typeof kemi[k] === "function");
          throw new StartupError(`event_callback "${eventCallback}": no such function in ${program.kemiScript} (functions: ${have.join(", ") || "none"})`);
        }
        return kemiRoute(fn as RouteFunction);
      }
      if (!program.event) throw new StartupError(`${displayPath(url)}: no event_route[${EVENT_ROUTE}] block (and no event_callback for a KEMI script)`);
      return program.event;
    },
  };
}

export { EVENT_NAME };
