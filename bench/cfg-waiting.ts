// In-process cost of a .cfg route that can wait but does not: the same short
// route with and without `if ($mhttpd(url) == "/never") { usleep(1); }` first.
// The second is compiled to suspend (src/cfg/suspend.ts), so it makes a run state
// and a $var view per request even though it never waits. No server, no sockets;
// seven alternating rounds on 100 000 pre-built contexts, the median.
//   node --import tsx bench/cfg-waiting.ts ; node_modules/.bin/bun bench/cfg-waiting.ts
//   node_modules/.bin/deno run -A bench/cfg-waiting.ts
import { compileCfg } from "../src/cfg/index.ts";
import { RequestContext } from "../src/context.ts";
import { Logger } from "../src/log.ts";

const route = (first: string) =>
  `loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n${first}\n` +
  `$var(a) = $mhttpd(url) + "x";\nif ($var(a) =~ "^/api") { $var(b) = 1; } else { $var(b) = 2; }\nmhttpd_reply("200", "OK", "text/plain", "a=$var(a) b=$var(b)");\n}\n`;
const plain = compileCfg("/bench.cfg", { text: route("") }).event!;
const canWait = compileCfg("/bench.cfg", { text: route('if ($mhttpd(url) == "/never") { usleep(1); }') }).event!;
const logger = new Logger(2, () => {});
const request = new Request("http://bench/api/users");

function perSecond(fn: (ctx: RequestContext) => unknown, n: number): number {
  const contexts = Array.from({ length: n }, () => new RequestContext(request, { remoteAddress: "127.0.0.1" }, undefined, logger));
  const t0 = performance.now();
  for (const ctx of contexts) if (fn(ctx) !== undefined) throw new Error("the route suspended");
  return (n / (performance.now() - t0)) * 1000;
}

perSecond(plain, 50000);
perSecond(canWait, 50000);
const rounds: [number, number][] = [];
for (let i = 0; i < 7; i++) {
  if (i % 2) {
    const w = perSecond(canWait, 100000);
    rounds.push([perSecond(plain, 100000), w]);
  } else rounds.push([perSecond(plain, 100000), perSecond(canWait, 100000)]);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [p, w] = [median(rounds.map((r) => r[0])), median(rounds.map((r) => r[1]))];
console.log(`plain ${Math.round(p)} requests/s; can wait, does not ${Math.round(w)} requests/s; ${(1e6 / w - 1e6 / p).toFixed(2)} µs more per request`);
