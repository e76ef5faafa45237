// modparam("ndb_redis", ...): every parameter of Kamailio's module, with its type;
// what mhttpd cannot do is refused here, by name, instead of being ignored.
import { NdbRedisConfigError, ndbRedis, parseServerSpec, RedisServer } from "./servers.ts";

/** Kamailio's param_export_t of ndb_redis: name -> type */
export const NDB_REDIS_PARAMS = {
  server: "str",
  init_without_redis: "int",
  connect_timeout: "int",
  cmd_timeout: "int",
  cluster: "int",
  disable_time: "int",
  allowed_timeouts: "int",
  flush_on_reconnect: "int",
  allow_dynamic_nodes: "int",
  debug: "int",
  ca_path: "str",
} as const;

export type NdbRedisParamName = keyof typeof NDB_REDIS_PARAMS;

/** Reads the PEM files of a directory (ca_path); given by the caller, which has
 * file access (the cfg reader, or the route's runtime). */
export type ReadCaDirectory = (dir: string) => string[];

function int(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new NdbRedisConfigError(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Apply one modparam; throws NdbRedisConfigError naming the problem. */
export function setNdbRedisParam(name: string, value: unknown, readCa?: ReadCaDirectory): void {
  if (!Object.hasOwn(NDB_REDIS_PARAMS, name)) throw new NdbRedisConfigError(`ndb_redis has no parameter ${JSON.stringify(name)} (known: ${Object.keys(NDB_REDIS_PARAMS).join(", ")})`);
  const type = NDB_REDIS_PARAMS[name as NdbRedisParamName];
  if (type === "str" && typeof value !== "string") throw new NdbRedisConfigError(`${name}: expected a string, got ${JSON.stringify(value)}`);
  const p = ndbRedis.params;
  switch (name as NdbRedisParamName) {
    case "server": {
      const spec = parseServerSpec(value as string);
      if (ndbRedis.servers.has(spec.name)) throw new NdbRedisConfigError(`server ${JSON.stringify(spec.name)} is declared twice`);
      ndbRedis.servers.set(spec.name, new RedisServer(spec));
      return;
    }
    case "connect_timeout":
      p.connect_timeout = int(name, value, 1, 3_600_000);
      return;
    case "cmd_timeout":
      p.cmd_timeout = int(name, value, 1, 3_600_000);
      return;
    case "allowed_timeouts":
      p.allowed_timeouts = int(name, value, -1, 1_000_000);
      return;
    case "disable_time":
      p.disable_time = int(name, value, 0, 86_400 * 365);
      return;
    case "flush_on_reconnect":
      p.flush_on_reconnect = int(name, value, 0, 1);
      return;
    case "init_without_redis":
      p.init_without_redis = int(name, value, 0, 1);
      return;
    case "cluster":
    case "allow_dynamic_nodes":
      if (int(name, value, 0, 1) === 1) throw new NdbRedisConfigError(`${name}: Redis Cluster (MOVED redirection) is not supported here: point a server at one node, or put a cluster proxy in front`);
      return;
    case "debug":
      // the level of the module's own debug lines: they follow the debug parameter here
      int(name, value, -5, 3);
      return;
    case "ca_path":
      if (value === "") return;
      if (!readCa) throw new NdbRedisConfigError("ca_path: no file access here");
      try {
        p.ca = readCa(value as string);
      } catch (e) {
        throw new NdbRedisConfigError(`ca_path ${JSON.stringify(value)}: ${(e as Error).message}`);
      }
      if (p.ca.length === 0) throw new NdbRedisConfigError(`ca_path ${JSON.stringify(value)}: no PEM certificate in that directory`);
      return;
  }
}

/** For tests: forget every server and parameter. */
export function resetNdbRedis(): void {
  for (const s of ndbRedis.servers.values()) s.close();
  ndbRedis.servers.clear();
  Object.assign(ndbRedis.params, { connect_timeout: 1000, cmd_timeout: 1000, allowed_timeouts: -1, disable_time: 0, flush_on_reconnect: 0, init_without_redis: 0, ca: undefined });
}
