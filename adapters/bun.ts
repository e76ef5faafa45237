// Bun adapter: Bun.serve per listen socket; everything else is the core's.
// Bun enforces the body limit itself (maxRequestBodySize: 413 and close, chunked
// bodies too) and has one inactivity timer per connection (idleTimeout, whole
// seconds up to 255, changed per request with server.timeout): it is set to
// header_timeout for a new connection, to body_timeout while a body is read and
// to idle_timeout otherwise once a request came.
/// <reference types="bun-types" />
import { AsyncLocalStorage } from "node:async_hooks";
import type { Server } from "bun";
import type { FetchHandler, Listening, RuntimeLimits, ServerAdapter, TlsFiles } from "../src/adapter.ts";
import type { RequestContext } from "../src/context.ts";
import type { ListenSocket, Params } from "../src/params.ts";
import type { BodyReader } from "../src/pipeline/body.ts";
import { bunRequests } from "../src/runtime-requests.ts";
import { main, type Platform } from "../src/server.ts";
import { WORKER_INDEX_ENV } from "../src/supervisor.ts";

// ./workers.ts (node:child_process, node:net) and ./tls.ts (node:fs, node:crypto)
// are loaded when used, for workers > 1 and TLS sockets: ≈ 1.4 MiB of RSS otherwise.
let workers: typeof import("./workers.ts") | undefined;
const loadWorkers = async () => (workers ??= await import("./workers.ts"));

/** this process is a worker of a supervisor */
const IS_WORKER = process.env[WORKER_INDEX_ENV] !== undefined;

/** Bun's own head limit, past which it answers 431: 16 KiB unless bun was started
 * with --max-http-header-size=N (BUN_OPTIONS lands in execArgv too; Bun refuses a
 * value that is not a positive integer). Read from the flag rather than from
 * node:http's maxHeaderSize, which loads node:http (≈ 1.4 MiB of RSS) for one
 * number; test/hardening.test.ts checks both agree. */
function bunHeadLimit(execArgv: string[]): number {
  let limit = 16 * 1024;
  execArgv.forEach((arg, i) => {
    if (arg.startsWith("--max-http-header-size=")) limit = Number(arg.slice(arg.indexOf("=") + 1));
    else if (arg === "--max-http-header-size" && i + 1 < execArgv.length) limit = Number(execArgv[i + 1]);
  });
  return limit;
}
const HEAD_LIMIT = bunHeadLimit(process.execArgv);

/** Bun's timers take whole seconds, 1..255 (0 would mean never) */
const bunSeconds = (s: number) => Math.min(255, Math.max(1, Math.ceil(s)));

type BunServer = Server<undefined>;

/** Bun.serve's `http2: true` (experimental in Bun 1.4.5) serves h2, but a request
 * does not say which version it came over ($mhttpd(version) could not be
 * HTTP/2), and a head over Bun's limit ends the whole connection (GOAWAY
 * ENHANCE_YOUR_CALM) instead of answering 431 on its stream: TLS sockets stay
 * HTTP/1.1 on Bun (docs/deploy.md). */
export const BUN_NO_HTTP2 = "HTTP/2 is not served on Bun: HTTP/1.1 only (Bun.serve's http2 is experimental; run under node or deno for h2)";
let warnedHttp2 = false;

/** Bun.serve, as the core asks of a runtime (src/adapter.ts). */
export class BunAdapter implements ServerAdapter {
  readonly name = "bun";
  readonly limits: RuntimeLimits = {
    connections: false,
    // Bun answers 431 past its own head limit (16 KiB unless --max-http-header-size)
    head: HEAD_LIMIT,
    // the connection's inactivity timer sees every body byte (readBody)
    bodyStall: true,
    timersPerRequest: false,
  };
  #idleSeconds = 60;
  #bodySeconds = 30;
  #store: AsyncLocalStorage<RequestContext> | undefined;

  // Bun's fetch gets the server as its second argument: env is the server
  // (src/runtime-requests.ts reads it, for mhttpd/hono too)
  peer = bunRequests.peer;
  local = bunRequests.local;
  httpVersion = bunRequests.httpVersion;
  drop = bunRequests.drop;

