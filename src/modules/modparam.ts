// A route module's `modparams` export: the modparam() lines of a kamailio.cfg for
// the modules a TypeScript route uses (its microhttpd parameters are its `config`):
//
//   export const modparams = [
//     ["ndb_redis", "server", "name=main;addr=127.0.0.1;port=6379"],
//     ["ndb_redis", "cmd_timeout", 500],
//     ["statistics", "variable", "logins"],
//   ];
//
// Applied when the module is loaded, before the first request, with the same
// checks as in a .cfg; a mistake stops start-up naming the entry.
import { StartupError } from "../errors.ts";
import { resetNdbRedis, setNdbRedisParam } from "./ndb_redis/params.ts";
import { NdbRedisConfigError } from "./ndb_redis/servers.ts";
import { beginStatisticDeclarations, declareStatistic } from "./statistics.ts";

/** The statistics module's one parameter, as a .cfg gives it. */
class StatisticsParamError extends Error {}
function setStatisticsParam(name: string, value: unknown): void {
  if (name !== "variable") throw new StatisticsParamError(`module statistics has no parameter ${JSON.stringify(name)} (known: variable)`);
  try {
    declareStatistic(String(value));
  } catch (e) {
    throw new StatisticsParamError((e as Error).message);
  }
}

/** Modules whose parameters a route module may set, and how. */
const SETTERS: Record<string, { reset(): void; set(name: string, value: unknown): void; error: new (...a: never[]) => Error }> = {
  ndb_redis: { reset: resetNdbRedis, set: (name, value) => setNdbRedisParam(name, value, readPemFiles), error: NdbRedisConfigError },
  statistics: { reset: beginStatisticDeclarations, set: setStatisticsParam, error: StatisticsParamError },
};

function readPemFiles(dir: string): string[] {
  const fs = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.("node:fs") as typeof import("node:fs") | undefined;
  if (!fs) throw new Error("no file access on this runtime");
  return fs
    .readdirSync(dir)
    .filter((n) => /\.(pem|crt)$/i.test(n))
    .sort()
    .map((n) => fs.readFileSync(`${dir.replace(/\/$/, "")}/${n}`, "utf8"));
}

/** Check and apply `modparams` (undefined: none). `source` names the module for errors. */
export function applyRouteModparams(modparams: unknown, source: string): void {
  if (modparams === undefined) return;
  const where = `the modparams export of ${source}`;
  if (!Array.isArray(modparams)) throw new StartupError(`${where}: expected an array of ["module", "parameter", value] entries`);
  const entries = modparams.map((e: unknown, i) => {
    if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== "string" || typeof e[1] !== "string" || (typeof e[2] !== "string" && typeof e[2] !== "number")) {
      throw new StartupError(`${where}, entry ${i}: expected ["module", "parameter", string or integer], got ${JSON.stringify(e)}`);
    }
    const setter = Object.hasOwn(SETTERS, e[0]) ? SETTERS[e[0]] : undefined;
    if (!setter) throw new StartupError(`${where}, entry ${i}: module ${JSON.stringify(e[0])} takes no modparams from a route module (these do: ${Object.keys(SETTERS).join(", ")})`);
    return { i, setter, name: e[1], value: e[2] as string | number };
  });
  for (const s of new Set(entries.map((e) => e.setter))) s.reset();
  for (const { i, setter, name, value } of entries) {
    try {
      setter.set(name, value);
    } catch (err) {
      if (err instanceof setter.error) throw new StartupError(`${where}, entry ${i} (${JSON.stringify(name)}): ${err.message}`);
      throw err;
    }
  }
}
