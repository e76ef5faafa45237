// ndb_redis in-process: the RESP codec and hiredis's command rules on arbitrary
// input (fast-check, seeded: MHTTPD_FC_SEED=N replays a run), the $redis parser,
// start-up errors of the cfg and of a route module's modparams, and against a
// redis-server of the test's own: pipelining and allowed_timeouts/disable_time.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { compileCfg } from "../src/cfg/program.ts";
import { CfgSyntaxError } from "../src/cfg/lexer.ts";
import { Logger } from "../src/log.ts";
import { StartupError } from "../src/errors.ts";
import { buildWords, CommandFormatError, kemiWords, parseCommandText } from "../src/modules/ndb_redis/command.ts";
import { redisAppend, redisExec, redisExecutePipe, type Caller } from "../src/modules/ndb_redis/engine.ts";
import { applyRouteModparams } from "../src/modules/modparam.ts";
import { resetNdbRedis, setNdbRedisParam } from "../src/modules/ndb_redis/params.ts";
import { encodeCommand, MAX_DEPTH, ProtocolError, ReplyReader, type RedisReply } from "../src/modules/ndb_redis/resp.ts";
import { ndbRedis } from "../src/modules/ndb_redis/servers.ts";
import { parsePv, PvError } from "../src/pv.ts";
import { freePort, redisRaw, startRedis, type RedisServerProcess } from "./_redis.ts";
import { selfSigned } from "./fixtures/tls/selfsigned.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const seed = Number(process.env.MHTTPD_FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const params = { seed, numRuns: 300 };
const bytes = (s: string) => new TextEncoder().encode(s);

/** Feed `data` to a reader cut at the given points. */
function feedInPieces(data: Uint8Array, cuts: number[]): RedisReply[] {
  const reader = new ReplyReader();
  const out: RedisReply[] = [];
  let at = 0;
  for (const c of [...new Set(cuts.map((n) => n % (data.length + 1)))].sort((a, b) => a - b).concat(data.length)) {
    out.push(...reader.feed(data.subarray(at, c)));
    at = c;
  }
  return out;
}

describe(`RESP and hiredis's command rules on arbitrary input (seed ${seed})`, () => {
  it("a command's words come back exactly, one bulk string each, however the bytes are cut", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (words, cuts) => {
        // a command is a RESP array of bulk strings, which the reply reader reads too
        const replies = feedInPieces(encodeCommand(words), cuts);
        assert.equal(replies.length, 1);
        assert.deepEqual(
          replies[0].elements!.map((e) => e.str),
          words.map((w) => new TextDecoder().decode(new TextEncoder().encode(w))),
        );
      }),
      params,
    );
  });

  it("any bytes from a server: replies or a ProtocolError, nothing else", () => {
    // random bytes, and random sequences of RESP's own pieces (which get much further)
    const pieces = ["+", "-", ":", "$", "*", "\r\n", "\r", "1", "2", "-1", "0", "x", "99999999999999", "9007199254740993"];
    const resp = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((p) => bytes(p.join("")));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), resp), fc.array(fc.nat(), { maxLength: 4 }), (data, cuts) => {
        try {
          feedInPieces(data, cuts);
        } catch (e) {
          assert.ok(e instanceof ProtocolError, String(e));
        }
      }),
      params,
    );
  });

  it("a %s parameter is always exactly one word, whatever it holds", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        assert.deepEqual(kemiWords("HSET key %s %s", [a, b]), ["HSET", "key", a, b]);
      }),
      params,
    );
  });

  it("cuts literal text at spaces only, %% is a %, a trailing % is itself", () => {
    assert.deepEqual(kemiWords("  SET   a\tb  c%%d e%", []), ["SET", "a\tb", "c%d", "e%"]);
    assert.deepEqual(kemiWords("GET pre%spost", ["-x y-"]), ["GET", "pre-x y-post"]);
    assert.deepEqual(kemiWords("SET k %s", [""]), ["SET", "k", ""]);
    assert.throws(() => kemiWords("GET %b", ["x"]), /%b.*not supported/);
    assert.throws(() => kemiWords("GET %d", ["x"]), /"%d" in the command/);
    assert.throws(() => kemiWords("GET %s", []), /1 %s for 0 parameter/);
    assert.throws(() => kemiWords("GET a", ["x"]), /0 %s for 1 parameter/);
    assert.throws(() => kemiWords("   ", []), CommandFormatError);
    // a variable's value (the cfg) stays in its word; an empty one makes no word
    const parts = parseCommandText<string>("SET k:");
    parts.push({ kind: "value", get: (v) => v });
    assert.deepEqual(buildWords(parts, [], "a b"), ["SET", "k:a b"]);
    const alone = parseCommandText<string>("GET ");
    alone.push({ kind: "value", get: (v) => v });
    assert.deepEqual(buildWords(alone, [], ""), ["GET"]);
  });

  it("reads every reply type, arrays nested, and refuses what is not RESP2", () => {
    const [st, er, int, big, str, nil, nilArr, arr] = new ReplyReader().feed(bytes("+OK\r\n-ERR no\r\n:-42\r\n:9007199254740993\r\n$3\r\na\r\n\r\n$-1\r\n*-1\r\n*2\r\n*1\r\n:1\r\n$0\r\n\r\n"));
    assert.deepEqual(st, { type: 5, str: "OK" });
    assert.deepEqual(er, { type: 6, str: "ERR no" });
    assert.deepEqual(int, { type: 3, integer: -42 });
    assert.deepEqual(big, { type: 3, integer: "9007199254740993" }, "past 2^53 an integer is its text");
    assert.deepEqual(str, { type: 1, str: "a\r\n" });
    assert.deepEqual(nil, { type: 4 });
    assert.deepEqual(nilArr, { type: 4 });
    assert.deepEqual(arr, { type: 2, elements: [{ type: 2, elements: [{ type: 3, integer: 1 }] }, { type: 1, str: "" }] });
    assert.throws(() => new ReplyReader().feed(bytes("HTTP/1.1 400\r\n")), ProtocolError);
    assert.throws(() => new ReplyReader().feed(bytes("$99999999999\r\n")), ProtocolError);
    assert.throws(() => new ReplyReader().feed(bytes("$3\r\nabcd\r\n")), /not followed by CRLF/);
    assert.throws(() => new ReplyReader().feed(bytes("*1\r\n".repeat(MAX_DEPTH + 1) + ":1\r\n")), /nested deeper/);
  });
});

