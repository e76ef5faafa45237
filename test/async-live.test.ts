// sleep/usleep and rtimer on a live server under each runtime: a sleeping request
// holds itself, not the server; route_timeout answers 503 and the route stops at
// its wait; timers run their routes at their interval, once per server with
// workers 2 (mode 2: once in each), keep running when a run throws, skip the
// ticks of a run that has not ended, and stop with SIGTERM.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { FIXTURES, RUNTIMES, httpRequest, runtimeCommand, sleep, startServer, waitForLog, type Runtime, type Server } from "./_harness.ts";

const DIR = path.join(FIXTURES, "async");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];

const body = async (srv: Server, target: string) => {
  const res = (await httpRequest(srv.port, "GET", target)).responses[0];
  assert.ok(res, `a response to GET ${target}`);
  return { status: res.status, text: res.body.toString() };
};
/** Deno starts worker processes only with --allow-run */
const withWorkers = (runtime: Runtime) => {
  const cmd = runtimeCommand(runtime);
  return runtime === "deno" ? [cmd[0], cmd[1], "--allow-run", ...cmd.slice(2)] : cmd;
};
const count = (text: string, re: RegExp) => [...text.matchAll(new RegExp(re, "g"))].length;

for (const runtime of RUNTIMES) {
  describe(`sleep and usleep on ${runtime}`, () => {
    for (const [route, label] of [
      ["sleep.cfg", "cfg"],
      ["sleep-kemi.ts", "KSR.cfgutils"],
    ] as const) {
      it(`${label}: a sleeping request holds only itself: another request is answered meanwhile`, async () => {
        const srv = await startServer(runtime, [path.join(DIR, route), ...LOCAL]);
        try {
          let slowDone = false;
          const slow = body(srv, "/slow").then((r) => ((slowDone = true), r));
          if (route === "sleep.cfg") await waitForLog(srv, /slow: waiting/);
          else await sleep(200);
          assert.deepEqual(await body(srv, "/fast"), { status: 200, text: "fast\n" });
          assert.equal(slowDone, false, "the sleeping request is still waiting");
          assert.deepEqual(await slow, { status: 200, text: "slept rc=1\n" });
          if (route === "sleep.cfg") assert.deepEqual(await body(srv, "/usleep"), { status: 200, text: "usleep rc=1\n" });
        } finally {
          assert.equal((await srv.stop()).code, 0);
        }
      });

      it(`${label}: route_timeout answers 503 and ends the wait; the server goes on`, async () => {
        const srv = await startServer(runtime, [path.join(DIR, route), ...LOCAL, "--route-timeout", "1"]);
        try {
          assert.equal((await body(srv, "/long")).status, 503);
          await waitForLog(srv, /within route_timeout 1 s: sending 503/);
          if (route === "sleep.cfg") await waitForLog(srv, /sleep\.cfg:22: sleep\(\): route_timeout passed: the route stops here/);
          else await waitForLog(srv, /long: sleep returned -1/);
          assert.deepEqual(await body(srv, "/fast"), { status: 200, text: "fast\n" });
          assert.doesNotMatch(srv.stderr(), /not reached/);
        } finally {
          assert.equal((await srv.stop()).code, 0);
        }
      });
    }
  });

  describe(`rtimer on ${runtime}`, () => {
    it("a timer route runs every interval without a request: $shv counts, $mhttpd is null, a reply is refused", async () => {
      const srv = await startServer(runtime, [path.join(DIR, "tick.cfg"), ...LOCAL]);
      try {
        await waitForLog(srv, /tick 3 /, 8000);
        const ticks = Number(/ticks=(\d+)/.exec((await body(srv, "/")).text)?.[1]);
        assert.ok(ticks >= 3, `ticks=${ticks}`);
        const err = srv.stderr();
        assert.match(err, /INFO: <script>: tick 1 url=<null>/);
        assert.match(err, /ERROR: <script>: \S*tick\.cfg:23: mhttpd_reply: a timer route \(rtimer\) has no HTTP request to answer/);
        assert.match(err, /timer reply refused/);
        // mode=2 in one process: two runs per interval
        assert.match(err, /each rtimer_worker=0/);
        assert.match(err, /each rtimer_worker=1/);
      } finally {
        assert.equal((await srv.stop()).code, 0);
      }
    });

    it("with workers 2 a timer runs once per interval in worker 0, not in each worker; mode=2 runs once in each", async () => {
      const srv = await startServer(runtime, [path.join(DIR, "tick.cfg"), ...LOCAL, "--workers", "2"], { command: withWorkers(runtime) });
      try {
        await waitForLog(srv, /tick 4 /, 10000);
        await sleep(300);
        const err = srv.stderr();
        const ticks = count(err, /INFO: <script>: tick \d+ /);
        const fromWorker0 = count(err, /\[worker 0\] INFO: <script>: tick \d+ /);
        assert.equal(fromWorker0, ticks, "every tick is worker 0's");
        // each worker has its own $shv: a second runner would count its own "tick 1"
        assert.equal(count(err, /tick 1 /), 1, err);
        assert.match(err, /\[worker 0\] INFO: <script>: each rtimer_worker=0/);
        assert.match(err, /\[worker 1\] INFO: <script>: each rtimer_worker=1/);
        assert.doesNotMatch(err, /\[worker 1\] INFO: <script>: each rtimer_worker=0/);
      } finally {
        assert.equal((await srv.stop()).code, 0);
      }
    });

    it("a timer whose run throws or rejects is logged and keeps running; a run longer than the interval skips ticks", async () => {
      const srv = await startServer(runtime, [path.join(DIR, "timers.ts"), ...LOCAL]);
      try {
        await waitForLog(srv, /boom run 3/, 8000);
        await waitForLog(srv, /slow end 2/, 8000);
        const err = srv.stderr();
        assert.match(err, /ERROR: <core>: rtimer boom: boom\.run\(\) failed: Error: boom 1/);
        assert.match(err, /ERROR: <core>: rtimer boom: boom\.run\(\) failed: Error: boom 2/);
        assert.match(err, /rtimer reject: reject\.run\(\) failed: Error: rejected in rtimer, url null/);
        // never two runs of "slow" at once: each start is followed by its own end
        const events = [...err.matchAll(/slow (start|end) (\d+)/g)].map((m) => `${m[1]} ${m[2]}`);
        for (let i = 0; i + 1 < events.length; i += 2) assert.deepEqual([events[i], events[i + 1]], [`start ${i / 2 + 1}`, `end ${i / 2 + 1}`], events.join(", "));
        assert.match(err, /ERROR: <script>: mhttpd_reply: a timer route \(rtimer\) has no HTTP request to answer/);
        assert.match(err, /WARNING: <core>: rtimer slow: a run took \d+\.\d s, longer than its interval of 0\.2 s: \d+ tick\(s\) skipped/);
        assert.equal((await body(srv, "/")).status, 200);
      } finally {
        assert.equal((await srv.stop()).code, 0);
      }
    });

    it("SIGTERM stops the timers and ends a timer route's wait", async () => {
      const srv = await startServer(runtime, [path.join(DIR, "sleepy-timer.cfg"), ...LOCAL]);
      await waitForLog(srv, /sleepy: waiting/, 8000);
      const exit = await srv.stop("SIGTERM");
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.match(srv.stderr(), /sleepy-timer\.cfg:17: sleep\(\): the server is stopping: the route stops here/);
      assert.doesNotMatch(srv.stderr(), /not reached/);
    });

    it('with cfgengine "jsdt" an exec names a KEMI function, called with "rtimer"', async () => {
      const srv = await startServer(runtime, [path.join(DIR, "kemi-timer.cfg"), ...LOCAL]);
      try {
        await waitForLog(srv, /kemi timer rtimer run 2 worker 0/, 8000);
        assert.match((await body(srv, "/")).text, /^runs=\d+\n$/);
      } finally {
        assert.equal((await srv.stop()).code, 0);
      }
    });
  });
}
