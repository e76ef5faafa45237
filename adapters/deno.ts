// Deno adapter: Deno's node:http (the same server code as the Node adapter, see
// _node-http.ts for why not Deno.serve); Deno's own signals, exit and output.
import { main } from "../src/server.ts";
import { listenNodeHttp, nodeHttpBinding } from "./_node-http.ts";

const encoder = new TextEncoder();

await main({
  binding: nodeHttpBinding("deno"),
  argv: Deno.args,
  env: Deno.env.toObject(),
  cwd: Deno.cwd(),
  listen: listenNodeHttp,
  onSignals(handler) {
    Deno.addSignalListener("SIGINT", () => handler("SIGINT"));
    Deno.addSignalListener("SIGTERM", () => handler("SIGTERM"));
  },
  exit: (code) => Deno.exit(code),
  stdout: (line) => Deno.stdout.writeSync(encoder.encode(line + "\n")),
  stderr: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
});
