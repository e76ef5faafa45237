// ndb_redis through KSR.ndb_redis on a live server under each runtime, against a
// redis-server the test starts: every reply type as $redis(r=>...) reads it, the
// return codes, words that no parameter can add to, requests that interleave
// without seeing each other's transaction or replies, a Redis that stops answering
// (cmd_timeout, route_timeout), and one that goes down and comes back.
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { compileCfg } from "../src/cfg/program.ts";
import { resetNdbRedis } from "../src/modules/ndb_redis/params.ts";
import { FIXTURES, ROOT, RUNTIMES, httpRequest, runToExit, startServer, waitForLog, type Server } from "./_harness.ts";
import { freePort, redisRaw, startRedis, type RedisServerProcess } from "./_redis.ts";

const ROUTE = path.join(FIXTURES, "ndb-redis", "route.ts");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];

type Step = { cmd: string; params?: string[]; into?: string; read?: string[]; pauseMs?: number };

async function run(srv: Server, steps: Step[], headers: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  const res = await httpRequest(srv.port, "POST", "/cmd", { body: JSON.stringify(steps), headers: { "Content-Type": "application/json", ...headers } });
  const r = res.responses[0];
  assert.ok(r, `no response (stderr: ${srv.stderr()})`);
  assert.equal(r.status, 200, `status ${r.status}: ${r.body} (stderr: ${srv.stderr()})`);
  return JSON.parse(r.body.toString()) as Record<string, unknown>[];
}

