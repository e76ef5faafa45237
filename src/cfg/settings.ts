// The top level of a cfg, checked and applied before any route compiles:
// loadmodule, modparam, the global settings and cfgengine. What mhttpd does not
// run is accepted only where that changes nothing for an HTTP route, so that a
// real kamailio.cfg loads: SIP-only modules (named in one start-up warning),
// parameters and core settings without effect here (a debug note names each).
// Anything else, and a value that would have changed something, is an error at
// file:line:col. The tables of what is known are in modules.ts.
import { PARAMS, type ParamName } from "../params.ts";
import { ownEntry, shvStore, varStore } from "../pv.ts";
import { validateParam } from "../config.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import { DEFAULT_SHM_MIB, DEFAULT_TIMER_INTERVAL, declareTable, setMemoryLimit, setTimerInterval } from "./htable.ts";
import { resolveFrom } from "./host.ts";
import { configureNdbRedis } from "./ndb-redis.ts";
import { applyHttpClientParam, ConnectionError, defaultHttpClientSettings, finishHttpClientSettings, type HttpClientSettings } from "../modules/http-client-config.ts";
import { useHttpClientSettings } from "../modules/http-client-state.ts";
import { INERT_GLOBALS, MODULES, moduleName, NEEDS_ONE_OF, SHM_GLOBALS, unknownModuleMessage, USED_GLOBALS, type Inert, type ModuleSpec } from "./modules.ts";
import { DEFAULT_INTERVAL_S, parseExec, parseTimer, type TimerSpec } from "../modules/rtimer.ts";
import type { CfgTree } from "./syntax-tree.ts";
import { applySqlModparam, applySqlSettings, checkSqlSettings, newSqlSettings, type SqlSettings } from "./sqlops.ts";
import { beginStatisticDeclarations, declareStatistic } from "../modules/statistics.ts";

const DEFAULT_MAX_WHILE = 100;

export interface Settings {
  /** the route's parameters: microhttpd modparams and debug= */
  config: Record<string, unknown>;
  /** modules named by loadmodule (without path and .so) */
  loaded: Set<string>;
  /** modparam("app_jsdt", "load", ...), resolved against the cfg's directory */
  kemiScript?: string;
  maxWhile: number;
  /** htables declared, with where: a second declaration names the first */
  tables: Map<string, Pos>;
  timerInterval: number;
  shmMib: number;
  /** modules loaded but not run (SIP only), for the start-up warning */
  noopModules: string[];
  /** rtimer's timers, with the routes each runs */
  timers: CfgTimer[];
  /** rtimer's default_interval, in seconds, for the timers declared after it */
  rtimerDefault: number;
  /** cfgengine "jsdt": a timer's route is a function of the KEMI script, as in Kamailio */
  kemiEngine: boolean;
  /** modparam("http_client", ...): the module's defaults and connections */
  httpClient: HttpClientSettings;
  /** sqlops, db_sqlite and db_postgres */
  sql: SqlSettings;
  /** modparam("ndb_redis", ...), in their order */
  ndbRedis: Modparam[];
}

/** modparam("rtimer", "timer", ...) and the exec modparams that name it */
export interface CfgTimer extends TimerSpec {
  pos: Pos;
  execs: { route: string; pos: Pos }[];
}

type Modparam = CfgTree["modparams"][number];
type GlobalSetting = CfgTree["globals"][number];

/** file:line:col, as the notes and errors name a place */
export const placeOf = (p: Pos) => `${p.file}:${p.line}:${p.col}`;

/** One kind after the other, whatever their order in the file: modules, then
 * modparams (their module must be loaded), then globals, then cfgengine. */
