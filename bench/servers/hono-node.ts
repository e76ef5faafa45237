// Hono on Node through @hono/node-server (its defaults, as a Hono user gets them);
// usage: node --import tsx hono-node.ts PORT WORKLOAD
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { benchApp } from "./hono-app.ts";

const port = Number(process.argv[2]);
const app = benchApp(process.argv[3] ?? "hello", getConnInfo);
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => {
  console.log(`hono listening on http://127.0.0.1:${port} (node)`);
});
// exit normally on SIGTERM, so that --cpu-prof writes its profile (bench/profile.mjs)
process.on("SIGTERM", () => process.exit(0));