for (const runtime of RUNTIMES) {
  describe(`ndb_redis through KSR on ${runtime}`, () => {
    let redis: RedisServerProcess;
    let srv: Server;
    before(async () => {
      redis = await startRedis();
      srv = await startServer(runtime, [ROUTE, ...LOCAL], { env: { REDIS_PORT: String(redis.port) } });
    });
    after(async () => {
      await srv?.stop();
      await redis?.dispose();
    });

    it("gives each reply type as hiredis does: status, string, integer, nil, error", async () => {
      const [set, get, incr, nil, err] = await run(srv, [
        { cmd: "SET greeting hello", read: ["type", "value", "info"] },
        { cmd: "GET greeting", read: ["type", "value", "info", "size"] },
        { cmd: "INCR counter", read: ["type", "value", "info"] },
        { cmd: "GET no-such-key", read: ["type", "value", "info"] },
        { cmd: "INCR greeting", read: ["type", "value", "info"] },
      ]);
      // KEMI's redis_cmd returns redisc_exec's 0 when done
      assert.deepEqual(set, { rc: 0, type: 5, value: null, info: "OK" });
      assert.deepEqual(get, { rc: 0, type: 1, value: "hello", info: "hello", size: null });
      assert.deepEqual(incr, { rc: 0, type: 3, value: 1, info: null });
      assert.deepEqual(nil, { rc: 0, type: 4, value: null, info: null });
      // a Redis error is -1 and an error log; the reply stays readable
      assert.deepEqual(err, { rc: -1, type: 6, value: null, info: "ERR value is not an integer or out of range" });
      await waitForLog(srv, /ERROR: ndb_redis: redis_cmd: Redis error: ERR value is not an integer/);
    });

    it("reads arrays by index, and arrays inside arrays (EXEC) by value[n]=>key", async () => {
      const steps: Step[] = [
        { cmd: "DEL list set" },
        { cmd: "RPUSH list a b 7" },
        { cmd: "LRANGE list 0 -1", read: ["type", "size", "value", "value[0]", "value[2]", "value[3]", "type[1]", "type[9]"] },
        { cmd: "MULTI", into: "m" },
        { cmd: "LRANGE list 0 -1", into: "q", read: ["type", "info"] },
        { cmd: "INCR list", into: "q" },
        { cmd: "GET list", into: "q" },
        { cmd: "EXEC", read: ["type", "size", "type[0]", "value[0]=>size", "value[0]=>value[1]", "value[0]=>type[0]", "type[1]", "value[1]", "value[1]=>info", "type[2]", "value[0]=>value[0]=>size"] },
      ];
      const out = await run(srv, steps);
      assert.deepEqual(out[2], { rc: 0, type: 2, size: 3, value: null, "value[0]": "a", "value[2]": "7", "value[3]": null, "type[1]": 1, "type[9]": null });
      assert.deepEqual(out[4], { rc: 0, type: 5, info: "QUEUED" });
      assert.deepEqual(out[7], {
        rc: 0,
        type: 2,
        size: 3,
        "type[0]": 2,
        "value[0]=>size": 3,
        "value[0]=>value[1]": "b",
        "value[0]=>type[0]": 1,
        "type[1]": 6,
        "value[1]": null,
        "value[1]=>info": "WRONGTYPE Operation against a key holding the wrong kind of value",
        "type[2]": 6,
        "value[0]=>value[0]=>size": null,
      });
    });

    it("takes each %s parameter as one word, whatever bytes it holds (no injection)", async () => {
      const hostile = "x y\r\n*1\r\n$8\r\nFLUSHALL\r\nSET pwned 1";
      const out = await run(srv, [
        { cmd: "SET %s %s", params: ["k 1", hostile] },
        { cmd: "GET %s", params: ["k 1"], read: ["value"] },
        { cmd: "EXISTS pwned", read: ["value"] },
        { cmd: "SET %s %s", params: ["empty", ""] },
        { cmd: "STRLEN empty", read: ["value"] },
        { cmd: "GET %s%s", params: ["k", " 1"], read: ["value"] },
      ]);
      assert.equal(out[1]["value"], hostile);
      assert.equal(out[2]["value"], 0);
      assert.deepEqual(out[3], { rc: 0 }, "an empty parameter is still a word");
      assert.equal(out[4]["value"], 0);
      assert.equal(out[5]["value"], hostile, "two %s in one word make one word");
      // a request header, the same
      const res = await httpRequest(srv.port, "GET", "/hdr", { headers: { "X-Value": "a b\tc" } });
      assert.deepEqual(JSON.parse(res.responses[0].body.toString()), { rc: 0, info: "OK" });
      assert.equal(await redisRaw(redis.port, ["GET", "from-header"]), "$5\r\na b\tc\r\n");
      assert.equal(await redisRaw(redis.port, ["EXISTS", "pwned"]), ":0\r\n");
    });

    it("refuses what it cannot run, with -1 and a log naming why", async () => {
      const out = await run(srv, [
        { cmd: "GET %s" },
        { cmd: "GET %s", params: ["a", "b"] },
        { cmd: "GET %d", params: ["a"] },
        { cmd: "SELECT 1" },
        { cmd: "SUBSCRIBE news" },
        { cmd: "   " },
      ]);
      assert.deepEqual(
        out.map((o) => o.rc),
        [-1, -1, -1, -1, -1, -1],
      );
      await waitForLog(srv, /redis_cmd: the command has 1 %s for 0 parameter\(s\)/);
      await waitForLog(srv, /redis_cmd_p1: "%d" in the command: only %s \(the next parameter\) and %% \(a "%"\) are directives/);
      await waitForLog(srv, /redis_cmd: SELECT is refused: .*give db= in the server's spec/);
      await waitForLog(srv, /redis_cmd: the command is empty/);
    });

    it("runs many commands in one request without piling listeners on its signal", async () => {
      const out = await run(srv, Array.from({ length: 15 }, () => ({ cmd: "INCR many" })));
      assert.equal(out.length, 15);
      assert.ok(out.every((o) => o.rc === 0));
      // Node warns past 10 abort listeners on one signal; each command must take its own away
      await new Promise((r) => setTimeout(r, 100));
      assert.doesNotMatch(srv.stderr(), /MaxListenersExceeded|memory leak/);
    });

    it("frees a reply: null after redis_free, which is -1 for a container never filled", async () => {
      const out = await run(srv, [{ cmd: "PING", into: "p", read: ["info"] }, { cmd: "FREE", into: "p", read: ["type", "info"] }, { cmd: "FREE", into: "never" }]);
      assert.deepEqual(out, [
        { rc: 0, info: "PONG" },
        { rc: 1, type: null, info: null },
        { rc: -1 },
      ]);
    });

    it("keeps each request's transaction and replies its own while requests interleave", async () => {
      await redisRaw(redis.port, ["DEL", "tx-a", "tx-b"]);
      // A opens a transaction and waits; B runs meanwhile on the shared connection
      const a = run(srv, [
        { cmd: "MULTI", into: "r", pauseMs: 300 },
        { cmd: "INCR tx-a", into: "q", read: ["info"] },
        { cmd: "EXEC", read: ["size", "value[0]"] },
      ]);
      await new Promise((r) => setTimeout(r, 100));
      const b = await run(srv, [
        { cmd: "INCR tx-b", read: ["type", "value"] },
        { cmd: "GET tx-a", read: ["type"] },
      ]);
      assert.deepEqual(b, [
        { rc: 0, type: 3, value: 1 },
        { rc: 0, type: 4 },
      ]);
      const done = await a;
      assert.deepEqual(done[1], { rc: 0, info: "QUEUED" });
      assert.deepEqual(done[2], { rc: 0, size: 1, "value[0]": 1 });
      // each read its own "r"
      const [ra, rb] = await Promise.all([
        run(srv, [{ cmd: "SET %s %s", params: ["who", "a"], pauseMs: 200, read: ["info"] }, { cmd: "GET who", read: ["value"] }]),
        run(srv, [{ cmd: "ECHO b", pauseMs: 50, read: ["value"] }]),
      ]);
      assert.deepEqual(ra[0], { rc: 0, info: "OK" });
      assert.deepEqual(rb[0], { rc: 0, value: "b" });
    });
  });

  describe(`ndb_redis failures on ${runtime}`, () => {
    it("Redis down: -1 and an error log within the timeouts, the server keeps serving; back: it reconnects", async () => {
      const redis = await startRedis();
      const srv = await startServer(runtime, [ROUTE, ...LOCAL], { env: { REDIS_PORT: String(redis.port) } });
      try {
        assert.deepEqual(await run(srv, [{ cmd: "SET k before", read: ["info"] }]), [{ rc: 0, info: "OK" }]);
        await redis.stop();
        const t0 = Date.now();
        assert.deepEqual(await run(srv, [{ cmd: "GET k", read: ["type"] }]), [{ rc: -1, type: null }]);
        assert.ok(Date.now() - t0 < 2500, `answered in ${Date.now() - t0} ms`);
        await waitForLog(srv, /ERROR: ndb_redis: redis_cmd: redis server "main": .*(ECONNREFUSED|refused|closed)/i);
        await redis.restart();
        assert.deepEqual(await run(srv, [{ cmd: "SET k after", read: ["info"] }, { cmd: "GET k", read: ["value"] }]), [
          { rc: 0, info: "OK" },
          { rc: 0, value: "after" },
        ]);
      } finally {
        assert.equal((await srv.stop()).code, 0);
        await redis.dispose();
      }
    });

    it("a server unreachable at start-up stops it (exit 1), unless init_without_redis is 1", async () => {
      const port = await freePort();
      const r = await runToExit(runtime, [ROUTE, ...LOCAL], { REDIS_PORT: String(port) });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /mhttpd: ndb_redis: cannot connect to redis server "main": .*\(modparam\("ndb_redis", "init_without_redis", 1\) starts without it\)/);
      assert.doesNotMatch(r.stdout, /listening/);
      const srv = await startServer(runtime, [ROUTE, ...LOCAL], { env: { REDIS_PORT: String(port), REDIS_INIT_WITHOUT: "1" } });
      try {
        await waitForLog(srv, /WARNING: ndb_redis: failed to connect to redis server "main": .*starting anyway/);
        assert.deepEqual(await run(srv, [{ cmd: "PING", read: ["info"] }]), [{ rc: -1, info: null }]);
      } finally {
        assert.equal((await srv.stop()).code, 0);
      }
    });

    it("a server that never answers: -1 at cmd_timeout; past route_timeout the request gets 503", async () => {
      const silent = net.createServer((sock) => sock.on("data", () => {}));
      const port = await freePort();
      await new Promise<void>((r) => silent.listen(port, "127.0.0.1", r));
      const srv = await startServer(runtime, [ROUTE, ...LOCAL, "--route-timeout", "1"], { env: { REDIS_PORT: String(port), REDIS_CMD_TIMEOUT: "300", REDIS_INIT_WITHOUT: "1" } });
      try {
        const t0 = Date.now();
        assert.deepEqual(await run(srv, [{ cmd: "PING", read: ["type"] }]), [{ rc: -1, type: null }]);
        const took = Date.now() - t0;
        assert.ok(took >= 250 && took < 900, `cmd_timeout 300 ms, answered in ${took} ms`);
        await waitForLog(srv, /redis server "main": no reply within cmd_timeout \(300 ms\)/);
        // four commands in a row, each waiting its cmd_timeout: route_timeout (1 s) answers first
        const res = await httpRequest(srv.port, "POST", "/cmd", { body: JSON.stringify([{ cmd: "PING" }, { cmd: "PING" }, { cmd: "PING" }, { cmd: "PING" }]) });
        assert.equal(res.responses[0]?.status, 503);
        assert.equal((await httpRequest(srv.port, "POST", "/cmd", { body: "[]" })).responses[0]?.status, 200, "still serving");
      } finally {
        assert.equal((await srv.stop()).code, 0);
        silent.close();
      }
    });
  });
}