export function readSettings(tree: CfgTree, notes: string[]): Settings {
  const settings: Settings = {
    config: {},
    loaded: new Set(),
    kemiScript: undefined,
    maxWhile: DEFAULT_MAX_WHILE,
    tables: new Map(),
    timerInterval: DEFAULT_TIMER_INTERVAL,
    shmMib: DEFAULT_SHM_MIB,
    noopModules: [],
    timers: [],
    rtimerDefault: DEFAULT_INTERVAL_S,
    kemiEngine: false,
    httpClient: defaultHttpClientSettings(),
    sql: newSqlSettings(),
    ndbRedis: [],
  };
  for (const m of tree.modules) loadModule(m, settings, notes);
  beginStatisticDeclarations();
  for (const p of tree.modparams) applyModparam(p, settings, notes);
  checkHttpClient(tree, settings.httpClient);
  for (const g of tree.globals) applyGlobal(g, settings, notes);
  if (tree.cfgengine) settings.kemiEngine = checkCfgengine(tree.cfgengine, settings.loaded);
  // a connection's own database module first (its message names the connection),
  // then the module a loaded one needs at all
  checkSqlSettings(settings.sql, settings.loaded);
  checkCompanions(tree.modules, settings.loaded);
  return settings;
}

/** The settings that hold for the whole process (htable memory and timer), set once everything checked. */
export function applyProcessSettings(settings: Settings): void {
  setMemoryLimit(settings.shmMib);
  setTimerInterval(settings.timerInterval);
  useHttpClientSettings(settings.httpClient);
  applySqlSettings(settings.sql);
  configureNdbRedis(settings.ndbRedis);
}

function loadModule(m: CfgTree["modules"][number], settings: Settings, notes: string[]): void {
  const name = moduleName(m.name);
  const spec = ownEntry(MODULES, name);
  if (!spec) throw new CfgSyntaxError(m.pos, unknownModuleMessage(m.name, name));
  if (spec.noop) {
    notes.push(`${placeOf(m.pos)}: module ${name} is not run: ${spec.noop}`);
    if (!settings.noopModules.includes(name)) settings.noopModules.push(name);
  }
  settings.loaded.add(name);
}

/** A module that needs another one beside it (sqlops and a db_ module) is an error without it. */
function checkCompanions(modules: CfgTree["modules"], loaded: Set<string>): void {
  for (const m of modules) {
    const needs = ownEntry(NEEDS_ONE_OF, moduleName(m.name));
    if (needs && !needs.modules.some((n) => loaded.has(n))) {
      throw new CfgSyntaxError(m.pos, `${moduleName(m.name)} needs ${needs.modules.map((n) => `loadmodule "${n}.so"`).join(" or ")} (${needs.why})`);
    }
  }
}

/** An inert parameter or setting: a note, or the error for a value that would have changed something. */
function acceptInert(what: string, inert: Inert, value: string | number, pos: Pos, notes: string[]): void {
  const refused = inert.refuse?.(value);
  if (refused) throw new CfgSyntaxError(pos, `${what} ${JSON.stringify(value)}: ${refused}`);
  notes.push(`${placeOf(pos)}: ${what} has no effect here: ${inert.why}`);
}

function applyModparam(p: Modparam, settings: Settings, notes: string[]): void {
  const mod = Object.keys(MODULES).find((n) => n.toLowerCase() === p.module.toLowerCase());
  if (!mod || !settings.loaded.has(mod)) throw new CfgSyntaxError(p.pos, `modparam for module "${p.module}", which is not loaded (add loadmodule "${p.module}.so" before it)`);
  const spec = MODULES[mod];
  const inert = spec.inert ? ownEntry(spec.inert, p.name) : undefined;
  if (inert) return acceptInert(`modparam("${mod}", "${p.name}")`, inert, p.value, p.pos, notes);
  checkModparamType(p, mod, spec);
  const key = `${mod}.${p.name}`;
  if (mod === "microhttpd") setMicrohttpdParam(p, settings.config);
  else if (key === "pv.shvset") setFromModparam(shvStore as Map<string, unknown>, String(p.value), p.pos, "shvset");
  else if (key === "pv.varset") setFromModparam(varStore as Map<string, unknown>, String(p.value), p.pos, "varset");
  else if (key === "htable.htable") declareTable(String(p.value), p.pos, settings.tables, notes);
  else if (key === "htable.timer_interval") settings.timerInterval = Number(p.value);
  else if (mod === "http_client") applyHttpClientModparam(p, settings.httpClient, notes);
  else if (mod === "sqlops" || mod === "db_sqlite" || mod === "db_postgres") applySqlModparam(key, p.value, p.pos, settings.sql);
  else if (mod === "ndb_redis") settings.ndbRedis.push(p);
  else if (key === "app_jsdt.load") settings.kemiScript = resolveFrom(p.pos.file, String(p.value));
  else if (mod === "rtimer") applyRtimerParam(p, settings);
  else if (key === "statistics.variable") declareStatisticAt(String(p.value), p.pos);
}

