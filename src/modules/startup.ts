// What the modules do once the route is loaded and before the first socket listens
// (Kamailio's child_init): ndb_redis connects to every server it declares, and a
// server it cannot reach stops start-up unless init_without_redis is 1, as there.
// With workers > 1 each worker does it, as each Kamailio process connects.
import { StartupFailure } from "../errors.ts";
import type { Logger } from "../log.ts";
import { ndbRedis } from "./ndb_redis/servers.ts";

export async function startModules(logger: Logger): Promise<void> {
  const servers = [...ndbRedis.servers.values()];
  const results = await Promise.allSettled(servers.map((s) => s.connect()));
  for (let i = 0; i < servers.length; i++) {
    const r = results[i];
    const name = servers[i].name;
    if (r.status === "fulfilled") {
      logger.info(`successfully initialized redis server "${name}"`, "ndb_redis");
      continue;
    }
    const why = (r.reason as Error)?.message ?? String(r.reason);
    if (ndbRedis.params.init_without_redis !== 1) {
      throw new StartupFailure(`ndb_redis: cannot connect to redis server "${name}": ${why} (modparam("ndb_redis", "init_without_redis", 1) starts without it)`);
    }
    logger.warn(`failed to connect to redis server "${name}": ${why}; starting anyway (init_without_redis): commands connect when they run`, "ndb_redis");
  }
}
