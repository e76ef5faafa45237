// Resolving the parameters. Sources, highest first:
//   1. command-line flags   (--listen-port 8284)
//   2. environment          (MHTTPD_LISTEN_PORT=8284)
//   3. the route's `config` (export const config = { listen_port: 8284 })
//   4. the defaults in PARAMS
// Every value, whatever its source, goes through the parameter's valibot schema;
// the first bad one stops start-up with a message naming it, its value, where it
// came from and what is allowed.
import * as v from "valibot";
import { PARAMS, PARAM_NAMES, type ParamName, type Params } from "./params.ts";
import { ConfigError } from "./errors.ts";

export interface ConfigSources {
  cli?: Partial<Record<ParamName, unknown>>;
  /** how each command-line value was given, for messages (default: its --flag) */
  cliOrigins?: Partial<Record<ParamName, string>>;
  env?: Record<string, string | undefined>;
  /** parameters from the route (module `config` export or cfg modparams) */
  route?: Record<string, unknown>;
  /** how to name the route source in messages */
  routeLabel?: string;
}

export const envName = (name: ParamName) => `MHTTPD_${name.toUpperCase()}`;
export const flagName = (name: ParamName) => `--${name.replace(/_/g, "-")}`;


function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : Array.isArray(value) ? JSON.stringify(value) : String(value);
}

export function validateParam<K extends ParamName>(name: K, raw: unknown, origin: string): Params[K] {
  const spec = PARAMS[name];
  const result = v.safeParse(spec.schema, raw);
  if (!result.success) {
    const why = result.issues[0]?.message ?? "invalid";
    throw new ConfigError(`invalid ${name} ${show(raw)} (from ${origin}): ${why}; allowed: ${spec.allowed}`);
  }
  return result.output as Params[K];
}

/** The value of `name` from the highest source that gives it, and where it came from. */
function givenValue(sources: ConfigSources, name: ParamName): { raw: unknown; origin: string } | undefined {
  const fromCli = sources.cli?.[name];
  if (fromCli !== undefined) return { raw: fromCli, origin: sources.cliOrigins?.[name] ?? flagName(name) };
  const fromEnv = sources.env?.[envName(name)];
  if (fromEnv !== undefined) return { raw: fromEnv, origin: envName(name) };
  const fromRoute = sources.route?.[name];
  if (fromRoute !== undefined) return { raw: fromRoute, origin: sources.routeLabel ?? "the route's config" };
  return undefined;
}

/** Load the libraries that the given parameters' schemas use (src/on-demand.ts):
 * resolveParams needs them, synchronously. */
export async function prepareParams(sources: ConfigSources): Promise<void> {
  await Promise.all(PARAM_NAMES.map((name) => (givenValue(sources, name) !== undefined ? PARAMS[name].needs?.load() : undefined)));
}

export function resolveParams(sources: ConfigSources): Params {
  const route = sources.route ?? {};
  const label = sources.routeLabel ?? "the route's config";
  for (const key of Object.keys(route)) {
    if (!Object.hasOwn(PARAMS, key)) {
      throw new ConfigError(`unknown parameter "${key}" in ${label} (known: ${PARAM_NAMES.join(", ")})`);
    }
  }
  const out: Partial<Params> = {};
  for (const name of PARAM_NAMES) {
    const given = givenValue(sources, name);
    (out as Record<string, unknown>)[name] = given === undefined ? PARAMS[name].default : validateParam(name, given.raw, given.origin);
  }
  return out as Params;
}
