// The servers of modparam("ndb_redis", "server", "name=...;addr=...;port=...") and
// the module's other parameters, and how a command reaches a server.
//
// Each server has one shared connection per process for ordinary commands, as
// Kamailio has one per process. What changes a connection's state for the
// commands after it cannot share it with other requests here, because requests
// interleave: MULTI and WATCH give the request a connection of its own until EXEC,
// DISCARD or UNWATCH (or until the request is over), and a blocking command
// (BLPOP, XREAD BLOCK, ...) runs on one of its own so that it holds no one else up.
// The state lives on globalThis: on Node the core runs bundled while a route's
// `import { modparam } from "mhttpd"` loads another copy, and both must see the
// same servers.
import { RedisConnection, RedisIoError, type Endpoint } from "./connection.ts";
import type { RedisReply } from "./resp.ts";

export interface NdbRedisParams {
  /** ms */
  connect_timeout: number;
  /** ms */
  cmd_timeout: number;
  /** consecutive failures before a server is disabled; -1: never */
  allowed_timeouts: number;
  /** seconds a disabled server stays disabled */
  disable_time: number;
  flush_on_reconnect: number;
  init_without_redis: number;
  /** trusted CA certificates for tls=1, PEM (read from ca_path) */
  ca: string[] | undefined;
}

interface ModuleState {
  servers: Map<string, RedisServer>;
  params: NdbRedisParams;
}

const KEY = Symbol.for("mhttpd.ndb_redis");
export const ndbRedis: ModuleState = ((globalThis as { [KEY]?: ModuleState })[KEY] ??= {
  servers: new Map(),
  params: { connect_timeout: 1000, cmd_timeout: 1000, allowed_timeouts: -1, disable_time: 0, flush_on_reconnect: 0, init_without_redis: 0, ca: undefined },
});

/** A refused server spec or parameter (the caller adds where it came from). */
export class NdbRedisConfigError extends Error {}

/** The server's attributes (Kamailio's server parameter). */
export interface ServerSpec {
  name: string;
  endpoint: Endpoint;
  db: number;
  pass?: string;
  /** ms, overriding connect_timeout / cmd_timeout for this server */
  connectTimeout?: number;
  commandTimeout?: number;
}

const ATTRIBUTES = ["name", "addr", "port", "unix", "db", "pass", "tls", "connect_timeout", "command_timeout"];

function intAttr(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new NdbRedisConfigError(`server attribute ${name}=${JSON.stringify(text)}: expected an integer from ${min} to ${max}`);
  return Number(text);
}

/** "name=srv1;addr=127.0.0.1;port=6379;db=1;pass=...;tls=1" */
export function parseServerSpec(spec: string): ServerSpec {
  const attrs = new Map<string, string>();
  for (const item of spec.replace(/;\s*$/, "").split(";")) {
    const eq = item.indexOf("=");
    const name = (eq < 0 ? item : item.slice(0, eq)).trim();
    const value = eq < 0 ? "" : item.slice(eq + 1).trim();
    if (name.startsWith("sentinel")) throw new NdbRedisConfigError(`server attribute ${name}: Redis Sentinel is not supported here: give the master's addr and port`);
    if (!ATTRIBUTES.includes(name)) throw new NdbRedisConfigError(`unknown server attribute ${JSON.stringify(name)} (known: ${ATTRIBUTES.join(", ")})`);
    if (attrs.has(name)) throw new NdbRedisConfigError(`server attribute ${name} is given twice`);
    attrs.set(name, value);
  }
  const name = attrs.get("name");
  if (!name) throw new NdbRedisConfigError(`a server needs a name (name=...;addr=...;port=...)`);
  const path = attrs.get("unix");
  const host = attrs.get("addr");
  if (!path && !host) throw new NdbRedisConfigError(`server ${name}: give addr (with port) or unix`);
  const tls = attrs.has("tls") ? intAttr("tls", attrs.get("tls")!, 0, 1) === 1 : false;
  const ms = (a: string) => (attrs.has(a) ? intAttr(a, attrs.get(a)!, 1, 3_600_000) : undefined);
  return {
    name,
    // Kamailio: with both, the unix socket is used
    endpoint: { host: host ?? "", port: attrs.has("port") ? intAttr("port", attrs.get("port")!, 1, 65535) : 6379, path: path || undefined, tls },
    db: attrs.has("db") ? intAttr("db", attrs.get("db")!, 0, 1_000_000) : 0,
    pass: attrs.get("pass"),
    connectTimeout: ms("connect_timeout"),
    commandTimeout: ms("command_timeout"),
  };
}

/** A request's own connection for a transaction. */
interface Session {
  owner: object | undefined;
  conn: RedisConnection;
  multi: boolean;
  watching: boolean;
}

/** Commands that would change the shared connection for every request after them. */
export const REFUSED_COMMANDS: Record<string, string> = {
  SELECT: "it would switch the database of the connection every request shares: give db= in the server's spec",
  AUTH: "give pass= in the server's spec",
  HELLO: "the protocol stays RESP2",
  RESET: "it would reset the connection every request shares",
  QUIT: "it would close the connection every request shares",
  SUBSCRIBE: "a subscribed connection answers no more commands",
  PSUBSCRIBE: "a subscribed connection answers no more commands",
  SSUBSCRIBE: "a subscribed connection answers no more commands",
  UNSUBSCRIBE: "no connection here is subscribed",
  PUNSUBSCRIBE: "no connection here is subscribed",
  SUNSUBSCRIBE: "no connection here is subscribed",
  MONITOR: "a monitoring connection answers no more commands",
  SYNC: "replication is not a command's business",
  PSYNC: "replication is not a command's business",
  CLIENT: "", // only CLIENT REPLY is refused, below
};

