// A rate limiter on Redis, as examples/rate-limit.cfg: each client address may
// make RATE_LIMIT requests per WINDOW seconds; past that it gets 429 with
// Retry-After. The counter lives in Redis, so every worker and every host that
// uses the same Redis counts together (a Map or $shv is per process). If Redis
// cannot be reached the request is let through (fail open) and an error is logged.
// KSR.ndb_redis's commands return Promise<number> (0 when done, as Kamailio's KEMI
// gives it): await them. A %s parameter is one word of the command, whatever it holds.
//   redis-server &  npx mhttpd examples/rate-limit.ts
//   for i in $(seq 12); do curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:8280/; done
// REDIS_SERVER, RATE_LIMIT and WINDOW in the environment change the defaults.
import type { KsrApi } from "mhttpd";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const LIMIT = Number(env.RATE_LIMIT ?? 10);
const WINDOW = Number(env.WINDOW ?? 60);

export const config = { listen_port: 8280 };
export const modparams = [
  ["ndb_redis", "server", env.REDIS_SERVER ?? "name=main;addr=127.0.0.1;port=6379"],
  ["ndb_redis", "cmd_timeout", 500],
  // start even when Redis is down: requests are let through until it is back
  ["ndb_redis", "init_without_redis", 1],
];

export default async function rateLimit(_evname: string, KSR: KsrApi): Promise<void> {
  const reply = (code: number, reason: string, body: unknown) => KSR.microhttpd.mhttpd_reply(code, reason, "application/json", `${JSON.stringify(body)}\n`);
  const key = `ratelimit:${KSR.pv.get("$mhttpd(srcip)")}`;
  const redis = KSR.ndb_redis;
  const counted = (await redis.redis_cmd_p1("main", "INCR %s", key, "count")) === 0;
  const count = KSR.pv.get("$redis(count=>value)");
  if (!counted || typeof count !== "number") {
    KSR.err(`rate-limit: no count from Redis for ${KSR.pv.get("$mhttpd(srcip)")}: letting the request through`);
    return void reply(200, "OK", { ok: true, limited: false });
  }
  // NX: only a new key gets its window, the first time it is counted
  await redis.redis_cmd_p2("main", "EXPIRE %s %s NX", key, String(WINDOW), "expire");
  if (count > LIMIT) {
    await redis.redis_cmd_p1("main", "TTL %s", key, "ttl");
    const retryAfter = Number(KSR.pv.get("$redis(ttl=>value)") ?? WINDOW);
    KSR.microhttpd.mhttpd_reply_header("Retry-After", String(retryAfter));
    return void reply(429, "Too Many Requests", { error: "too many requests", retry_after: retryAfter });
  }
  KSR.microhttpd.mhttpd_reply_header("RateLimit-Remaining", String(LIMIT - count));
  reply(200, "OK", { ok: true, remaining: LIMIT - count });
}