/** A cfg route can await only once the cfg compiler runs asynchronous functions
 * (the cfg-async work): until then the .cfg cases wait, saying so. */
const cfgAwaits = (() => {
  try {
    compileCfg("/probe.cfg", { text: '#!KAMAILIO\nloadmodule "microhttpd.so"\nloadmodule "ndb_redis.so"\nmodparam("ndb_redis", "server", "name=p;addr=127.0.0.1")\nevent_route[microhttpd:request] {\n  redis_cmd("p", "PING", "r");\n}\n' });
    return true;
  } catch (e) {
    if (/is asynchronous/.test((e as Error).message)) return false;
    throw e;
  } finally {
    resetNdbRedis();
  }
})();
const WAITING = cfgAwaits ? false : "waits for the asynchronous cfg compiler (cfg-async)";

const EXAMPLE = (ext: string) => path.join(ROOT, "examples", `rate-limit.${ext}`);

for (const runtime of RUNTIMES) {
  describe(`examples/rate-limit on ${runtime}`, () => {
    let redis: RedisServerProcess;
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await redis?.dispose();
    });

    for (const ext of ["ts", "cfg"]) {
      it(`rate-limit.${ext}: a limit per client address, 429 past it, open when Redis is down`, { skip: ext === "cfg" && WAITING }, async () => {
        await redisRaw(redis.port, ["FLUSHALL"]);
        const server = `name=main;addr=127.0.0.1;port=${redis.port}`;
        const args = ext === "cfg" ? ["-A", `REDIS_SERVER="${server}"`, "-A", "RATE_LIMIT=3"] : [];
        const srv = await startServer(runtime, [EXAMPLE(ext), ...LOCAL, "--trusted-proxies", "127.0.0.1", ...args], { env: { REDIS_SERVER: server, RATE_LIMIT: "3" } });
        const from = (client: string) => httpRequest(srv.port, "GET", "/", { headers: { "X-Forwarded-For": client } }).then((r) => r.responses[0]);
        try {
          for (const remaining of [2, 1, 0]) {
            const r = await from("192.0.2.1");
            assert.equal(r?.status, 200);
            assert.deepEqual(JSON.parse(r.body.toString()), { ok: true, remaining });
            assert.equal(r.headers["ratelimit-remaining"], String(remaining));
          }
          const limited = await from("192.0.2.1");
          assert.equal(limited?.status, 429);
          const retry = Number(limited.headers["retry-after"]);
          assert.ok(retry > 0 && retry <= 60, `Retry-After ${limited.headers["retry-after"]}`);
          assert.deepEqual(JSON.parse(limited.body.toString()), { error: "too many requests", retry_after: retry });
          assert.deepEqual(JSON.parse((await from("192.0.2.2")).body.toString()), { ok: true, remaining: 2 }, "another client counts on its own");
          assert.equal(await redisRaw(redis.port, ["GET", "ratelimit:192.0.2.1"]), "$1\r\n4\r\n");
          await redis.stop();
          const open = await from("192.0.2.1");
          assert.equal(open?.status, 200);
          assert.deepEqual(JSON.parse(open.body.toString()), { ok: true, limited: false });
          await waitForLog(srv, /ERROR: <script>: rate-limit: no count from Redis for 192\.0\.2\.1: letting the request through/);
        } finally {
          await srv.stop();
          await redis.restart();
        }
      });
    }
  });
}

