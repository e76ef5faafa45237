// What counting costs a request, in-process: the same handler (the hello route, a
// fake adapter answering with Fetch Responses) with `metrics` off and on, called
// in alternating batches so that both see the same machine; the time per request
// of each batch, and the difference of the medians. Nothing but the handler runs,
// so on a shared machine this sees a cost of tens of nanoseconds that a socket
// benchmark (bench/interleave.mjs) cannot.
//
//   node --import tsx bench/metrics-cost.ts      bun bench/metrics-cost.ts      deno run -A bench/metrics-cost.ts
import { webDefaults, type RequestAdapter } from "../src/adapter.ts";
import { resolveParams } from "../src/config.ts";
import { createHandler } from "../src/handler.ts";
import { Logger } from "../src/log.ts";
import { kemiRoute } from "../src/route.ts";

const adapter: RequestAdapter = {
  ...webDefaults,
  name: "bench",
  limits: { connections: true, head: Infinity, bodyStall: false, timersPerRequest: false },
  peer: () => ({ address: "127.0.0.1", port: 1 }),
  asyncContext: () => undefined,
};
const route = kemiRoute((_e, ksr) => {
  ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", "hello\n");
});
const handler = (params: Record<string, unknown>) =>
  createHandler({ route, params: resolveParams({ route: params }), logger: new Logger(2, () => {}), adapter }).fetch;

const variants = { off: handler({}), on: handler({ metrics: "/metrics" }) };
const requests = Array.from({ length: 64 }, (_, i) => new Request(`http://127.0.0.1/hello/${i}`));

function batch(fetch: (r: Request, env?: unknown) => Response | Promise<Response>, n: number): number {
  const t = performance.now();
  for (let i = 0; i < n; i++) fetch(requests[i & 63]);
  return ((performance.now() - t) * 1e6) / n;
}

/** a turn of the event loop between batches: Node frees a Response's resources only then */
const turn = () => new Promise((r) => setTimeout(r, 0));

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const N = 20000;
for (const f of Object.values(variants)) for (let i = 0; i < 5; i++) batch(f, N), await turn(); // warm up both
const times: Record<string, number[]> = { off: [], on: [] };
for (let round = 0; round < 40; round++) {
  for (const name of round % 2 ? ["off", "on"] : ["on", "off"]) {
    times[name].push(batch(variants[name as "off" | "on"], N));
    await turn();
  }
}
const off = median(times.off);
const on = median(times.on);
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
console.log(`${runtime}: hello in-process, median of 40 batches of ${N}: off ${off.toFixed(0)} ns/request, on ${on.toFixed(0)} ns/request, counting ${(on - off).toFixed(0)} ns (${((on / off - 1) * 100).toFixed(1)} %)`);