/** modparam("statistics", "variable", "name[/no_reset]"): declared now, before any
 * route compiles (its functions check the names they are given). */
function declareStatisticAt(spec: string, pos: Pos): void {
  try {
    declareStatistic(spec);
  } catch (e) {
    throw new CfgSyntaxError(pos, `modparam("statistics", "variable", ...): ${(e as Error).message}`);
  }
}

/** http_client's modparams, in file order (a connection takes the defaults above it). */
function applyHttpClientModparam(p: Modparam, httpClient: HttpClientSettings, notes: string[]): void {
  try {
    const note = applyHttpClientParam(httpClient, p.name, p.value);
    if (note) notes.push(`${placeOf(p.pos)}: modparam http_client.${p.name}: ${note}`);
  } catch (e) {
    throw new CfgSyntaxError(p.pos, `modparam("http_client", "${p.name}", ...): ${(e as Error).message}`);
  }
}

/** Once every modparam is read: the failover connections exist. */
function checkHttpClient(tree: CfgTree, httpClient: HttpClientSettings): void {
  try {
    finishHttpClientSettings(httpClient);
  } catch (e) {
    if (!(e instanceof ConnectionError)) throw e;
    const declaration = tree.modparams.find((p) => p.name === "httpcon" && String(p.value).trim().split(/\s*=>/)[0] === e.connection);
    throw new CfgSyntaxError(declaration!.pos, `modparam("http_client", "httpcon", ...): ${e.message}`);
  }
}

function checkModparamType(p: Modparam, mod: string, spec: ModuleSpec): void {
  const type = ownEntry(spec.params, p.name);
  if (!type) {
    if (spec.noop) throw new CfgSyntaxError(p.pos, `modparam("${mod}", "${p.name}"): ${mod} is not run here (${spec.noop}), and "${p.name}" is not one of its parameters known to change nothing for an HTTP route`);
    const known = [...Object.keys(spec.params), ...Object.keys(spec.inert ?? {})];
    throw new CfgSyntaxError(p.pos, `module ${mod} has no parameter "${p.name}" (known: ${known.join(", ") || "none"})`);
  }
  const given = typeof p.value === "number" ? "int" : "str";
  // an int parameter must be given as an int (Kamailio's modparam type rule); a
  // str parameter given an int is left to the parameter's own validation
  if (given !== type && !(type === "str" && mod === "microhttpd")) {
    throw new CfgSyntaxError(p.pos, `modparam("${p.module}", "${p.name}", ...): the parameter is ${type === "int" ? "an integer" : "a string"}, got ${given === "int" ? "an integer" : "a string"} ${JSON.stringify(p.value)}`);
  }
}

/** microhttpd's modparams are mhttpd's parameters, checked by the same validator as every other source. */
function setMicrohttpdParam(p: Modparam, config: Record<string, unknown>): void {
  const name = p.name as ParamName;
  try {
    validateParam(name, p.value, `modparam at ${placeOf(p.pos)}`);
  } catch (e) {
    throw new CfgSyntaxError(p.pos, (e as Error).message);
  }
  if (PARAMS[name].repeatable) config[name] = [...((config[name] as unknown[]) ?? []), p.value];
  else config[name] = p.value;
}

/** rtimer's parameters, in file order as Kamailio applies them: an exec names a
 * timer declared before it, and default_interval holds for the timers after it. */
