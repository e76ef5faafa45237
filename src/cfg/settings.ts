// The top level of a cfg, checked and applied before any route compiles:
// loadmodule, modparam, the global settings and cfgengine. Whatever mhttpd does
// not run is accepted with a debug note (SIP-only modules, core settings without
// effect here) so that a real kamailio.cfg loads; anything unknown is an error at
// file:line:col. The tables of what is known are in modules.ts.
import { PARAMS, type ParamName } from "../params.ts";
import { ownEntry, shvStore, varStore } from "../pv.ts";
import { validateParam } from "../config.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import { DEFAULT_SHM_MIB, DEFAULT_TIMER_INTERVAL, declareTable, setMemoryLimit, setTimerInterval } from "./htable.ts";
import { resolveFrom } from "./host.ts";
import { configureNdbRedis } from "./ndb-redis.ts";
import { IGNORED_GLOBALS, IGNORED_PARAMS, MODULES, moduleName, SHM_GLOBALS, USED_GLOBALS, type ModuleSpec } from "./modules.ts";
import type { CfgTree } from "./syntax-tree.ts";

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
  /** modparam("ndb_redis", ...), in their order */
  ndbRedis: Modparam[];
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
    ndbRedis: [],
  };
  for (const m of tree.modules) loadModule(m, settings.loaded, notes);
  for (const p of tree.modparams) applyModparam(p, settings, notes);
  for (const g of tree.globals) applyGlobal(g, settings, notes);
  if (tree.cfgengine) checkCfgengine(tree.cfgengine, settings.loaded);
  return settings;
}

/** The settings that hold for the whole process (htable memory and timer), set once everything checked. */
export function applyProcessSettings(settings: Settings): void {
  setMemoryLimit(settings.shmMib);
  setTimerInterval(settings.timerInterval);
  configureNdbRedis(settings.ndbRedis);
}

function loadModule(m: CfgTree["modules"][number], loaded: Set<string>, notes: string[]): void {
  const name = moduleName(m.name);
  const spec = ownEntry(MODULES, name);
  if (!spec) throw new CfgSyntaxError(m.pos, `unknown module "${m.name}": mhttpd provides ${Object.keys(MODULES).join(", ")}`);
  if (spec.ignored) notes.push(`${placeOf(m.pos)}: module ${name} is SIP only: loaded and ignored`);
  loaded.add(name);
}

function applyModparam(p: Modparam, settings: Settings, notes: string[]): void {
  const mod = Object.keys(MODULES).find((n) => n.toLowerCase() === p.module.toLowerCase());
  if (!mod || !settings.loaded.has(mod)) throw new CfgSyntaxError(p.pos, `modparam for module "${p.module}", which is not loaded (add loadmodule "${p.module}.so" before it)`);
  const spec = MODULES[mod];
  if (spec.ignored) {
    notes.push(`${placeOf(p.pos)}: modparam ${mod}.${p.name} ignored (SIP-only module)`);
    return;
  }
  checkModparamType(p, mod, spec);
  const key = `${mod}.${p.name}`;
  if (mod === "microhttpd") setMicrohttpdParam(p, settings.config);
  else if (key === "pv.shvset") setFromModparam(shvStore as Map<string, unknown>, String(p.value), p.pos, "shvset");
  else if (key === "pv.varset") setFromModparam(varStore as Map<string, unknown>, String(p.value), p.pos, "varset");
  else if (key === "htable.htable") declareTable(String(p.value), p.pos, settings.tables, notes);
  else if (key === "htable.timer_interval") settings.timerInterval = Number(p.value);
  else if (mod === "ndb_redis") settings.ndbRedis.push(p);
  else if (key === "app_jsdt.load") settings.kemiScript = resolveFrom(p.pos.file, String(p.value));
  else if (IGNORED_PARAMS.has(key)) notes.push(`${placeOf(p.pos)}: modparam ${key} has no effect here: ignored`);
}

function checkModparamType(p: Modparam, mod: string, spec: ModuleSpec): void {
  const type = ownEntry(spec.params, p.name);
  if (!type) throw new CfgSyntaxError(p.pos, `module ${mod} has no parameter "${p.name}" (known: ${Object.keys(spec.params).join(", ")})`);
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
  } else if (IGNORED_GLOBALS.has(g.name)) notes.push(`${placeOf(g.pos)}: global setting ${g.name} has no effect here: ignored`);
  else if (!USED_GLOBALS.has(g.name)) throw new CfgSyntaxError(g.pos, `unknown global setting "${g.name}"`);
}

/** "native" (or "kamailio") runs the route blocks; "jsdt" needs app_jsdt, whose script is the route. */
function checkCfgengine(engine: NonNullable<CfgTree["cfgengine"]>, loaded: Set<string>): void {
  const e = engine.name.toLowerCase();
  if (e === "jsdt" || e === "javascript") {
    if (!loaded.has("app_jsdt")) throw new CfgSyntaxError(engine.pos, `cfgengine "${engine.name}" needs loadmodule "app_jsdt.so"`);
  } else if (e !== "native" && e !== "kamailio") {
    throw new CfgSyntaxError(engine.pos, `cfgengine "${engine.name}": mhttpd provides "native" and "jsdt"`);
  }
}
