// ndb_redis's functions, one implementation for the cfg (src/cfg/ndb-redis.ts) and
// for KEMI (kemi.ts), with redis_client.c's return codes: 0 done, -1 failed (an
// error log says why), -2 the server is disabled (allowed_timeouts). The cfg
// wrappers turn them into their own codes as ndb_redis_mod.c does.
import type { Logger } from "../../log.ts";
import { L_NOTICE, L_WARN, quote } from "../../log.ts";
import { redisStateOf, type PipedCommand } from "./replies.ts";
import { REPLY_ERROR, type RedisReply } from "./resp.ts";
import { ndbRedis, refusal, RedisIoError, type RedisServer } from "./servers.ts";

/** Kamailio's MAXIMUM_PIPELINED_COMMANDS */
export const MAX_PIPELINED = 1000;

/** Who is asking: the request (its logger, its abort signal) or the process. */
export interface Caller {
  /** the request, standing for its reply containers; undefined outside a request */
  owner: object | undefined;
  logger: Logger;
  signal?: AbortSignal;
}

/** log lines say the module, as Kamailio's do */
const SCRIPT = "ndb_redis";

function fail(c: Caller, fn: string, msg: string): -1 {
  c.logger.err(`${fn}: ${msg}`, SCRIPT);
  return -1;
}

function serverOf(c: Caller, fn: string, name: string): RedisServer | undefined {
  const srv = ndbRedis.servers.get(name);
  if (!srv) fail(c, fn, `no redis server ${quote(name)} (declared: ${[...ndbRedis.servers.keys()].join(", ") || "none"}: modparam("ndb_redis", "server", "name=...;addr=...;port=..."))`);
  return srv;
}

/** redis_check_server: still disabled? (re-enabled once disable_time passed) */
function disabled(c: Caller, srv: RedisServer): boolean {
  if (srv.disabledUntil === 0) return false;
  if (Date.now() < srv.disabledUntil) return true;
  srv.disabledUntil = 0;
  srv.failures = 0;
  c.logger.log(L_NOTICE, `redis server ${quote(srv.name)} re-enabled`, SCRIPT);
  return false;
}

/** redis_count_err_and_disable */
function countFailure(c: Caller, srv: RedisServer): void {
  const allowed = ndbRedis.params.allowed_timeouts;
  if (allowed < 0) return;
  if (++srv.failures > allowed) {
    srv.disabledUntil = Date.now() + ndbRedis.params.disable_time * 1000;
    c.logger.log(L_WARN, `redis server ${quote(srv.name)} disabled for ${ndbRedis.params.disable_time} seconds after ${srv.failures} failures in a row`, SCRIPT);
  }
}

function why(e: unknown): string {
  if (e instanceof RedisIoError) return e.message;
  if ((e as { name?: string })?.name === "TimeoutError") return "route_timeout passed";
  if ((e as { name?: string })?.name === "AbortError") return "the client went away";
  return String((e as Error)?.message ?? e);
}

async function send(c: Caller, fn: string, srv: RedisServer, commands: PipedCommand[]): Promise<RedisReply[] | undefined> {
  const state = redisStateOf(c.owner);
  for (const p of commands) state.replies.set(p.replyName, null);
  try {
    const replies = await srv.run(
      c.owner,
      state.sessions,
      commands.map((p) => p.words),
      c.signal,
    );
    srv.failures = 0;
    commands.forEach((p, i) => state.replies.set(p.replyName, replies[i]));
    return replies;
  } catch (e) {
    if (e instanceof RedisIoError) countFailure(c, srv);
    fail(c, fn, `redis server ${quote(srv.name)}: ${why(e)}`);
    return undefined;
  }
}

/** redisc_exec: run one command, its reply into the container `replyName`. */
export async function redisExec(c: Caller, fn: string, srvName: string, words: string[], replyName: string): Promise<0 | -1 | -2> {
  if (srvName === "" || replyName === "" || words.length === 0) return fail(c, fn, "invalid parameters: empty server, command or reply name");
  const srv = serverOf(c, fn, srvName);
  if (!srv) return -1;
  const refused = refusal(words);
  if (refused !== undefined) return fail(c, fn, `${words[0].toUpperCase()} is refused: ${refused}`);
  if (redisStateOf(c.owner).pipes.get(srvName)?.length) {
    c.logger.log(L_NOTICE, `${fn}: commands of redis_pipe_cmd are waiting for server ${quote(srvName)}: running redis_execute first`, SCRIPT);
    await redisExecutePipe(c, fn, srvName);
  }
  if (disabled(c, srv)) return -2;
  const replies = await send(c, fn, srv, [{ words, replyName }]);
  if (!replies) return -1;
  if (replies[0].type === REPLY_ERROR) return fail(c, fn, `Redis error: ${replies[0].str}`);
  return 0;
}

/** redisc_append_cmd: queue a command for redis_execute. */
export function redisAppend(c: Caller, fn: string, srvName: string, words: string[], replyName: string): 0 | -1 {
  if (srvName === "" || replyName === "" || words.length === 0) return fail(c, fn, "invalid parameters: empty server, command or reply name");
  if (!serverOf(c, fn, srvName)) return -1;
  const refused = refusal(words);
  if (refused !== undefined) return fail(c, fn, `${words[0].toUpperCase()} is refused: ${refused}`);
  const pipes = redisStateOf(c.owner).pipes;
  const queue = pipes.get(srvName) ?? [];
  if (queue.length >= MAX_PIPELINED) return fail(c, fn, `too many pipelined commands for ${quote(srvName)}: at most ${MAX_PIPELINED}`);
  queue.push({ words, replyName });
  pipes.set(srvName, queue);
  return 0;
}

/** redisc_exec_pipelined: send the queued commands in one write; each reply into
 * its container. A Redis error reply is a reply like another here, as in Kamailio. */
export async function redisExecutePipe(c: Caller, fn: string, srvName: string): Promise<0 | -1 | -2> {
  if (srvName === "") return fail(c, fn, "invalid parameters: empty server name");
  const srv = serverOf(c, fn, srvName);
  if (!srv) return -1;
  const pipes = redisStateOf(c.owner).pipes;
  const queue = pipes.get(srvName) ?? [];
  pipes.delete(srvName);
  if (disabled(c, srv)) return -2;
  if (queue.length === 0) {
    c.logger.log(L_WARN, `${fn}: no pipelined commands for ${quote(srvName)} (redis_pipe_cmd queues them)`, SCRIPT);
    return -1;
  }
  return (await send(c, fn, srv, queue)) ? 0 : -1;
}
