// Deno adapter: Deno.serve per listen socket; everything else is the core's.
// Deno.serve has no configurable head-size limit, header timeout, idle timeout or
// connection cap (denoland/deno#3515). The core enforces max_header_size, max_body_size,
// body_timeout, route_timeout and max_connections (as requests in flight) on the
// Fetch Request; header_timeout and idle_timeout need the socket, which Deno.serve
// does not give, so start-up says they are not enforced here. A TLS socket serves
// HTTP/2 and HTTP/1.1 as ALPN decides (Deno.serve always offers h2 there, and
// takes h2 with prior knowledge on a plain socket too).
import { webDefaults, type FetchHandler, type Listening, type RuntimeLimits, type ServerAdapter, type TlsFiles } from "../src/adapter.ts";
import type { ContextStore } from "../src/ksr-global.ts";
import { escapeLogLine } from "../src/log.ts";
import type { ListenSocket, Params } from "../src/params.ts";
import { DROPPED } from "../src/pipeline/responses.ts";
import { denoRequests } from "../src/runtime-requests.ts";
import { main, type Platform } from "../src/server.ts";
import { StartupError } from "../src/errors.ts";
import { onGlobalErrorEvents } from "../src/stray-errors.ts";
import { WORKER_INDEX_ENV } from "../src/supervisor.ts";

// Deno's node: modules cost memory to load (node:fs alone ≈ 12 MiB of RSS,
// node:async_hooks ≈ 4.6 MiB, node:process, child_process and net ≈ 6 MiB): each
// is loaded when needed, the async context store for a route that awaits,
// ./tls.ts for a TLS socket, ./workers.ts for workers > 1.
let workers: typeof import("./workers.ts") | undefined;
const loadWorkers = async () => (workers ??= await import("./workers.ts"));

/** this process is a worker of a supervisor */
const IS_WORKER = Deno.env.get(WORKER_INDEX_ENV) !== undefined;

/** A worker whose supervisor is gone (killed with SIGKILL) stops as on SIGTERM:
 * the end of its stdin, a pipe from the supervisor, tells. */
function onSupervisorGone(stop: () => void): void {
  (async () => {
    try {
      for await (const _ of Deno.stdin.readable) {
        // nothing is sent on it: only its end matters
      }
    } catch {
      // a broken pipe ends it too
    }
    stop();
  })();
}

type Info = Deno.ServeHandlerInfo<Deno.NetAddr> & { localAddr?: Deno.NetAddr; tls?: boolean };

/** Deno.serve refuses a request head over 64 KiB by itself, with 400 Bad Request
 * (measured on Deno 2.9: 65 540 bytes with the blank line pass, one more does not;
 * test/hardening.test.ts keeps it so). Under it the core measures every head for
 * max_header_size, which is a quarter of a hello request's cost here: a
 * max_header_size of 64k or more leaves the limit to Deno and spares that. */
const DENO_HEAD_LIMIT = 64 * 1024;

const encoder = new TextEncoder();
/** Write a line; a broken pipe (the reader is gone) loses the line, not the request
 * that logged it: writeSync would throw into whatever was logging. */
const writeLine = (out: { writeSync(b: Uint8Array): number }, line: string) => {
  try {
    out.writeSync(encoder.encode(line + "\n"));
  } catch {
    // nobody is reading
  }
};
const stderr = (line: string) => writeLine(Deno.stderr, line);
let warned = false;

/** Deno.serve, as the core asks of a runtime (src/adapter.ts). Deno's handler
 * gets the connection info (the peer) as its second argument: that is env. */
export class DenoAdapter implements ServerAdapter {
  readonly name = "deno";
  readonly limits: RuntimeLimits = { connections: false, head: DENO_HEAD_LIMIT, bodyStall: false, timersPerRequest: false };
  #store: Promise<ContextStore> | undefined;

  // Deno.serve offers h2 by ALPN on every TLS socket and has no option to leave
  // it out (Deno.listenTls's alpnProtocols is not Deno.serve's): an operator who
  // turned HTTP/2 off is told so at start-up rather than served h2 anyway
  cannotHonour(params: Params, tls: boolean): string | undefined {
    if (!tls || params.http2) return undefined;
    return "http2 0 cannot be honoured on Deno: Deno.serve offers HTTP/2 (h2) by ALPN on every TLS socket and has no option to turn it off; leave http2 at 1 here, or run under node or bun to serve HTTP/1.1 only";
  }

  // src/runtime-requests.ts reads the info, for mhttpd/hono too
  peer = denoRequests.peer;
  local = denoRequests.local;
  httpVersion = denoRequests.httpVersion;
  drop = denoRequests.drop;
  readBody = webDefaults.readBody;
  respond = denoRequests.respond;

