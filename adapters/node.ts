// Node adapter: one node:http server (@hono/node-server) per listen socket; the
// limits are set in _node-http.ts, everything else is the core's.
import { main } from "../src/server.ts";
import { listenNodeHttp, nodeHttpBinding } from "./_node-http.ts";

await main({
  binding: nodeHttpBinding("node"),
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  listen: listenNodeHttp,
  onSignals(handler) {
    process.on("SIGINT", () => handler("SIGINT"));
    process.on("SIGTERM", () => handler("SIGTERM"));
  },
  exit: (code) => process.exit(code),
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