/** Why the command cannot run here, or undefined. */
export function refusal(words: readonly string[]): string | undefined {
  const name = words[0].toUpperCase();
  if (name === "CLIENT") return words[1]?.toUpperCase() === "REPLY" ? "CLIENT REPLY would make the replies of every request on the connection go astray" : undefined;
  return Object.hasOwn(REFUSED_COMMANDS, name) ? REFUSED_COMMANDS[name] : undefined;
}

const BLOCKING = new Set(["BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF"]);
const blocks = (w: readonly string[]) => {
  const n = w[0].toUpperCase();
  return BLOCKING.has(n) || ((n === "XREAD" || n === "XREADGROUP") && w.some((a) => a.toUpperCase() === "BLOCK"));
};
const TX = new Set(["MULTI", "WATCH", "EXEC", "DISCARD", "UNWATCH"]);

/** An owner whose request is over: its transaction connections can go. */
const isOver = (owner: object | undefined) => (owner as { settled?: boolean } | undefined)?.settled === true;

/** Idle connections of their own kept for the next transaction */
const IDLE_KEPT = 4;

export class RedisServer {
  #shared: RedisConnection | undefined;
  #connecting: Promise<RedisConnection> | undefined;
  #idle: RedisConnection[] = [];
  #sessions = new Set<Session>();
  #connectedBefore = false;
  /** allowed_timeouts: consecutive failures, and until when the server is disabled (ms) */
  failures = 0;
  disabledUntil = 0;

  constructor(readonly spec: ServerSpec) {}

  get name(): string {
    return this.spec.name;
  }

  #timeouts() {
    const p = ndbRedis.params;
    return { connect: this.spec.connectTimeout ?? p.connect_timeout, command: this.spec.commandTimeout ?? p.cmd_timeout };
  }

  #open(replacing: boolean): Promise<RedisConnection> {
    const t = this.#timeouts();
    const endpoint = { ...this.spec.endpoint, ca: ndbRedis.params.ca };
    return RedisConnection.open(endpoint, { pass: this.spec.pass, db: this.spec.db, flushAll: replacing && ndbRedis.params.flush_on_reconnect !== 0 }, t.connect, t.command);
  }

  #sharedConnection(): Promise<RedisConnection> {
    if (this.#shared && this.#shared.closed === undefined) return Promise.resolve(this.#shared);
    return (this.#connecting ??= this.#open(this.#connectedBefore).then(
      (conn) => {
        this.#shared = conn;
        this.#connectedBefore = true;
        this.#connecting = undefined;
        return conn;
      },
      (e: unknown) => {
        this.#connecting = undefined;
        throw e;
      },
    ));
  }

  #ownConnection(): Promise<RedisConnection> {
    let conn: RedisConnection | undefined;
    while ((conn = this.#idle.pop())) if (conn.closed === undefined) return Promise.resolve(conn);
    return this.#open(false);
  }

  /** Run the commands (one write) for `owner`'s request; the replies in order.
   * Throws RedisIoError when the connection fails or no reply comes in time. */
  async run(owner: object | undefined, sessions: Map<string, unknown>, commands: readonly (readonly string[])[], signal?: AbortSignal): Promise<RedisReply[]> {
    for (const s of this.#sessions) {
      if (isOver(s.owner)) {
        s.conn.close("its request ended inside a transaction");
        this.#sessions.delete(s);
      }
    }
    let session = sessions.get(this.name) as Session | undefined;
    const own = session !== undefined || commands.some((w) => TX.has(w[0].toUpperCase()) || blocks(w));
    if (!own) return (await this.#sharedConnection()).request(commands, this.#timeouts().command, signal);
    const conn = session ? session.conn : await this.#ownConnection();
    session ??= { owner, conn, multi: false, watching: false };
    try {
      const replies = await conn.request(commands, this.#timeouts().command, signal);
      for (const w of commands) track(session, w[0].toUpperCase());
      return replies;
    } finally {
      this.#settle(session, sessions);
    }
  }

  /** After a command on a connection of the request's own: kept while a
   * transaction is open, else back to the idle ones. */
  #settle(session: Session, sessions: Map<string, unknown>): void {
    const open = session.conn.closed === undefined && (session.multi || session.watching);
    if (open) {
      sessions.set(this.name, session);
      this.#sessions.add(session);
      return;
    }
    sessions.delete(this.name);
    this.#sessions.delete(session);
    if (session.conn.closed !== undefined) return;
    if (this.#idle.length < IDLE_KEPT) this.#idle.push(session.conn);
    else session.conn.close("not needed");
  }

  /** Connect the shared connection now (start-up check). */
  async connect(): Promise<void> {
    await this.#sharedConnection();
  }

  close(): void {
    this.#shared?.close("closed");
    for (const c of this.#idle.splice(0)) c.close("closed");
    for (const s of this.#sessions) s.conn.close("closed");
    this.#sessions.clear();
  }
}

function track(s: Session, name: string): void {
  if (name === "MULTI") s.multi = true;
  else if (name === "EXEC" || name === "DISCARD") s.multi = s.watching = false;
  else if (name === "WATCH") s.watching = true;
  else if (name === "UNWATCH" && !s.multi) s.watching = false;
}

export { RedisIoError };