describe("$redis and $redisd names", () => {
  it("parses Kamailio's keys and refuses the others at once", () => {
    for (const ok of ["r=>type", "r=>value", " r => info ", "r=>size", "r=>value[0]", "r=>type[ 2 ]", "r=>value[$var(i)]", "r=>value[0]=>value[1]=>size", "r=>value[-1]"]) parsePv(`$redis(${ok})`);
    for (const [bad, why] of [
      ["r", /expected "name=>key"/],
      ["r=>values", /unknown key/],
      ["r=>size[1]", /takes no \[index\]/],
      ["r=>type[0]=>size", /only value\[n\] leads into a nested array/],
      ["r=>value=>size", /only value\[n\] leads/],
      ["r=>value[x]", /bad index "x"/],
      ["r=>" + "value[0]=>".repeat(10) + "type", /more than 10 nested keys/],
    ] as const) {
      assert.throws(() => parsePv(`$redis(${bad})`), (e: unknown) => e instanceof PvError && why.test(e.message), bad);
    }
    assert.equal(parsePv("$redisd(rpl_sts)").get(undefined), 5);
    assert.throws(() => parsePv("$redisd(rpl_xyz)"), /unknown \$redisd name "rpl_xyz"/);
  });
});

describe("ndb_redis start-up errors", () => {
  const cfg = (body: string) => `#!KAMAILIO\nloadmodule "microhttpd.so"\nloadmodule "ndb_redis.so"\n${body}\nevent_route[microhttpd:request] {\n  exit;\n}\n`;
  const refuses = (text: string, re: RegExp) =>
    assert.throws(
      () => compileCfg("/t/redis.cfg", { text }),
      (e: unknown) => e instanceof CfgSyntaxError && re.test(e.message),
    );
  after(() => resetNdbRedis());

  it("names the modparam and what is wrong with it", () => {
    refuses(cfg('modparam("ndb_redis", "server", "name=a;addr=127.0.0.1;prot=1")'), /redis\.cfg:4:1: modparam\("ndb_redis", "server"\): unknown server attribute "prot"/);
    refuses(cfg('modparam("ndb_redis", "server", "addr=127.0.0.1")'), /a server needs a name/);
    refuses(cfg('modparam("ndb_redis", "server", "name=a")'), /server a: give addr \(with port\) or unix/);
    refuses(cfg('modparam("ndb_redis", "server", "name=a;addr=h;port=70000")'), /port="70000": expected an integer from 1 to 65535/);
    refuses(cfg('modparam("ndb_redis", "server", "name=a;sentinel_group=g;sentinel=1.2.3.4:26379")'), /Redis Sentinel is not supported/);
    refuses(cfg('modparam("ndb_redis", "server", "name=a;addr=h")\nmodparam("ndb_redis", "server", "name=a;addr=i")'), /redis\.cfg:5:1: .*server "a" is declared twice/);
    refuses(cfg('modparam("ndb_redis", "cluster", 1)'), /Redis Cluster \(MOVED redirection\) is not supported/);
    refuses(cfg('modparam("ndb_redis", "cmd_timeout", "500")'), /the parameter is an integer, got a string/);
    refuses(cfg('modparam("ndb_redis", "cmd_timeout", 0)'), /cmd_timeout: expected an integer from 1/);
    refuses(cfg('modparam("ndb_redis", "ca_path", "/nonexistent-dir")'), /ca_path "\/nonexistent-dir": .*(ENOENT|no such)/i);
    refuses(cfg('modparam("ndb_redis", "sever", "x")'), /module ndb_redis has no parameter "sever"/);
  });

  it("checks the command's %s against the parameters given, at file:line:col", () => {
    const text = cfg('modparam("ndb_redis", "server", "name=a;addr=127.0.0.1")').replace("exit;", 'redis_pipe_cmd("a", "HSET %s f %s", "$var(k)", "r");');
    refuses(text, /redis\.cfg:6:23: redis_pipe_cmd: the command has 2 %s for 1 parameter\(s\)/);
    refuses(text.replace('"HSET %s f %s"', '"GET %x"'), /redis_pipe_cmd: "%x" in the command/);
    refuses(text.replace('"HSET %s f %s"', '"HSET %s"').replace('"$var(k)", ', ""), /the command has 1 %s for 0 parameter/);
  });

  it("refuses a route module's modparams that are not [module, name, value], naming the entry", () => {
    assert.throws(() => applyRouteModparams({}, "r.ts"), /the modparams export of r\.ts: expected an array/);
    assert.throws(() => applyRouteModparams([["ndb_redis", "server"]], "r.ts"), /entry 0: expected \["module", "parameter", string or integer\]/);
    assert.throws(() => applyRouteModparams([["sqlops", "sqlcon", "x"]], "r.ts"), /module "sqlops" takes no modparams from a route module/);
    assert.throws(
      () => applyRouteModparams([["ndb_redis", "server", "name=a;addr=h"], ["ndb_redis", "connect_timeout", "9"]], "r.ts"),
      (e: unknown) => e instanceof StartupError && /entry 1 \("connect_timeout"\): connect_timeout: expected an integer/.test(e.message),
    );
  });
});

