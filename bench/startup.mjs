#!/usr/bin/env node
// Start-up and idle memory, side by side: each server is started --starts times,
// in turns (a, b, c, a, b, c, ...), and for each start this measures the time
// from spawning it to its listening line, then its RSS after --idle seconds
// without a request (VmRSS, /proc/PID/status). Medians with the range. The servers
// are named as for bench/interleave.mjs (runtime:variant, @DIR for another tree):
//
//   node bench/startup.mjs --starts 10 bun:bare bun:mhttpd@/tmp/before bun:mhttpd
//
// The time includes the runtime's own start (the bare server's is the floor) and,
// for a TypeScript route on Node, compiling it in a child process. Servers are
// not pinned to a CPU (a start is one process's work). Plain Node ESM.
import { ALL_RUNTIMES, ALL_VARIANTS, median, procStatus, startServer } from "./lib.mjs";

function usage(msg) {
  if (msg) console.error(`startup: ${msg}`);
  console.error("usage: node bench/startup.mjs [--starts 10] [--idle 1.5] [--workload hello] runtime:variant[@DIR] ...");
  process.exit(2);
}

const o = { starts: 10, idle: 1.5, workload: "hello", servers: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--starts") o.starts = Math.round(Number(argv[++i]));
  else if (a === "--idle") o.idle = Number(argv[++i]);
  else if (a === "--workload") o.workload = argv[++i];
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else {
    const [kind, root] = a.split("@");
    const [runtime, variant] = kind.split(":");
    if (!ALL_RUNTIMES.includes(runtime) || !ALL_VARIANTS.includes(variant)) usage(`${a}: expected runtime:variant, runtime one of ${ALL_RUNTIMES}, variant one of ${ALL_VARIANTS}`);
    o.servers.push({ label: a, runtime, variant, root, ms: [], rssMiB: [] });
  }
}
if (!(o.starts > 0) || !(o.idle >= 0) || o.servers.length === 0) usage("name at least one server; --starts and --idle take positive numbers");
// not pinned: a start is one process's work, on whichever CPU is free
const pin = false;

for (let turn = 0; turn < o.starts; turn++) {
  for (const s of o.servers) {
    const t0 = performance.now();
    const started = await startServer(s.runtime, s.variant, o.workload, pin, 30000, false, [], s.root);
    const ms = performance.now() - t0;
    if (!started.ok) {
      console.error(`startup: ${s.label} did not start: ${started.cmd.join(" ")}\n${started.out}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, o.idle * 1000));
    const { rssKiB } = procStatus(started.pid);
    await started.stop();
    s.ms.push(ms);
    if (rssKiB !== null) s.rssMiB.push(rssKiB / 1024);
  }
}

const span = (xs, digits) => `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;
console.log(`startup: ${o.workload} route, ${o.starts} starts each, RSS after ${o.idle} s idle`);
console.log("| server | to the listening line, ms: median [range] | idle RSS MiB: median [range] |");
console.log("| --- | ---: | ---: |");
for (const s of o.servers) console.log(`| ${s.label} | ${span(s.ms, 0)} | ${s.rssMiB.length ? span(s.rssMiB, 1) : "n/a"} |`);
