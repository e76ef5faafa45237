// Deno adapter: Deno.serve per listen socket; everything else is the core's.
import { AsyncLocalStorage } from "node:async_hooks";
import { getConnInfo } from "hono/deno";
import { main } from "../src/server.ts";

const encoder = new TextEncoder();

await main({
  binding: { name: "deno", getConnInfo, contextStore: new AsyncLocalStorage() },
  argv: Deno.args,
  env: Deno.env.toObject(),
  cwd: Deno.cwd(),
  listen(socket, fetch) {
    // Deno's handler gets the connection info as its 2nd argument: Hono's getConnInfo reads it from env
    const server = Deno.serve(
      {
        hostname: socket.hostname,
        port: socket.port,
        onListen() {},
        // a dropped request's body fails with no reason on purpose; anything else is a real error
        onError(error) {
          if (error !== undefined) console.error(error);
          return new Response(null, { status: 500 });
        },
      },
      fetch,
    );
    return Promise.resolve({ port: server.addr.port, close: () => server.shutdown() });
  },
  onSignals(handler) {
    Deno.addSignalListener("SIGINT", () => handler("SIGINT"));
    Deno.addSignalListener("SIGTERM", () => handler("SIGTERM"));
  },
  exit: (code) => Deno.exit(code),
  stdout: (line) => Deno.stdout.writeSync(encoder.encode(line + "\n")),
  stderr: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
});
