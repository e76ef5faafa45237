// Hono on Bun.serve; usage: bun hono-bun.ts PORT WORKLOAD
/// <reference types="bun-types" />
import { getConnInfo } from "hono/bun";
import { benchApp } from "./hono-app.ts";

const port = Number(process.argv[2]);
const app = benchApp(process.argv[3] ?? "hello", getConnInfo);
Bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch });
console.log(`hono listening on http://127.0.0.1:${port} (bun)`);
// exit normally on SIGTERM, so that --cpu-prof writes its profile (bench/profile.mjs)
process.on("SIGTERM", () => process.exit(0));
