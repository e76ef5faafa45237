// A request limiter on a fixed window, as examples/throttle.cfg does: each client
// address may make 5 requests per window; the next ones get 429 until the
// "window" timer, run every 2 seconds, empties the counters (2 s keeps the demo
// quick: a real window is a minute or more). GET /throttle/window says which
// window this is. The counters are this module's Map, per process: with
// workers > 1 set the timer's mode to the number of workers so that each worker
// empties its own (README, Timers), or keep them in Redis to share them between
// workers and hosts.
//   npx mhttpd examples/throttle.ts
//   for i in 1 2 3 4 5 6; do curl -i http://127.0.0.1:8280/; done
import type { KsrApi, TimerDeclaration } from "mhttpd";

export const config = { listen_port: 8280 };

const LIMIT = 5;
const hits = new Map<string, number>();
let window = 1;

export const timers: TimerDeclaration[] = [
  {
    name: "window",
    interval: 2,
    mode: 1,
    // every 2 s, without a request: a new window for everybody
    run(_evname, KSR) {
      hits.clear();
      window++;
      KSR.dbg(`throttle: window ${window} begins\n`);
    },
  },
];

export default function throttle(_evname: string, KSR: KsrApi): void {
  const reply = (code: number, reason: string, body: string) => KSR.microhttpd.mhttpd_reply(code, reason, "text/plain", body);
  if (KSR.pv.get("$mhttpd(url)") === "/throttle/window") return void reply(200, "OK", `window ${window}\n`);
  const client = String(KSR.pv.get("$mhttpd(srcip)"));
  const n = (hits.get(client) ?? 0) + 1;
  hits.set(client, n);
  if (n > LIMIT) {
    KSR.microhttpd.mhttpd_reply_header("Retry-After", "2");
    return void reply(429, "Too Many Requests", `slow down: ${LIMIT} requests per window\n`);
  }
  reply(200, "OK", `request ${n} of ${LIMIT} in window ${window}\n`);
}
