// Node adapter: one node:http server (@hono/node-server) per listen socket, with
// mhttpd's limits set on node:http's own knobs (maxHeaderSize, headersTimeout,
// keepAliveTimeout, maxConnections); everything else is the core's. A TLS socket
// with http2 on is a node:http2 server that serves HTTP/1.1 too (./node-http2.ts
// says how the limits map there). Node runs it built as JavaScript (dist/node.mjs,
// scripts/build-node.mjs).
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import { AsyncLocalStorage } from "node:async_hooks";
import cluster from "node:cluster";
import { realpathSync } from "node:fs";
import os from "node:os";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { eachLine, freePort, processChannel } from "./workers.ts";
import { webDefaults, type FetchHandler, type Listening, type RequestAdapter, type RuntimeEvents, type RuntimeLimits, type ServerAdapter, type TlsFiles } from "../src/adapter.ts";
import type { RequestContext } from "../src/context.ts";
import type { ListenSocket, Params } from "../src/params.ts";
import type { BodyReader } from "../src/pipeline/body.ts";
import { replyHeaderRecord, type OutgoingReply } from "../src/reply.ts";
import { nodeRequests } from "../src/runtime-requests.ts";
import { isValidHost } from "../src/target.ts";
import { main, type Platform } from "../src/server.ts";
import { isBrokenOutput } from "../src/stray-errors.ts";
import { readTls } from "./tls.ts";
import * as h2 from "./node-http2.ts";

/** @hono/node-server gives the handler node:http's request and response as env
 * (node:http2's compatibility ones for an HTTP/2 request, which share their API) */
const bindings = (env: unknown) => env as HttpBindings;
/** the request came over HTTP/2: its env holds node:http2's request and response */
const isHttp2 = (env: unknown): boolean => bindings(env).incoming.httpVersionMajor === 2;
const http2Bindings = (env: unknown) => env as Http2Bindings;

/** Tells @hono/node-server that the response is already written: it reads only
 * this header, so one object serves every request. */
const SENT = new Response(null, { headers: { "x-hono-already-sent": "1" } });


/** node:http through @hono/node-server, as the core asks of a runtime (src/adapter.ts). */
export class NodeAdapter implements ServerAdapter {
  readonly name = "node";
  readonly limits: RuntimeLimits = {
    // node:net's server.maxConnections, set in listen()
    connections: true,
    // node:http's maxHeaderSize, set in listen()
    head: "max_header_size",
    bodyStall: false,
    timersPerRequest: false,
  };
  readonly #store = new AsyncLocalStorage<RequestContext>();

  // src/runtime-requests.ts reads @hono/node-server's bindings, for mhttpd/hono too
  peer = nodeRequests.peer;
  local = nodeRequests.local;
  httpVersion = nodeRequests.httpVersion;
  drop = nodeRequests.drop;

  // The body from the IncomingMessage: building the Fetch Request's web stream
  // costs more than the rest of the request together.
  readBody(_request: Request, env: unknown, reader: BodyReader): void {
    const incoming = bindings(env).incoming;
    if (isHttp2(env)) {
      // HTTP/2 frames a body without either header: none when the HEADERS frame
      // ended the stream (RFC 9113 §8.1)
      if (http2Bindings(env).incoming.stream.endAfterHeaders) return reader.end();
    } else if (incoming.headers["content-length"] === undefined && incoming.headers["transfer-encoding"] === undefined) {
      // no Content-Length and no Transfer-Encoding: no body (RFC 9112 §6.3)
      return reader.end();
    }
    const onData = (chunk: Buffer) => reader.push(chunk);
    const onEnd = () => reader.end();
    const onGone = () => reader.fail("the client went away");
    const onClose = () => incoming.readableEnded || onGone();
    incoming.on("data", onData).on("end", onEnd).on("error", onGone).on("aborted", onGone).on("close", onClose);
    const off = () => void incoming.off("data", onData).off("end", onEnd).off("error", onGone).off("aborted", onGone).off("close", onClose);
    void reader.result.then(off);
    // past the limit or stalled: stop reading what the client still sends
    reader.onStop(() => incoming.pause());
  }

