// The .cfg branch of loadRoute: compile the file, and give the route function
// for the event_callback parameter. With app_jsdt + event_callback, the KEMI
// script named by modparam("app_jsdt", "load", ...) is the route instead of the
// event_route block (a plain script, as Kamailio's kemi.js, or a module).
import { StartupError } from "../errors.ts";
import { kemiTimerRoute, type RouteTimer, type TimerFunction } from "../modules/rtimer.ts";
import type { SqliteBinding } from "../modules/sql-drivers.ts";
import { setSqliteBinding } from "../modules/sqlops.ts";
import { startModules } from "../modules/startup.ts";
import { displayPath, importUserModule, kemiRoute, type LoadedRoute, type Route, type RouteFunction } from "../route.ts";
import { fileUrlOf, filePathOf, readTextFile } from "./host.ts";
import { CfgSyntaxError } from "./lexer.ts";
import { loadCfgLibraries } from "./libraries.ts";
import { compileParsedCfg, EVENT_ROUTE, parseCfg, type CfgProgram } from "./program.ts";
import { connectSql } from "./sqlops.ts";

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

/** `sqlite`: the runtime's SQLite, for sqlite:// connections (none: they cannot open) */
export async function loadCfgRoute(url: string, predefined: Record<string, string> = {}, sqlite?: () => Promise<SqliteBinding>): Promise<LoadedRoute> {
  const file = url.startsWith("file:") ? filePathOf(url) : url;
  let program: CfgProgram;
  try {
    const parsed = parseCfg(file, { predefined });
    await loadCfgLibraries(parsed.tree);
    program = compileParsedCfg(parsed);
  } catch (e) {
    if (e instanceof CfgSyntaxError) throw new StartupError(e.message);
    throw e;
  }
  setSqliteBinding(sqlite);
  try {
    await connectSql(program.sql);
  } catch (e) {
    throw new StartupError(`${displayPath(url)}: ${(e as Error).message}`);
  }
  const kemi = program.kemiScript ? await loadKemi(program.kemiScript, `modparam("app_jsdt", "load") in ${displayPath(url)}`) : undefined;
  return {
    label: `the modparams of ${displayPath(url)}`,
    config: program.config,
    warnings: program.warnings,
    timers: cfgTimers(program, kemi),
    startModules,
    callback(eventCallback: string): Route {
      if (eventCallback) return kemiCallback(url, program, kemi, eventCallback);
      if (!program.event) throw new StartupError(`${displayPath(url)}: no event_route[${EVENT_ROUTE}] block (and no event_callback for a KEMI script)`);
      return program.event;
    },
  };
}

/** rtimer's timers with their routes: route[] blocks, or with cfgengine "jsdt" the
 * KEMI script's functions, as Kamailio's rtimer calls them (sr_kemi_route). */
function cfgTimers(program: CfgProgram, kemi: Record<string, unknown> | undefined): RouteTimer[] {
  const timers: RouteTimer[] = [];
  for (const t of program.timers) {
    if (t.execs.length === 0) continue;
    const routes = t.execs.map((e) => {
      if (!program.kemiEngine) return program.timerRoute(e.route);
      const at = `${e.pos.file}:${e.pos.line}:${e.pos.col}`;
      if (!kemi) throw new StartupError(`${at}: rtimer exec route=${e.route}: with cfgengine "jsdt" a timer runs a function of the KEMI script: add modparam("app_jsdt", "load", "file.js")`);
      const fn = Object.hasOwn(kemi, e.route) ? kemi[e.route] : undefined;
      if (typeof fn !== "function") {
        const have = Object.keys(kemi).filter((k) => typeof kemi[k] === "function");
        throw new StartupError(`${at}: rtimer exec route=${e.route}: no such function in ${program.kemiScript} (functions: ${have.join(", ") || "none"})`);
      }
      return kemiTimerRoute(fn as TimerFunction, `${e.route}()`);
    });
    timers.push({ name: t.name, intervalMs: t.intervalMs, mode: t.mode, routes });
  }
  return timers;
}

/** event_callback names a function of the KEMI script. */
function kemiCallback(url: string, program: CfgProgram, kemi: Record<string, unknown> | undefined, eventCallback: string): Route {
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
