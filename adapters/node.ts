// Node adapter: one @hono/node-server per listen socket; everything else is the core's.
import { AsyncLocalStorage } from "node:async_hooks";
import { createAdaptorServer, type HttpBindings } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Server } from "node:http";
import { main } from "../src/server.ts";

const bindings = (c: { env: unknown }) => c.env as HttpBindings;

await main({
  binding: {
    name: "node",
    getConnInfo,
    contextStore: new AsyncLocalStorage(),
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
  },
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  listen(socket, fetch) {
    // no global Request/Response patching: it breaks instanceof for other libraries
    const server = createAdaptorServer({ fetch, overrideGlobalObjects: false }) as Server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(socket.port, socket.hostname, () => {
        server.off("error", reject);
        const address = server.address();
        resolve({
          port: typeof address === "object" && address ? address.port : socket.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        });
      });
    });
  },
  onSignals(handler) {
    process.on("SIGINT", () => handler("SIGINT"));
    process.on("SIGTERM", () => handler("SIGTERM"));
  },
  exit: (code) => process.exit(code),
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