  // Replies are written here, not through a Fetch Response: @hono/node-server
  // without its global Response patch reads every body as a stream (a timer per
  // response) and labels untyped bodies text/plain.
  respond(_request: Request, env: unknown, outgoing: OutgoingReply): Response {
    const { status, ctype, body: given } = outgoing.reply;
    const body = given instanceof ArrayBuffer ? new Uint8Array(given) : given;
    const out = bindings(env).outgoing;
    const length = body === null ? undefined : String(typeof body === "string" ? Buffer.byteLength(body) : body.length);
    const http2 = isHttp2(env);
    // the common reply (a typed body, no added header) as an object of one shape:
    // replyHeaderRecord's prototype-less record is a dictionary to V8, which
    // node:http walks slower (docs/benchmarks.md, "Node: the reply's headers")
    let headers: Record<string, string | string[]>;
    if (length !== undefined && ctype !== "" && !outgoing.headers && !outgoing.close && !http2) headers = { "content-type": ctype, "content-length": length };
    else {
      headers = replyHeaderRecord(outgoing);
      if (length !== undefined) headers["content-length"] = length;
    }
    // the drain's Connection: close is GOAWAY on HTTP/2
    if (http2) h2.withoutConnectionHeaders(headers);
    try {
      out.writeHead(status, headers);
    } catch (e) {
      if (http2) throw e; // HTTP/2 has no status phrase
      // writeHead took the status's phrase before refusing a header value: the 500
      // the core sends instead would go out as "500 OK"
      out.statusMessage = "";
      throw e;
    }
    // node:http writes a head and a string body together in the body's encoding,
    // UTF-8: obs-text (U+0080-U+00FF) in a header must go out as its one byte, as
    // Bun and Deno send it, so such a body goes as bytes and the head as latin1
    out.end(typeof body === "string" && outgoing.obsText ? Buffer.from(body) : (body ?? undefined));
    return SENT;
  }

  asyncContext(): AsyncLocalStorage<RequestContext> {
    return this.#store;
  }