describe("ndb_redis against a live redis-server, in-process", () => {
  let redis: RedisServerProcess;
  const lines: string[] = [];
  const c: Caller = { owner: {}, logger: new Logger(3, (l) => lines.push(l)) };
  const read = (spec: string, owner: object | undefined = c.owner) => parsePv(spec).get(owner as never);
  const readOutsideRequests = (spec: string) => parsePv(spec).get(undefined);
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    resetNdbRedis();
    await redis.dispose();
  });

  it("pipelines: redis_pipe_cmd queues, redis_execute sends them in one write, replies in their containers", async () => {
    resetNdbRedis();
    setNdbRedisParam("server", `name=p;addr=127.0.0.1;port=${redis.port};db=3`);
    assert.equal(redisAppend(c, "redis_pipe_cmd", "p", ["SET", "a", "1"], "r1"), 0);
    assert.equal(redisAppend(c, "redis_pipe_cmd", "p", ["INCR", "a"], "r2"), 0);
    assert.equal(redisAppend(c, "redis_pipe_cmd", "p", ["HGET", "a", "x"], "r3"), 0);
    assert.equal(await redisExecutePipe(c, "redis_execute", "p"), 0);
    assert.equal(read("$redis(r1=>info)"), "OK");
    assert.equal(read("$redis(r2=>value)"), 2);
    assert.equal(read("$redis(r3=>type)"), 6, "an error reply in a pipeline is a reply like another");
    // nothing queued any more: -1 and a warning
    assert.equal(await redisExecutePipe(c, "redis_execute", "p"), -1);
    assert.match(lines.join("\n"), /WARNING: ndb_redis: redis_execute: no pipelined commands for "p"/);
    // redis_cmd with commands waiting runs them first
    redisAppend(c, "redis_pipe_cmd", "p", ["INCR", "a"], "r4");
    assert.equal(await redisExec(c, "redis_cmd", "p", ["GET", "a"], "r5"), 0);
    assert.equal(read("$redis(r4=>value)"), 3);
    assert.equal(read("$redis(r5=>value)"), "3");
    assert.match(lines.join("\n"), /NOTICE: ndb_redis: redis_cmd: commands of redis_pipe_cmd are waiting/);
    // the containers are per request, and outside requests per process
    assert.equal(read("$redis(r5=>value)", {}), null);
    assert.equal(await redisExec({ ...c, owner: undefined }, "redis_cmd", "p", ["DBSIZE"], "n"), 0);
    assert.equal(readOutsideRequests("$redis(n=>value)"), 1);
    assert.equal(read("$redis(n=>value)"), null);
    // db=3 was selected: db 0 has no key "a"
    assert.equal(await redisRaw(redis.port, ["EXISTS", "a"]), ":0\r\n");
    // at most 1000 waiting
    for (let i = 0; i < 1000; i++) redisAppend(c, "redis_pipe_cmd", "p", ["PING"], "x");
    assert.equal(redisAppend(c, "redis_pipe_cmd", "p", ["PING"], "x"), -1);
    assert.equal(await redisExecutePipe(c, "redis_execute", "p"), 0);
    assert.equal(read("$redis(x=>info)"), "PONG");
  });

  it("allowed_timeouts and disable_time: past the allowed failures the server is disabled (-2), then tried again", async () => {
    resetNdbRedis();
    const closed = await freePort();
    setNdbRedisParam("server", `name=down;addr=127.0.0.1;port=${closed}`);
    setNdbRedisParam("allowed_timeouts", 1);
    setNdbRedisParam("disable_time", 1);
    assert.equal(await redisExec(c, "redis_cmd", "down", ["PING"], "r"), -1);
    assert.equal(await redisExec(c, "redis_cmd", "down", ["PING"], "r"), -1);
    assert.match(lines.join("\n"), /WARNING: ndb_redis: redis server "down" disabled for 1 seconds after 2 failures in a row/);
    assert.equal(await redisExec(c, "redis_cmd", "down", ["PING"], "r"), -2);
    assert.equal(ndbRedis.servers.get("down")!.failures, 2);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await redisExec(c, "redis_cmd", "down", ["PING"], "r"), -1, "tried again once disable_time passed");
    assert.match(lines.join("\n"), /NOTICE: ndb_redis: redis server "down" re-enabled/);
  });
});