  // The body in one native read: Bun's web stream reader costs more than twice
  // the rest of a small POST. The stall timer (body_timeout) is the connection's
  // inactivity timer meanwhile, which sees every byte: when it fires Bun closes the
  // connection and the read fails, so a stalled body gets no 408 here (Bun checks
  // its timers every 4 s: the close comes 4-8 s after a 1 s body_timeout).
  readBody(request: Request, env: unknown, reader: BodyReader): void {
    const server = env as BunServer;
    server.timeout(request, this.#bodySeconds);
    request.bytes().then(
      (bytes) => {
        server.timeout(request, this.#idleSeconds);
        reader.push(bytes);
        reader.end();
      },
      (e: unknown) => {
        const why = (e as Error)?.message ?? String(e);
        // a chunked body past max_body_size: Bun answers 413 itself, and says so
        // only in this message; the access log and the metrics say 413 too
        if (/maxRequestBodySize/.test(why)) reader.tooLarge();
        else reader.fail(`the body stopped arriving (body_timeout) or the client went away: ${why}`);
      },
    );
  }

  // Bun labels byte bodies application/octet-stream; a stream goes out as it is,
  // so an empty ctype sends no Content-Type
  respond = bunRequests.respond;

  asyncContext(): AsyncLocalStorage<RequestContext> {
    return (this.#store ??= new AsyncLocalStorage());
  }

  async listen(socket: ListenSocket, fetch: FetchHandler, params: Params, tls?: TlsFiles): Promise<Listening> {
    this.#idleSeconds = bunSeconds(params.idle_timeout);
    this.#bodySeconds = bunSeconds(params.body_timeout);
    // Bun's own head limit (16 KiB unless `bun --max-http-header-size=N`) caps ours
    if (params.max_header_size > HEAD_LIMIT) {
      console.error(`mhttpd: WARNING: max_header_size ${params.max_header_size} is over Bun's limit ${HEAD_LIMIT}; start bun with --max-http-header-size=${params.max_header_size}`);
    }
    if (tls && params.http2 && !warnedHttp2) {
      warnedHttp2 = true;
      process.stderr.write(`mhttpd: WARNING: ${BUN_NO_HTTP2}\n`);
    }
    const idle = this.#idleSeconds;
    const server = Bun.serve({
      hostname: socket.hostname,
      port: socket.port,
      reusePort: IS_WORKER, // workers > 1: each worker binds the same port, the kernel spreads connections
      // a request came: from now on the connection's inactivity limit is
      // idle_timeout (one that may have a body gets body_timeout first, in readBody)
      fetch(request, server) {
        const method = request.method;
        if (method === "GET" || method === "HEAD") server.timeout(request, idle);
        return fetch(request, server);
      },
      maxRequestBodySize: params.max_body_size,
      idleTimeout: bunSeconds(Math.min(params.header_timeout, params.idle_timeout)),
      ...(tls && { tls: { cert: tls.cert, key: tls.key } }),
    });
    return {
      port: server.port ?? socket.port,
      // stop accepting; requests in flight finish (their responses say
      // Connection: close); idle keep-alive connections close now
      close: async () => {
        const stopped = server.stop(false);
        server.closeIdleConnections();
        await stopped;
      },
      destroy: () => void server.stop(true),
    };
  }
}

/** Start mhttpd under Bun with this command line: `bun adapters/bun.ts ...` and the
 * mhttpd command (bin/mhttpd.mjs) both come here. */
export function startMhttpd(argv: string[] = process.argv.slice(2)): Promise<void> {
  return main(bunPlatform(argv));
}

/** The process around the adapter: arguments, signals, workers, exit. */
const bunPlatform = (argv: string[]): Platform => ({
  adapter: new BunAdapter(),
  argv,
  env: process.env,
  cwd: process.cwd(),
  readTls: async (cert, key) => (await import("./tls.ts")).readTls(cert, key),
  sqlite: async () => (await import("./sqlite-bun.ts")).sqliteBinding(),
  // workers > 1: the same bun, flags, script and arguments
  prepareWorkers: async () => void (await loadWorkers()),
  spawnWorker: (_index, env, events) => workers!.spawnWorkerProcess(process.execPath, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], env, events),
  freePort: async (hostname) => (await loadWorkers()).freePort(hostname),
  memory: () => process.memoryUsage(),
  supervisorChannel: async () => (await loadWorkers()).processChannel(process),
  // a listener for each replaces Bun's default, which ends the process
  onStrayError(handler) {
    process.on("unhandledRejection", (reason) => handler(reason, "unhandled rejection"));
    process.on("uncaughtException", (error) => handler(error, "uncaught exception"));
  },
  onSignals(handler) {
    if (IS_WORKER) void loadWorkers().then((w) => w.onSupervisorGone(() => handler("SIGTERM")));
    process.on("SIGINT", () => handler("SIGINT"));
    process.on("SIGTERM", () => handler("SIGTERM"));
    process.on("SIGHUP", () => handler("SIGHUP"));
  },
  exit: (code) => process.exit(code),
  // Bun's console, not process.stdout/stderr: Bun makes those node:stream objects
  // on first use, ≈ 3 MiB of RSS for a server that writes a line now and then. The
  // console writes a string as it is (no format directives without arguments),
  // and a reader that is gone loses the line without an error (test/hostile.test.ts)
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
});

if (import.meta.main) await startMhttpd();
