// mhttpd inside a Hono app (mhttpd/hono): the benchmark's route mounted on every
// path of an app with nothing else, served as each runtime serves a Hono app.
// What it costs beside the mhttpd server (the same route) and Hono alone (hono-*.ts).
// usage: bun|deno run -A|node --import tsx mhttpd-hono.ts PORT ROUTE
import { Hono } from "hono";
import { mhttpd } from "../../src/hono.ts";

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;
const { Bun, Deno } = globalThis as unknown as {
  Bun?: { serve(opts: { hostname: string; port: number; fetch: Fetch }): unknown };
  Deno?: { args: string[]; serve(opts: { hostname: string; port: number; onListen(): void }, fetch: Fetch): unknown; addSignalListener(s: string, f: () => void): void; exit(code: number): never };
};
const [portArg, route] = Deno ? Deno.args : process.argv.slice(2);
const port = Number(portArg);
const handler = mhttpd({ route });
await handler.ready;
const app = new Hono().all("*", handler);
const listening = (runtime: string) => console.log(`mhttpd-hono listening on http://127.0.0.1:${port} (${runtime})`);

if (Bun) {
  Bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch });
  listening("bun");
} else if (Deno) {
  Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, app.fetch);
  listening("deno");
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
} else {
  const { serve } = await import("@hono/node-server");
  serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => listening("node"));
}
// exit normally on SIGTERM, so that --cpu-prof writes its profile (bench/profile.mjs)
if (!Deno) process.on("SIGTERM", () => process.exit(0));