describe("ndb_redis over TLS (tls=1, ca_path), in-process", () => {
  it("talks to a TLS-only redis-server whose certificate ca_path trusts; without it, -1 and the TLS error", async () => {
    const cert = selfSigned("localhost");
    const redis = await startRedis({ tls: cert });
    const caDir = mkdtempSync(path.join(os.tmpdir(), "mhttpd-ca-"));
    writeFileSync(path.join(caDir, "redis.pem"), cert.cert);
    const lines: string[] = [];
    const c: Caller = { owner: {}, logger: new Logger(3, (l) => lines.push(l)) };
    try {
      resetNdbRedis();
      setNdbRedisParam("server", `name=t;addr=localhost;port=${redis.port};tls=1`);
      assert.equal(await redisExec(c, "redis_cmd", "t", ["PING"], "r"), -1, "a self-signed certificate no CA vouches for");
      assert.match(lines.join("\n"), /redis server "t": .*(self.signed|certificate|verify)/i);
      // as a route module gives it: the directory's PEM files read by the module
      applyRouteModparams([["ndb_redis", "server", `name=t;addr=localhost;port=${redis.port};tls=1`], ["ndb_redis", "ca_path", caDir]], "tls.ts");
      assert.equal(await redisExec(c, "redis_cmd", "t", ["PING"], "r"), 0);
      assert.equal(parsePv("$redis(r=>info)").get(c.owner as never), "PONG");
    } finally {
      resetNdbRedis();
      await redis.dispose();
      rmSync(caDir, { recursive: true, force: true });
    }
  });
});

