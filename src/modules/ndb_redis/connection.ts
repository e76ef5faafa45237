// One connection to a Redis server over the runtime's node:net (node:tls for
// tls=1): Bun, Deno and Node all have them, reached through
// process.getBuiltinModule on first use so that a route without Redis loads none
// (on Deno the first node: module costs megabytes). Commands from any number of
// requests share the connection: each call writes its commands in one piece and
// takes the next replies in order (RESP answers in the order it was asked).
//
// A command without a reply within cmd_timeout closes the connection, as hiredis's
// timeout leaves Kamailio's context unusable: every command still waiting on it
// fails, and the next command connects again.
import { concatBytes, encodeCommand, ProtocolError, ReplyReader, REPLY_ERROR, type RedisReply } from "./resp.ts";

/** Where the server is: host and port, or a unix socket path. */
export interface Endpoint {
  host: string;
  port: number;
  /** unix socket path (the server's unix=) */
  path?: string;
  tls: boolean;
  /** PEM certificates to trust for tls (ca_path); none: the runtime's own list */
  ca?: string[];
}

/** What is said first on every new connection. */
export interface Handshake {
  pass?: string;
  db: number;
  /** flush_on_reconnect: FLUSHALL on a connection that replaces one */
  flushAll: boolean;
}

/** A connection that failed or closed: the command's outcome is unknown. */
export class RedisIoError extends Error {}

interface Waiting {
  expect: number;
  replies: RedisReply[];
  resolve(replies: RedisReply[]): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** its request gave up (aborted): the replies are read and dropped */
  abandoned: boolean;
}

interface NodeSocket {
  write(data: Uint8Array): boolean;
  destroy(): void;
  setNoDelay(on: boolean): void;
  setKeepAlive(on: boolean, delayMs: number): void;
  on(event: string, fn: (arg: never) => void): void;
  once(event: string, fn: (arg: never) => void): void;
}
type Connect = (options: Record<string, unknown>) => NodeSocket;

function socketModule(name: "net" | "tls"): { connect: Connect } {
  const proc = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  const mod = proc?.getBuiltinModule?.(`node:${name}`) as { connect: Connect } | undefined;
  if (!mod) throw new RedisIoError(`node:${name} is not available on this runtime: ndb_redis needs TCP sockets`);
  return mod;
}

function describeError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err?.message ?? err?.code ?? String(e);
}

export class RedisConnection {
  #socket: NodeSocket;
  #reader = new ReplyReader();
  #waiting: Waiting[] = [];
  /** why it closed; undefined while it is open */
  closed: string | undefined;

  private constructor(socket: NodeSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => this.#data(chunk));
    socket.on("error", (e: unknown) => this.close(describeError(e)));
    socket.on("close", () => this.close("the server closed the connection"));
  }

  /** Connect within connectTimeoutMs and say the handshake (AUTH, PING, SELECT). */
  static async open(at: Endpoint, hello: Handshake, connectTimeoutMs: number, cmdTimeoutMs: number): Promise<RedisConnection> {
    const socket = await connectSocket(at, connectTimeoutMs);
    const conn = new RedisConnection(socket);
    const commands: string[][] = [];
    if (hello.pass !== undefined) commands.push(["AUTH", hello.pass]);
    commands.push(["PING"], ["SELECT", String(hello.db)]);
    if (hello.flushAll) commands.push(["FLUSHALL"]);
    const replies = await conn.request(commands, cmdTimeoutMs);
    for (let i = 0; i < replies.length; i++) {
      if (replies[i].type !== REPLY_ERROR) continue;
      conn.close("handshake refused");
      // the password is never quoted back
      const what = commands[i][0] === "AUTH" ? "AUTH (authentication failed)" : commands[i].join(" ");
      throw new RedisIoError(`${what}: ${replies[i].str}`);
    }
    return conn;
  }

  /** Send the commands in one write; the replies, one per command, in order. */
  request(commands: readonly (readonly string[])[], timeoutMs: number, signal?: AbortSignal): Promise<RedisReply[]> {
    if (this.closed !== undefined) return Promise.reject(new RedisIoError(this.closed));
    return new Promise<RedisReply[]>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      // the listener goes with the command: a route may run many on one signal
      const onAbort = () => {
        if (w.replies.length === w.expect) return;
        w.abandoned = true;
        clearTimeout(w.timer);
        reject(signal!.reason);
      };
      const done = () => signal?.removeEventListener("abort", onAbort);
      const w: Waiting = {
        expect: commands.length,
        replies: [],
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        timer: undefined,
        abandoned: false,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      w.timer = setTimeout(() => this.close(`no reply within cmd_timeout (${timeoutMs} ms)`), timeoutMs);
      this.#waiting.push(w);
      this.#socket.write(concatBytes(commands.map(encodeCommand)));
    });
  }

  close(reason: string): void {
    if (this.closed !== undefined) return;
    this.closed = reason;
    this.#socket.destroy();
    const error = new RedisIoError(reason);
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      if (!w.abandoned) w.reject(error);
    }
  }

  #data(chunk: Uint8Array): void {
    let replies: RedisReply[];
    try {
      replies = this.#reader.feed(chunk);
    } catch (e) {
      return this.close(e instanceof ProtocolError ? `protocol error: ${e.message}` : describeError(e));
    }
    for (const reply of replies) {
      const w = this.#waiting[0];
      if (!w) return this.close("a reply that no command asked for");
      w.replies.push(reply);
      if (w.replies.length < w.expect) continue;
      this.#waiting.shift();
      clearTimeout(w.timer);
      if (!w.abandoned) w.resolve(w.replies);
    }
  }
}

function connectSocket(at: Endpoint, timeoutMs: number): Promise<NodeSocket> {
  return new Promise((resolve, reject) => {
    let socket: NodeSocket;
    const target = at.path !== undefined ? { path: at.path } : { host: at.host, port: at.port };
    try {
      socket = at.tls
        ? socketModule("tls").connect({ ...target, servername: at.path === undefined && !/^[\d.:]+$/.test(at.host) ? at.host : undefined, ca: at.ca })
        : socketModule("net").connect(target);
    } catch (e) {
      return reject(e instanceof RedisIoError ? e : new RedisIoError(describeError(e)));
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RedisIoError(`not connected within connect_timeout (${timeoutMs} ms)`));
    }, timeoutMs);
    socket.once("error", (e: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new RedisIoError(describeError(e)));
    });
    socket.once(at.tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
  });
}
