// KSR.ndb_redis: what Kamailio's KEMI exports of ndb_redis (sr_kemi_ndb_redis_exports),
// with its return codes: redis_cmd* give redisc_exec's own code, 0 when done (not
// 1: KEMI exports the C function directly), -1 on failure, -2 while the server is
// disabled; redis_free gives 1 or -1. The reply is read with
// KSR.pv.get("$redis(r=>value)"). The commands are asynchronous here: await them.
import type { KsrNdbRedisApi } from "../../ksr-api.ts";
import type { Logger } from "../../log.ts";
import { OnDemand } from "../../on-demand.ts";
import { CommandFormatError, kemiWords } from "./command.ts";
import type { Caller } from "./engine.ts";
import { redisFreeReply } from "./replies.ts";

/** the engine, loaded by a route's first command: a route without one never loads it */
const engine = new OnDemand("ndb_redis's engine", () => import("./engine.ts"));

interface RequestLike {
  logger: Logger;
  readonly signal: AbortSignal;
}

export class KsrNdbRedis implements KsrNdbRedisApi {
  constructor(
    private readonly ctx: RequestLike | undefined,
    private readonly logger: Logger,
  ) {}

  #caller(): Caller {
    return { owner: this.ctx, logger: this.logger, signal: this.ctx?.signal };
  }

  #exec(fn: string, srv: unknown, cmd: unknown, params: unknown[], res: unknown): Promise<number> {
    const c = this.#caller();
    let words: string[];
    try {
      // KEMI's string parameters: anything given is taken as its string
      words = kemiWords(String(cmd), params.map(String));
    } catch (e) {
      if (!(e instanceof CommandFormatError)) throw e;
      c.logger.err(`${fn}: ${e.message}`, "ndb_redis");
      return Promise.resolve(-1);
    }
    const run = (e: typeof import("./engine.ts")) => e.redisExec(c, fn, String(srv), words, String(res));
    return engine.loaded ? run(engine.loaded) : engine.load().then(run);
  }

  /** redis_cmd(srv, command, replyid): 0 done, -1 failed, -2 server disabled */
  redis_cmd(srv: string, cmd: string, res: string): Promise<number> {
    return this.#exec("redis_cmd", srv, cmd, [], res);
  }
  /** redis_cmd_p1(srv, command with one %s, p1, replyid) */
  redis_cmd_p1(srv: string, cmd: string, p1: string, res: string): Promise<number> {
    return this.#exec("redis_cmd_p1", srv, cmd, [p1], res);
  }
  /** redis_cmd_p2(srv, command with two %s, p1, p2, replyid) */
  redis_cmd_p2(srv: string, cmd: string, p1: string, p2: string, res: string): Promise<number> {
    return this.#exec("redis_cmd_p2", srv, cmd, [p1, p2], res);
  }
  /** redis_cmd_p3(srv, command with three %s, p1, p2, p3, replyid) */
  redis_cmd_p3(srv: string, cmd: string, p1: string, p2: string, p3: string, res: string): Promise<number> {
    return this.#exec("redis_cmd_p3", srv, cmd, [p1, p2, p3], res);
  }
  /** redis_free(replyid): 1, or -1 when no command filled that container */
  redis_free(res: string): number {
    return redisFreeReply(this.#caller(), "redis_free", String(res)) === 0 ? 1 : -1;
  }
}