for (const runtime of RUNTIMES) {
  describe(`ndb_redis through a .cfg on ${runtime}`, { skip: WAITING }, () => {
    let redis: RedisServerProcess;
    let srv: Server;
    const get = async (target: string, headers: Record<string, string> = {}) => {
      const r = (await httpRequest(srv.port, "GET", target, { headers })).responses[0];
      assert.ok(r, `no response to ${target} (stderr: ${srv.stderr()})`);
      return { status: r.status, text: r.body.toString() };
    };
    before(async () => {
      redis = await startRedis();
      srv = await startServer(runtime, [path.join(FIXTURES, "ndb-redis", "route.cfg"), ...LOCAL, "-A", `REDIS_SERVER="name=main;addr=127.0.0.1;port=${redis.port}"`]);
    });
    after(async () => {
      await srv?.stop();
      await redis?.dispose();
    });

    it("redis_cmd: 1 when done, -1 for a Redis error; $redis reads every reply type", async () => {
      const r = await get("/types");
      assert.equal(r.status, 200);
      assert.equal(
        r.text,
        [
          "s=5 OK <null>",
          "g=1 hello",
          "d=3 3",
          "l=2 3 a 7 1",
          "q=QUEUED",
          "x=2 3 b 6 WRONGTYPE Operation against a key holding the wrong kind of value",
          "n=4 <null>",
          "e=failed 6 ERR value is not an integer or out of range",
          "status=5",
          "",
        ].join("\n"),
      );
    });

    it("a variable's value stays one word of the command, whatever it holds", async () => {
      const r = await get("/words", { "X-Key": "a b", "X-Value": "c SET pwned 1" });
      assert.equal(r.text, "r=OK\ng=c SET pwned 1\npwned=0\n");
      assert.equal(await redisRaw(redis.port, ["GET", "inj:a b"]), "$13\r\nc SET pwned 1\r\n");
    });

    it("redis_pipe_cmd and redis_execute pipeline; redis_free frees", async () => {
      const r = await get("/pipe");
      assert.equal(r.text, "exec=ok\np1=<null>\np2=2\np3=6\nagain=nothing queued\nfree=never filled\n");
      await waitForLog(srv, /WARNING: ndb_redis: .*redis_execute: no pipelined commands for "main"/);
    });

    it("Redis down: -1 (the route answers 503 itself); back: it reconnects", async () => {
      assert.equal((await get("/ping")).text, "r=PONG\n");
      await redis.stop();
      assert.equal((await get("/ping")).status, 503);
      await waitForLog(srv, /ERROR: ndb_redis: .*route\.cfg:\d+: redis_cmd: redis server "main": /);
      await redis.restart();
      assert.equal((await get("/ping")).text, "r=PONG\n");
    });
  });
}
