// Hono on Deno.serve; usage: deno run -A hono-deno.ts PORT WORKLOAD
import { getConnInfo } from "hono/deno";
import { benchApp } from "./hono-app.ts";

const port = Number(Deno.args[0]);
const app = benchApp(Deno.args[1] ?? "hello", getConnInfo);
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, app.fetch);
console.log(`hono listening on http://127.0.0.1:${port} (deno)`);
// exit at once on SIGTERM (the benchmark stops every server that way)
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
