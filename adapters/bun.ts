// Bun adapter: Bun.serve per listen socket; everything else is the core's.
/// <reference types="bun-types" />
import { AsyncLocalStorage } from "node:async_hooks";
import { getConnInfo } from "hono/bun";
import { main } from "../src/server.ts";

await main({
  binding: {
    name: "bun",
    getConnInfo,
    contextStore: new AsyncLocalStorage(),
    // Bun labels byte bodies application/octet-stream; a stream goes out as it is
    untypedResponse: (_c, status, bytes) =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(bytes);
            controller.close();
          },
        }),
        { status },
      ),
  },
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  async listen(socket, fetch) {
    // Bun's fetch gets the server as its 2nd argument: Hono's getConnInfo reads it from env
    const server = Bun.serve({ hostname: socket.hostname, port: socket.port, fetch });
    return { port: server.port ?? socket.port, close: () => server.stop(true) };
  },
  onSignals(handler) {
    process.on("SIGINT", () => handler("SIGINT"));
    process.on("SIGTERM", () => handler("SIGTERM"));
  },
  exit: (code) => process.exit(code),
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