  // node:async_hooks costs ≈ 4.6 MiB of RSS to load here: only for a route that awaits
  asyncContext(): Promise<ContextStore> {
    return (this.#store ??= import("node:async_hooks").then((m) => new m.AsyncLocalStorage()));
  }

  listen(socket: ListenSocket, fetch: FetchHandler, params: Params, tls?: TlsFiles): Promise<Listening> {
    let localAddr: Deno.NetAddr | undefined;
    const server = Deno.serve(
      {
        hostname: socket.hostname,
        port: socket.port,
        reusePort: IS_WORKER, // workers > 1: each worker binds the same port (Linux only)
        ...(tls && { cert: tls.cert, key: tls.key }),
        onListen() {},
        // a dropped request's body fails on purpose; anything else is a real error
        onError(error) {
          if (error !== DROPPED) stderr(escapeLogLine(`mhttpd: ERROR: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
          return new Response(null, { status: 500 });
        },
      },
      // the local socket a request came in on: Deno's info has the peer only
      tls
        ? (request, info) => {
            (info as Info).localAddr = localAddr;
            (info as Info).tls = true;
            return fetch(request, info);
          }
        : (request, info) => {
            (info as Info).localAddr = localAddr;
            return fetch(request, info);
          },
    );
    localAddr = server.addr;
    warnOnce(params);
    return Promise.resolve({
      port: server.addr.port,
      // no new connections; requests in flight finish, idle connections close
      close: () => server.shutdown(),
      destroy: () => void server.shutdown(),
    });
  }
}

/** What Deno.serve cannot do, said once at start-up. */
function warnOnce(params: Params): void {
  if (warned) return;
  warned = true;
  if (params.max_header_size > DENO_HEAD_LIMIT) {
    stderr(`mhttpd: WARNING: max_header_size ${params.max_header_size} is over Deno's own head limit ${DENO_HEAD_LIMIT}: Deno answers 400 to a larger head before mhttpd sees it`);
  }
  stderr(
    "mhttpd: WARNING: header_timeout and idle_timeout are not enforced on Deno (Deno.serve has no header or keep-alive timeout, denoland/deno#3515): put a proxy that times out slow clients in front, or run under bun or node",
  );
}

/** Start mhttpd under Deno with this command line: `deno run ... adapters/deno.ts ...`
 * and the mhttpd command (bin/mhttpd.mjs, through dist/deno.mjs) both come here. */
export function startMhttpd(argv: string[] = Deno.args): Promise<void> {
  return main(denoPlatform(argv));
}

/** The process around the adapter: arguments, signals, workers, exit. */
const denoPlatform = (argv: string[]): Platform => ({
  adapter: new DenoAdapter(),
  argv,
  env: Deno.env.toObject(),
  cwd: Deno.cwd(),
  readTls: async (cert, key) => (await import("./tls.ts")).readTls(cert, key),
  sqlite: async () => (await import("./sqlite-deno.ts")).sqliteBinding(),
  // workers > 1: deno run with the permissions granted in full to this process, and
  // --unstable-net: Deno.serve's reusePort is unstable API (Deno 2.x)
  prepareWorkers: async () => void (await loadWorkers()),
  spawnWorker(_index, env, events) {
    if (Deno.permissions.querySync({ name: "run", command: Deno.execPath() }).state !== "granted") {
      throw new StartupError(`workers > 1 on Deno needs --allow-run (or --allow-run=${Deno.execPath()}) to start the worker processes`);
    }
    const names = ["net", "read", "write", "env", "sys", "ffi", "import"] as const;
    const flags = names.filter((name) => Deno.permissions.querySync({ name }).state === "granted").map((name) => `--allow-${name}`);
    return workers!.spawnWorkerProcess(Deno.execPath(), ["run", "--no-prompt", "--unstable-net", ...flags, Deno.mainModule, ...Deno.args], env, events);
  },
  freePort: async (hostname) => (await loadWorkers()).freePort(hostname),
  memory: () => Deno.memoryUsage(),
  // node:process, loaded only for a worker with metrics on: its IPC channel
  supervisorChannel: async () => (await loadWorkers()).processChannel((await import("node:process")).default),
  // Deno ends the process on both unless the event's default is prevented
  onStrayError: (handler) => void onGlobalErrorEvents(handler),
  onSignals(handler) {
    if (IS_WORKER) onSupervisorGone(() => handler("SIGTERM"));
    Deno.addSignalListener("SIGINT", () => handler("SIGINT"));
    Deno.addSignalListener("SIGTERM", () => handler("SIGTERM"));
    // Windows has no SIGHUP, and Deno throws when asked for it there
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGHUP", () => handler("SIGHUP"));
  },
  exit: (code) => Deno.exit(code),
  stdout: (line) => writeLine(Deno.stdout, line),
  stderr,
});

if (import.meta.main) await startMhttpd();
