// The reply containers of redis_cmd and their variables, $redis(name=>key) and
// $redisd(rpl_xxx), as Kamailio's ndb_redis_mod.c reads them.
//
// Kamailio keeps the containers per process and runs one message at a time in
// it; here requests interleave at every await, so each request has its own
// containers (and its own pipeline of redis_pipe_cmd commands): one request never
// reads another's reply. They last as long as the request; code that runs outside
// a request (a KEMI script's top level, a timer) has one set for the process.
import type { PvValue } from "../../ksr-api.ts";
import { quote, type Logger } from "../../log.ts";
import { REPLY_ARRAY, REPLY_ERROR, REPLY_INTEGER, REPLY_NIL, REPLY_STATUS, REPLY_STRING, type RedisReply } from "./resp.ts";

/** A command that redis_pipe_cmd queued, with the container its reply goes to. */
export interface PipedCommand {
  words: string[];
  replyName: string;
}

/** What one request (or the process, outside requests) holds of ndb_redis. */
export interface RedisRequestState {
  /** container name -> its reply; null once freed or after a failed command */
  replies: Map<string, RedisReply | null>;
  /** server name -> the commands redis_pipe_cmd queued for redis_execute */
  pipes: Map<string, PipedCommand[]>;
  /** server name -> the connection this request holds for a transaction (MULTI, WATCH) */
  sessions: Map<string, unknown>;
}

const perRequest = new WeakMap<object, RedisRequestState>();
const outsideRequests: RedisRequestState = { replies: new Map(), pipes: new Map(), sessions: new Map() };

/** The state of a request (any object standing for it), or of the process when there is none. */
export function redisStateOf(owner: object | undefined): RedisRequestState {
  if (owner === undefined) return outsideRequests;
  let s = perRequest.get(owner);
  if (!s) perRequest.set(owner, (s = { replies: new Map(), pipes: new Map(), sessions: new Map() }));
  return s;
}

/** redisc_free_reply: 0, or -1 for a container no command has filled. Here, beside
 * the containers, and not in engine.ts: KSR.ndb_redis.redis_free is synchronous,
 * and a route loads the engine only with its first command. */
export function redisFreeReply(c: { owner: object | undefined; logger: Logger }, fn: string, replyName: string): 0 | -1 {
  if (replyName === "") {
    c.logger.err(`${fn}: invalid parameters: empty reply name`, "ndb_redis");
    return -1;
  }
  const replies = redisStateOf(c.owner).replies;
  if (!replies.has(replyName)) {
    c.logger.dbg(`${fn}: reply entry not found: ${quote(replyName)}`, "ndb_redis");
    return -1;
  }
  replies.set(replyName, null);
  return 0;
}

export class RedisPvError extends Error {}

/** $redisd(name): the reply type numbers to compare $redis(r=>type) with. */
export const REDISD: Record<string, number> = {
  rpl_str: REPLY_STRING,
  rpl_arr: REPLY_ARRAY,
  rpl_int: REPLY_INTEGER,
  rpl_nil: REPLY_NIL,
  rpl_sts: REPLY_STATUS,
  rpl_err: REPLY_ERROR,
};

/** Kamailio's MAXIMUM_NESTED_KEYS */
const MAX_KEYS = 10;

type Index<C> = (ctx: C) => number | null;
type KeyKind = "type" | "value" | "info" | "size";
interface Key<C> {
  kind: KeyKind;
  /** [n]: a number or a variable; absent is Kamailio's -1 */
  index?: Index<C>;
}

/** `resolve` turns "$var(i)" inside [ ] into a getter (the caller's variables). */
export function parseRedisPv<C>(inner: string, resolve: (spec: string) => (ctx: C) => PvValue): (ctx: C, owner: object | undefined) => PvValue {
  const text = inner.trim();
  const m = /^([^\s=]+)\s*=>/.exec(text);
  if (!m) throw new RedisPvError(`$redis(${inner}): expected "name=>key" (type, value, info, size, value[n], type[n], value[n]=>...)`);
  const name = m[1];
  const keys: Key<C>[] = [];
  let rest = text.slice(m[0].length);
  for (;;) {
    const k = /^\s*(type|value|info|size)(?![\w$])\s*(?:\[\s*([^\]\s]+)\s*\])?/.exec(rest);
    if (!k) throw new RedisPvError(`$redis(${inner}): unknown key ${JSON.stringify(rest.trim())} (type, value, info, size, value[n], type[n])`);
    const kind = k[1] as KeyKind;
    if (k[2] !== undefined && (kind === "info" || kind === "size")) throw new RedisPvError(`$redis(${inner}): ${kind} takes no [index]`);
    keys.push({ kind, index: k[2] === undefined ? undefined : indexOf(k[2], inner, resolve) });
    if (keys.length > MAX_KEYS) throw new RedisPvError(`$redis(${inner}): more than ${MAX_KEYS} nested keys`);
    rest = rest.slice(k[0].length);
    if (rest.trim() === "") break;
    const next = /^\s*=>/.exec(rest);
    if (!next || kind !== "value" || k[2] === undefined) {
      throw new RedisPvError(`$redis(${inner}): only value[n] leads into a nested array ("value[n]=>key"), found ${JSON.stringify(rest.trim())}`);
    }
    rest = rest.slice(next[0].length);
  }
  return (ctx, owner) => readReply(redisStateOf(owner).replies.get(name) ?? null, keys, ctx);
}

function indexOf<C>(token: string, inner: string, resolve: (spec: string) => (ctx: C) => PvValue): Index<C> {
  if (token.startsWith("$")) {
    const get = resolve(token);
    return (ctx) => {
      const v = get(ctx);
      const n = typeof v === "number" ? v : typeof v === "string" && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : NaN;
      return Number.isInteger(n) ? n : null;
    };
  }
  if (!/^[+-]?\d+$/.test(token)) throw new RedisPvError(`$redis(${inner}): bad index ${JSON.stringify(token)}: a number or a variable`);
  const n = Number(token);
  return () => n;
}

const element = (r: RedisReply, pos: number): RedisReply | null =>
  r.type === REPLY_ARRAY && pos >= 0 && pos < r.elements!.length ? r.elements![pos] : null;

/** pv_get_redisc: the keys before the last walk into nested arrays. */
function readReply<C>(reply: RedisReply | null, keys: readonly Key<C>[], ctx: C): PvValue {
  if (reply === null) return null;
  let r: RedisReply | null = reply;
  for (let i = 0; i < keys.length - 1; i++) {
    const pos = keys[i].index!(ctx);
    r = pos === null ? null : element(r, pos);
    if (r === null) return null;
  }
  const last = keys[keys.length - 1];
  const pos = last.index ? last.index(ctx) : -1;
  if (pos === null) return null;
  switch (last.kind) {
    case "value": {
      if (r.type === REPLY_ARRAY) {
        const e = element(r, pos);
        return e ? scalar(e) : null;
      }
      return pos === -1 ? scalar(r) : null;
    }
    case "info":
      return r.str ?? null;
    case "size":
      return r.type === REPLY_ARRAY ? r.elements!.length : null;
    case "type": {
      if (pos === -1) return r.type;
      const e = element(r, pos);
      return e ? e.type : null;
    }
  }
}

/** A value as $redis gives it: strings and integers; the other types are null
 * (a status or an error is read with info). */
function scalar(r: RedisReply): PvValue {
  if (r.type === REPLY_STRING) return r.str!;
  if (r.type === REPLY_INTEGER) return r.integer!;
  return null;
}