function applyRtimerParam(p: Modparam, settings: Settings): void {
  if (p.name === "default_interval") {
    if (typeof p.value !== "number" || p.value < 1) throw new CfgSyntaxError(p.pos, `rtimer default_interval: expected a number of seconds from 1, got ${JSON.stringify(p.value)}`);
    settings.rtimerDefault = p.value;
  } else if (p.name === "timer") {
    const timer = parseTimer(String(p.value), settings.rtimerDefault);
    if (typeof timer === "string") throw new CfgSyntaxError(p.pos, `rtimer timer ${JSON.stringify(p.value)}: ${timer}`);
    const same = settings.timers.find((t) => t.name.toLowerCase() === timer.name.toLowerCase());
    if (same) throw new CfgSyntaxError(p.pos, `rtimer timer "${timer.name}" is declared twice (first at ${placeOf(same.pos)})`);
    settings.timers.push({ ...timer, pos: p.pos, execs: [] });
  } else {
    const exec = parseExec(String(p.value));
    if (typeof exec === "string") throw new CfgSyntaxError(p.pos, `rtimer exec ${JSON.stringify(p.value)}: ${exec}`);
    const timer = settings.timers.find((t) => t.name.toLowerCase() === exec.timer.toLowerCase());
    if (!timer) throw new CfgSyntaxError(p.pos, `rtimer exec: no timer "${exec.timer}" (declare it with modparam("rtimer", "timer", "name=${exec.timer};interval=...;") before the exec)`);
    timer.execs.push({ route: exec.route, pos: p.pos });
  }
}

/** pv's shvset and varset: "name=s:text" or "name=i:number". */
function setFromModparam(store: Map<string, unknown>, spec: string, pos: Pos, what: string) {
  const m = /^([^=]+)=([is]):(.*)$/s.exec(spec);
  if (!m) throw new CfgSyntaxError(pos, `${what}: expected "name=s:text" or "name=i:number", found ${JSON.stringify(spec)}`);
  const value = m[2] === "i" ? Number(m[3]) : m[3];
  if (m[2] === "i" && !Number.isInteger(value)) throw new CfgSyntaxError(pos, `${what}: ${JSON.stringify(m[3])} is not an integer`);
  store.set(m[1].trim(), value);
}

function applyGlobal(g: GlobalSetting, settings: Settings, notes: string[]): void {
  if (g.name === "debug") {
    try {
      settings.config.debug = validateParam("debug", g.value, `debug= at ${placeOf(g.pos)}`);
    } catch (e) {
      throw new CfgSyntaxError(g.pos, (e as Error).message);
    }
  } else if (g.name === "max_while_loops") {
    if (typeof g.value !== "number" || g.value < 0) throw new CfgSyntaxError(g.pos, "max_while_loops: expected a non-negative integer");
    settings.maxWhile = g.value;
  } else if (SHM_GLOBALS.has(g.name)) {
    // Kamailio's bounds for -m / shm_mem_size, in MiB
    if (typeof g.value !== "number" || !Number.isInteger(g.value) || g.value <= 0 || g.value > 16 * 1024 * 1024) {
      throw new CfgSyntaxError(g.pos, `${g.name}: expected a size in MiB from 1 to 16777216`);
    }
    settings.shmMib = g.value;
  } else if (Object.hasOwn(INERT_GLOBALS, g.name)) acceptInert(`global setting ${g.name}`, INERT_GLOBALS[g.name], g.value, g.pos, notes);
  else if (!USED_GLOBALS.has(g.name)) throw new CfgSyntaxError(g.pos, `unknown global setting "${g.name}"`);
}

/** "native" (or "kamailio") runs the route blocks; "jsdt" needs app_jsdt, whose
 * script is the route. Whether the engine is KEMI. */
function checkCfgengine(engine: NonNullable<CfgTree["cfgengine"]>, loaded: Set<string>): boolean {
  const e = engine.name.toLowerCase();
  if (e === "jsdt" || e === "javascript") {
    if (!loaded.has("app_jsdt")) throw new CfgSyntaxError(engine.pos, `cfgengine "${engine.name}" needs loadmodule "app_jsdt.so"`);
    return true;
  }
  if (e !== "native" && e !== "kamailio") throw new CfgSyntaxError(engine.pos, `cfgengine "${engine.name}": mhttpd provides "native" and "jsdt"`);
  return false;
}