  // Under a route module's middleware the reply must be a Response they can still
  // change (CORS headers after next()), and the body is the Request's they pass on
  forMiddleware(): RequestAdapter {
    return { ...nodeRequests, name: this.name, limits: this.limits, readBody: webDefaults.readBody, asyncContext: () => this.#store };
  }

  listen(socket: ListenSocket, fetch: FetchHandler, params: Params, tls?: TlsFiles, events?: RuntimeEvents): Promise<Listening> {
    return listen(socket, fetch, params, tls, events);
  }
}

/** started from the sources (`node --import tsx adapters/node.ts`): TypeScript is on */
const tsxLoaded = process.execArgv.some((arg) => /(^|[/=])tsx\b/.test(arg));

/** A user module (route, KEMI script) as Node imports it: JavaScript as it is;
 * TypeScript, or JavaScript that imports TypeScript, compiled by esbuild first
 * (./node-typescript.ts, loaded on that need). */
async function importUserModule(url: string): Promise<unknown> {
  if (tsxLoaded || !url.startsWith("file:")) return import(url);
  if (!/\.[mc]?tsx?$/i.test(new URL(url).pathname)) {
    try {
      return await import(url);
    } catch (e) {
      // a static import of TypeScript fails before the module runs: compile it all
      if ((e as { code?: string })?.code !== "ERR_UNKNOWN_FILE_EXTENSION") throw e;
    }
  }
  return (await import("./node-typescript.ts")).importCompiled(url);
}

const REFUSED = Symbol("mhttpd.refused");
const STATUS: Record<string, [number, string, "max_header_size" | "header_timeout"]> = {
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large", "max_header_size"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "header_timeout"],
  HPE_HEADERS_TIMEOUT: [408, "Request Timeout", "header_timeout"],
};

/** What node:http does on a bad or slow head (400/408/431, then destroy), but
 * with a lingering close: the response is sent, our side is shut, and what the
 * client still sends is read and dropped for a moment. Destroying at once with
 * unread bytes makes the kernel send a reset, and the client can lose the
 * response it was about to read. */
function lingeringRefusal(err: NodeJS.ErrnoException, socket: Duplex & { [REFUSED]?: boolean }, events: RuntimeEvents | undefined) {
  if (socket[REFUSED]) return; // the parser reports each later chunk too
  socket[REFUSED] = true;
  if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
  const [status, reason, check] = STATUS[err.code ?? ""] ?? [400, "Bad Request"];
  if (check) events?.refused(check);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.on("error", () => {});
  socket.resume();
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** The target with each "\\" of its path (not of its query) written "/". */
function slashesInPath(target: string): string {
  const q = target.indexOf("?");
  return q < 0 ? target.replaceAll("\\", "/") : target.slice(0, q).replaceAll("\\", "/") + target.slice(q);
}

const versionNotSupported = () =>
  new Response("HTTP Version Not Supported\n", { status: 505, headers: { "content-type": "text/plain; charset=utf-8", connection: "close" } });

const servesHttp2 = (params: Params, tls: TlsFiles | undefined) => tls !== undefined && params.http2;

/** The server of one socket: node:http, node:https, or node:http2 serving
 * HTTP/1.1 too (a TLS socket with http2 on). */
function createServer(fetch: FetchHandler, params: Params, tls: TlsFiles | undefined): Server | Http2SecureServer {
  const ms = (s: number) => Math.max(1, Math.round(s * 1000));
  const common = {
    // llhttp takes "GET /" (HTTP/0.9) and "HTTP/2.0" as requests it can answer in
    // HTTP/1.1; libmicrohttpd, Bun and Deno refuse them: so does this
    fetch: (request: Request, env: unknown) => (bindings(env).incoming.httpVersionMajor === 1 ? fetch(request, env) : versionNotSupported()),
    // no global Request/Response patching: it breaks instanceof for other libraries
    overrideGlobalObjects: false,
    // the authority of request.url when Host is missing (HTTP/1.0, which must be
    // answered): the core reads only the path and query from it
    hostname: "localhost",
  };
  if (tls && servesHttp2(params, tls)) {
    const limit = h2.headLimit(params);
    const server = createAdaptorServer({
      ...common,
      fetch: (request, env) => {
        if (!isHttp2(env)) return common.fetch(request, env);
        const refused = h2.headRefusal(http2Bindings(env).incoming, limit);
        if (refused) return refused;
        const res = fetch(request, env);
        return res instanceof Promise ? res.then(h2.http2Response) : h2.http2Response(res);
      },
      createServer: h2.createSecureServer,
      serverOptions: h2.http2ServerOptions(params, tls),
    }) as Http2SecureServer;
    h2.setHttp1Options(server, params);
    return server;
  }
  const server = createAdaptorServer({
    ...common,
    // HTTPS: node:https takes node:http's options too
    ...(tls && { createServer: createHttpsServer }),
    serverOptions: {
      ...(tls && { cert: tls.cert, key: tls.key, handshakeTimeout: ms(params.header_timeout) }),
      // larger head: 431 and close; not set: node:http's own (16 KiB, or --max-http-header-size)
      ...(params.max_header_size > 0 && { maxHeaderSize: params.max_header_size }),
      // a repeated header is seen joined ("a, b"), as the Fetch API shows it on Bun
      // and Deno; node:http would keep the first of some (Host, Authorization, ...),
      // so a doubled Host would pass here and get 400 there (RFC 9112 §3.2)
      joinDuplicateHeaders: true,
      headersTimeout: ms(params.header_timeout), // head not complete in time: 408 and close
      requestTimeout: 0, // the body is timed by the core (body_timeout, on stalls)
      keepAliveTimeout: ms(params.idle_timeout),
      // how often the header timeout is checked: its granularity
      connectionsCheckingInterval: Math.min(1000, Math.max(50, ms(params.header_timeout) / 4)),
    },
  }) as Server;
  server.headersTimeout = ms(params.header_timeout);
  server.requestTimeout = 0;
  server.keepAliveTimeout = ms(params.idle_timeout);
  server.timeout = 0;
  return server;
}

function listen(socket: ListenSocket, fetch: FetchHandler, params: Params, tls?: TlsFiles, events?: RuntimeEvents): Promise<Listening> {
  const server = createServer(fetch, params, tls);
  // HTTP/2 sessions: their timers and GOAWAY (./node-http2.ts)
  const sessions = servesHttp2(params, tls) ? h2.watchSessions(server as Http2SecureServer, params) : undefined;
  server.maxConnections = params.max_connections; // beyond it new sockets are closed at once
  server.on("clientError", (err: NodeJS.ErrnoException, sock: Duplex) => lingeringRefusal(err, sock, events));
  if (events) server.on("drop", () => events.refused("max_connections_socket"));
  // node:http hands CONNECT to a "connect" listener (none: it closes the socket
  // without a word); answered 405 as on the other runtimes. node:http2 gives it
  // the stream's request and response instead.
  server.on("connect", (req: { httpVersionMajor: number }, socket: Duplex | Http2ServerResponse) => {
    if (req.httpVersionMajor === 2) return void (socket as Http2ServerResponse).writeHead(405, { "content-length": "0" }).end();
    socket = socket as Duplex;
    socket.on("error", () => {});
    socket.end("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  let draining = false;
  // while draining, every response closes its connection (Connection: close)
  server.prependListener("request", (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    // @hono/node-server answers a bad Host 400 itself, keeping the connection: it
    // is a refusal like the others, so the connection closes after it (HTTP/2
    // has no Host to check: @hono/node-server checks :authority the same way)
    const host = req.headers.host;
    if ("shouldKeepAlive" in res && (draining || (host !== undefined && !isValidHost(host)))) res.shouldKeepAlive = false;
    // "\\" in the path is "/" to a URL parser, as Bun and Deno (through the core)
    // take it; @hono/node-server would answer 400 instead
    const target = req.url;
    if (target !== undefined && target.includes("\\")) req.url = slashesInPath(target);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket.port, socket.hostname, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : socket.port,
        close: () =>
          new Promise<void>((done) => {
            draining = true;
            server.close(() => done());
            if (sessions) sessions.close();
            else (server as Server).closeIdleConnections();
          }),
        destroy: () => (sessions ? sessions.destroy() : (server as Server).closeAllConnections()),
      });
    });
  });
}

/** Start mhttpd under Node with this command line: `node dist/node.mjs ...` and the
 * mhttpd command (bin/mhttpd.mjs) both come here. */
export function startMhttpd(argv: string[] = process.argv.slice(2)): Promise<void> {
  return main(nodePlatform(argv));
}

/** The process around the adapter: arguments, signals, workers, exit. */
const nodePlatform = (argv: string[]): Platform => ({
  adapter: new NodeAdapter(),
  argv,
  env: process.env,
  cwd: process.cwd(),
  readTls,
  sqlite: async () => (await import("./sqlite-node.ts")).sqliteBinding(),
  // workers > 1: node:cluster (Node 20 has no reusePort; it came in 22.12). The
  // workers' listen() goes through the primary, which accepts and hands each
  // connection to a worker in turn (round-robin, the default except on Windows).
  spawnWorker(_index, env, events) {
    cluster.setupPrimary({ stdio: ["pipe", "pipe", "inherit", "ipc"] });
    const worker = cluster.fork(env);
    eachLine(worker.process.stdout!, events.stdout);
    worker.process.stdin?.on("error", () => {});
    worker.on("exit", (code, signal) => events.exit(code, signal));
    // node:cluster's IPC channel is always there; metrics talk over it
    if (events.message) worker.on("message", events.message);
    const send = (message: unknown) => {
      if (worker.isConnected()) worker.send(message as object, undefined, (e) => void e);
    };
    return { pid: worker.process.pid, kill: (signal) => void worker.process.kill(signal), send };
  },
  freePort,
  memory: () => process.memoryUsage(),
  supervisorChannel: async () => processChannel(process),
  cpus: () => os.availableParallelism(),
  // Node 20 has no TypeScript of its own: see importUserModule
  importModule: importUserModule,
  // a listener for each replaces Node's (and Bun's) default, which ends the process
  onStrayError(handler) {
    process.on("unhandledRejection", (reason) => handler(reason, "unhandled rejection"));
    process.on("uncaughtException", (error) => handler(error, "uncaught exception"));
    // a broken stdout/stderr pipe (the reader is gone) is no route's error and
    // cannot be logged: the server goes on without its output
    for (const out of [process.stdout, process.stderr]) out.on("error", (e) => isBrokenOutput(e) || handler(e, "uncaught exception"));
  },
  onSignals(handler) {
    process.on("SIGINT", () => handler("SIGINT"));
    process.on("SIGTERM", () => handler("SIGTERM"));
    process.on("SIGHUP", () => handler("SIGHUP"));
  },
  exit: (code) => process.exit(code),
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});

/** This file (dist/node.mjs when built) is the program node was given, rather than a
 * module the mhttpd command imported: Node 20 has no import.meta.main (22.18 has). */
function isProgram(): boolean {
  const main = (import.meta as { main?: boolean }).main;
  if (main !== undefined) return main;
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) await startMhttpd();
