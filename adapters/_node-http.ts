// Serving through node:http (@hono/node-server), shared by the Node adapter and
// the Deno adapter. Deno.serve has no header timeout, head size limit, idle
// timeout or connection cap (deno#3515), while Deno's node:http (llhttp over
// Deno's TCP) honours the same server options as Node's; so both runtimes get
// mhttpd's limits from the same knobs, set here once.
import { createAdaptorServer, type HttpBindings } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { AsyncLocalStorage } from "node:async_hooks";
import type { Server } from "node:http";
import type { RuntimeBinding } from "../src/app.ts";
import type { ListenSocket, Params } from "../src/params.ts";
import type { FetchHandler, Listening } from "../src/server.ts";

const bindings = (c: { env: unknown }) => c.env as HttpBindings;

export function nodeHttpBinding(name: string): RuntimeBinding {
  return {
    name,
    getConnInfo,
    contextStore: new AsyncLocalStorage(),
    capsConnections: true,
    httpVersion: (c) => `HTTP/${bindings(c).incoming.httpVersion}`,
    // @hono/node-server labels every body text/plain unless told otherwise
    untypedResponse(c, status, bytes) {
      bindings(c).outgoing.writeHead(status, { "content-length": bytes.length }).end(bytes);
      return new Response(null, { headers: { "x-hono-already-sent": "1" } });
    },
    dropConnection(c) {
      bindings(c).incoming.socket.destroy();
      // tells @hono/node-server that the response is handled: nothing is written
      return new Response(null, { headers: { "x-hono-already-sent": "1" } });
    },
  };
}

export function listenNodeHttp(socket: ListenSocket, fetch: FetchHandler, params: Params): Promise<Listening> {
  const ms = (s: number) => Math.max(1, Math.round(s * 1000));
  const server = createAdaptorServer({
    fetch,
    // no global Request/Response patching: it breaks instanceof for other libraries
    overrideGlobalObjects: false,
    serverOptions: {
      maxHeaderSize: params.max_header_size, // larger head: 431 and close
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
  server.maxConnections = params.max_connections; // beyond it new sockets are closed at once
  let draining = false;
  // while draining, every response closes its connection (Connection: close)
  server.prependListener("request", (_req, res) => {
    if (draining) res.shouldKeepAlive = false;
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
            server.closeIdleConnections();
          }),
        destroy: () => server.closeAllConnections(),
      });
    });
  });
}
