// cfg routes that suspend, without a server: a route that can reach a function
// that waits (sleep, usleep, route_if_exists to such a route ...) is compiled to
// closures that return a promise only where one appeared. Every statement kind
// and expression suspends and resumes with Kamailio's rules intact (flags, $rc,
// return codes, the while limit, route nesting); two requests suspended in one
// route keep their own $var and $rc; sleep honours the request's abort signal.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { FUNCTIONS } from "../src/cfg/functions.ts";
import { compileCfg } from "../src/cfg/index.ts";
import { varStore } from "../src/pv.ts";
import { Logger } from "../src/log.ts";
import { moduleTimers, parseExec, parseTimer, TimerScheduler } from "../src/modules/rtimer.ts";
import { evalBody, fakeContext, makeSuspendingRunner } from "./fixtures/cfg/_run.ts";
import "./_libraries.ts";

const reply = (v: string) => `mhttpd_reply("200", "OK", "text/plain", "${v}");`;
/** the body of one run of `route` (the event route's statements) */
const run = async (route: string, url = "/") => (await makeSuspendingRunner(route)({ url })).body;

describe("cfg suspension: only what can reach a waiting function is compiled to suspend", () => {
  it("a route with no waiting function answers within the call; one whose waiting branch is not taken too", async () => {
    const plain = await makeSuspendingRunner(`$var(x) = 1;\n${reply("plain")}`)();
    assert.equal(plain.suspended, false);
    const r = makeSuspendingRunner(`if ($mhttpd(url) == "/slow") { usleep(1000); }\n${reply("$mhttpd(url)")}`);
    const fast = await r({ url: "/fast" });
    assert.deepEqual([fast.suspended, fast.body], [false, "/fast"]);
    const slow = await r({ url: "/slow" });
    assert.deepEqual([slow.suspended, slow.body], [true, "/slow"]);
  });

  it("a route called by route() suspends its caller; a route called by a name known only at run time too", async () => {
    const routes = `route[SLOW] { usleep(1000); return 3; }\nroute[FAST] { return 4; }`;
    const wrap = (body: string) => `loadmodule "pv.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n${body}\n}\n${routes}\n`;
    const r = makeSuspendingRunner(wrap(`$var(r) = "FAST";\nroute($var(r));\n$var(a) = $rc;\nroute(SLOW);\n${reply("$var(a) $rc")}`), { wrap: false });
    const out = await r();
    assert.deepEqual([out.body, out.suspended], ["4 3", true]);
    const viaName = await makeSuspendingRunner(wrap(`route_if_exists("SLOW");\n$var(a) = $rc;\n${reply("$var(a)")}`), { wrap: false })();
    assert.deepEqual([viaName.body, viaName.suspended], ["3", true]);
    // nothing can suspend: route_if_exists stays synchronous
    const sync = compileCfg("/x.cfg", { text: `loadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\nroute_if_exists("R");\n${reply("x")}\n}\nroute[R] { return 2; }\n` });
    const { ctx } = fakeContext();
    assert.equal(sync.event!(ctx), undefined);
    assert.equal(ctx.reply?.body, "x");
  });
});

describe("cfg suspension in every statement kind", () => {
  it("an action statement, an if condition and both branches", async () => {
    assert.equal(await run(`usleep(1000);\n${reply("after")}`), "after");
    assert.equal(await run(`if (usleep(1000)) { ${reply("yes")} } else { ${reply("no")} }`), "yes");
    const branches = `if ($mhttpd(url) == "/a") { usleep(1000); $var(x) = "a"; } else { usleep(1000); $var(x) = "b"; }\n${reply("$var(x)")}`;
    assert.equal(await run(branches, "/a"), "a");
    assert.equal(await run(branches, "/z"), "b");
  });

  it("while: a waiting condition, a waiting body, break after a wait", async () => {
    assert.equal(await run(`$var(i) = 0;\nwhile ($var(i) < 3 && usleep(1000)) { $var(i) = $var(i) + 1; }\n${reply("$var(i)")}`), "3");
    assert.equal(await run(`$var(i) = 0;\nwhile ($var(i) < 3) { usleep(1000); $var(i) = $var(i) + 1; }\n${reply("$var(i)")}`), "3");
    assert.equal(await run(`$var(i) = 0;\nwhile (1) { $var(i) = $var(i) + 1; usleep(1000); if ($var(i) == 2) { break; } }\n${reply("$var(i)")}`), "2");
  });

  it("switch: a waiting value, waiting cases falling through until break, default", async () => {
    const sw = `$var(s) = "";\nswitch ($mhttpd(url)) {\ncase "/a": usleep(1000); $var(s) = $var(s) + "a";\ncase "/b": $var(s) = $var(s) + "b"; usleep(1000); break;\ncase "/c": $var(s) = "c";\ndefault: $var(s) = $var(s) + "d";\n}\n${reply("$var(s)")}`;
    assert.equal(await run(sw, "/a"), "ab");
    assert.equal(await run(sw, "/b"), "b");
    assert.equal(await run(sw, "/c"), "cd");
    assert.equal(await run(sw, "/z"), "d");
    assert.equal(await run(`switch (usleep(1000)) { case 1: ${reply("one")} break; default: ${reply("other")} }`), "one");
  });

  it("assignment and return take a waiting expression's value", async () => {
    assert.equal(await run(`$var(r) = usleep(1000) + 41;\n${reply("$var(r)")}`), "42");
    const routes = `loadmodule "pv.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\nroute(R);\n${reply("$rc $retcode")}\n}\nroute[R] { return usleep(1000) + 6; }\n`;
    assert.equal((await makeSuspendingRunner(routes, { wrap: false })()).body, "7 7");
  });

  it("expressions: selval, unary operators, arithmetic, comparison, regex match", async () => {
    assert.equal(await run(`$var(v) = selval(usleep(1000), "t", "f");\n${reply("$var(v)")}`), "t");
    assert.equal(await run(`$var(v) = !usleep(1000);\n$var(w) = -usleep(1000);\n${reply("$var(v) $var(w)")}`), "0 -1");
    assert.equal(await run(`$var(v) = "a" + usleep(1000);\n$var(w) = (usleep(1000) == 1) + (usleep(1000) * 5);\n${reply("$var(v) $var(w)")}`), "a1 6");
    assert.equal(await run(`if (("x" + usleep(1000)) =~ "^X1$") { ${reply("match")} }`), "match");
  });

  it("&& and || short-circuit: the right side, and its wait, runs only when the left does not decide", async () => {
    const routes = (cond: string) =>
      `loadmodule "xlog.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n$vn(v) = ${cond};\n${reply("$vn(v)")}\n}\nroute[LOG] { usleep(1000); xinfo("ran"); return 1; }\n`;
    for (const [cond, value, ran] of [
      ["0 && route(LOG)", "0", false],
      ["1 || route(LOG)", "1", false],
      ["1 && route(LOG)", "1", true],
      ["0 || route(LOG)", "1", true],
    ] as const) {
      const out = await makeSuspendingRunner(routes(cond), { wrap: false })();
      assert.equal(out.body, value, cond);
      assert.equal(out.logs.includes("INFO: <script>: ran"), ran, cond);
    }
  });
});

describe("cfg control flow across a wait", () => {
  it("exit inside an awaited branch ends the route; drop after a wait drops", async () => {
    const out = await makeSuspendingRunner(`if (usleep(1000)) { ${reply("a")} exit; }\nxinfo("not reached");\n${reply("b")}`)();
    assert.deepEqual([out.body, out.logs], ["a", []]);
    assert.equal((await makeSuspendingRunner(`${reply("x")}\nusleep(1000);\ndrop;`)()).dropped, true);
  });

  it("return 0 after a wait stops the script; a function's 0 too", async () => {
    const cfg = `loadmodule "xlog.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n${reply("before")}\nroute(R);\nxinfo("not reached");\n}\nroute[R] { usleep(1000); return 0; }\n`;
    const out = await makeSuspendingRunner(cfg, { wrap: false })();
    assert.deepEqual([out.body, out.logs], ["before", []]);
  });

  it("return values through nested route() calls, $rc and $retcode after them", async () => {
    const cfg = `loadmodule "pv.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\nif (route(A)) { $var(t) = "true"; }\n${reply("$var(t) $rc")}\n}\nroute[A] { route(B); return $rc + 1; }\nroute[B] { usleep(1000); return 5; }\n`;
    assert.equal((await makeSuspendingRunner(cfg, { wrap: false })()).body, "true 6");
  });

  it("$rc holds the last waiting function's code; it starts at 1 in every run", async () => {
    const r = makeSuspendingRunner(`$var(first) = $rc;\nusleep(-1);\n$var(neg) = $rc;\nusleep(1000);\n${reply("$var(first) $var(neg) $rc")}`);
    const out = await r();
    assert.equal(out.body, "1 -1 1");
    assert.match(out.logs.join("\n"), /ERROR: <script>: .*inline\.cfg:7: usleep\(-1\): the time must be a non-negative integer/);
    assert.equal((await r()).body, "1 -1 1");
  });

  it("max_while_loops counts turns across waits", async () => {
    const cfg = `max_while_loops=5\nloadmodule "pv.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n$var(i) = 0;\nwhile (1) { usleep(1); $var(i) = $var(i) + 1; }\n${reply("$var(i)")}\n}\n`;
    const out = await makeSuspendingRunner(cfg, { wrap: false })();
    assert.equal(out.body, "5");
    assert.match(out.logs.join("\n"), /inline\.cfg:7: runaway while: more than 5 loops/);
  });

  it("route() nesting deeper than 100 across waits is an error that ends the script", async () => {
    const cfg = `loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n${reply("x")}\nroute(DEEP);\nxinfo("not reached");\n}\nroute[DEEP] { usleep(1); $var(d) = $var(d) + 1; route(DEEP); }\n`;
    varStore.delete("d");
    const out = await makeSuspendingRunner(cfg, { wrap: false })();
    assert.match(out.logs.join("\n"), /route\(DEEP\): more than 100 nested route calls/);
    assert.doesNotMatch(out.logs.join("\n"), /not reached/);
    assert.equal(varStore.get("d"), 100);
  });
});

describe("cfg runs in flight keep their own $var and $rc", () => {
  it("two requests suspended in the same route never see each other's $var or $rc; $var reaches the process when a run ends", async () => {
    // /a waits 40 ms, /b only 5: /b writes and ends while /a is suspended
    const route = `$var(who) = $mhttpd(url);\nif ($mhttpd(url) == "/a") { usleep(40000); } else { usleep(5000); is_int("$var(who)"); }\n${reply("$var(who) $rc")}`;
    const r = makeSuspendingRunner(route);
    const [a, b] = await Promise.all([r({ url: "/a" }), r({ url: "/b" })]);
    assert.equal(a.body, "/a 1");
    assert.equal(b.body, "/b -1");
    // the last run to end wins the name
    assert.equal(varStore.get("who"), "/a");
  });

  it("a run sees each $var as it was when it first used it, not a write committed meanwhile", async () => {
    varStore.set("shared", "old");
    const reader = makeSuspendingRunner(`$var(before) = $var(shared);\nusleep(30000);\n${reply("$var(before) $var(shared)")}`);
    const writer = makeSuspendingRunner(`usleep(1000);\n$var(shared) = "new";\n${reply("w")}`);
    const [read] = await Promise.all([reader(), writer()]);
    assert.equal(read.body, "old old");
    assert.equal(varStore.get("shared"), "new");
  });

  it("$shv is shared at once, as Kamailio's shared memory", async () => {
    const r = makeSuspendingRunner(`if ($mhttpd(url) == "/set") { $shv(s) = "set"; usleep(30000); } else { usleep(5000); }\n${reply("$shv(s)")}`);
    const [, seen] = await Promise.all([r({ url: "/set" }), r({ url: "/read" })]);
    assert.equal(seen.body, "set");
  });
});

describe("sleep and usleep", () => {
  it("a negative time, or a variable holding no integer, is -1 with an error naming the place; the route goes on", async () => {
    const out = await makeSuspendingRunner(`if (!sleep(-3)) { ${reply("refused $rc")} }`)();
    assert.equal(out.body, "refused -1");
    assert.match(out.logs.join("\n"), /inline\.cfg:6: sleep\(-3\): the time must be a non-negative integer/);
    const notInt = await makeSuspendingRunner(`$var(t) = "1s";\nif (!usleep("$var(t)")) { ${reply("refused $rc")} }`)();
    assert.equal(notInt.body, "refused -1");
    assert.match(notInt.logs.join("\n"), /inline\.cfg:7: usleep: 1s is not an integer/);
    assert.equal((await makeSuspendingRunner(`$var(t) = "1000";\nusleep("$var(t)");\n${reply("$rc")}`)()).body, "1");
  });

  it("the client going away ends the wait and stops the route there, with a log line naming the call", async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 20);
    const t0 = performance.now();
    const out = await makeSuspendingRunner(`xinfo("start");\nsleep(30);\nxinfo("not reached");`)({}, abort.signal);
    assert.ok(performance.now() - t0 < 10000, "the wait ended with the abort");
    assert.equal(out.logs.length, 2);
    assert.equal(out.logs[0], "INFO: <script>: start");
    assert.match(out.logs[1], /^INFO: <script>: \S+inline\.cfg:7: sleep\(\): the client went away: the route stops here$/);
  });

  it("a waiting function that rejects is logged and counts as -1", async () => {
    FUNCTIONS.test_rejects = { module: "cfgutils", doc: "test", forms: [[]], async: true, run: () => Promise.reject(new Error("boom")) };
    try {
      const out = await makeSuspendingRunner(`if (!test_rejects()) { ${reply("failed $rc")} }`)();
      assert.equal(out.body, "failed -1");
      assert.match(out.logs.join("\n"), /ERROR: <script>: .*inline\.cfg:6: test_rejects\(\): failed: boom/);
    } finally {
      delete FUNCTIONS.test_rejects;
    }
  });
});

// Every operator on values that arrive after a wait gives what it gives on the
// same values at once: each leaf L of a random expression becomes
// selval(usleep(0), L, L), which waits and then is L.
const seed = Number(process.env.MHTTPD_FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
describe(`suspending expressions equal their synchronous selves (fast-check seed ${seed})`, () => {
  after(() => varStore.delete("p"));
  const leaf = fc.oneof(fc.integer({ min: -4, max: 9 }).map(String), fc.constantFrom('"a"', '"7"', '""', '"0x1f"', "$var(p)", "$vn(nothing)", "$mhttpd(url)"));
  const ops = ["+", "-", "*", "/", "mod", "|", "&", "^", "<<", ">>", "==", "!=", "eq", "ne", "ieq", "ine", "<", ">", "<=", ">=", "&&", "||"];
  const { expr } = fc.letrec<{ expr: string[] }>((tie) => ({
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf.map((l) => [l]),
      fc.tuple(fc.constantFrom("!", "-", "~", "defined ", "(int)", "(str)"), tie("expr")).map(([op, e]) => [op, "(", ...e, ")"]),
      fc.tuple(tie("expr"), fc.constantFrom(...ops), tie("expr")).map(([l, op, r]) => ["(", ...l, ` ${op} `, ...r, ")"]),
      fc.tuple(tie("expr"), fc.constantFrom('"^a"', '"7$"', '"[0-9]"')).map(([l, re]) => ["(", ...l, " =~ ", re, ")"]),
      fc.tuple(tie("expr"), tie("expr"), tie("expr")).map(([c, a, b]) => ["selval(", ...c, ", ", ...a, ", ", ...b, ")"]),
    ),
  }));
  const isLeaf = (t: string) => /^(-?\d+|"[^"]*"|\$\w+\(\w*\)|\$mhttpd\(url\))$/.test(t);

  it("for random expressions of every operator", async () => {
    varStore.set("p", "7");
    await fc.assert(
      fc.asyncProperty(expr, async (tokens) => {
        const plain = tokens.join("");
        const waiting = tokens.map((t) => (isLeaf(t) ? `selval(usleep(0), ${t}, ${t})` : t)).join("");
        const body = (e: string) => `$vn(result) = ${e};\n${reply("$vn(result)")}`;
        const want = evalBody(body(plain), { url: "/a7" });
        const got = await makeSuspendingRunner(body(waiting))({ url: "/a7" });
        assert.equal(got.suspended, true);
        assert.equal(got.body, want, `${plain}\n${waiting}`);
      }),
      { seed, numRuns: 150 },
    );
  });
});

describe("rtimer parameters", () => {
  const cfg = (params: string, routes = "route[TICK] { xinfo(\"tick\"); }") =>
    `loadmodule "xlog.so"\nloadmodule "rtimer.so"\nloadmodule "microhttpd.so"\n${params}\nevent_route[microhttpd:request] {\n${reply("x")}\n}\n${routes}\n`;
  const errorOf = (text: string) => {
    try {
      compileCfg("/etc/t.cfg", { text });
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };

  it("timer and exec: seconds, microseconds (mode at least 1), default_interval for the timers after it", () => {
    const p = compileCfg("/etc/t.cfg", {
      text: cfg(
        'modparam("rtimer", "timer", "name=a;interval=10;mode=0;")\nmodparam("rtimer", "timer", "name=b;interval=100000u;")\n' +
          'modparam("rtimer", "default_interval", 7)\nmodparam("rtimer", "timer", "name=c;interval=0;mode=3")\nmodparam("rtimer", "exec", "timer=A;route=TICK")\nmodparam("rtimer", "exec", "timer=a;route=TICK")',
      ),
    });
    assert.deepEqual(
      p.timers.map((t) => [t.name, t.intervalMs, t.mode, t.execs.map((e) => e.route)]),
      [
        ["a", 10000, 0, ["TICK", "TICK"]],
        ["b", 100, 1, []],
        ["c", 7000, 3, []],
      ],
    );
    assert.match(p.notes.join("\n"), /t\.cfg:5:1: rtimer timer b has no exec: it runs nothing/);
  });

  it("a timer's route is compiled even when the event route never calls it; a missing one is a start-up error at the exec", () => {
    const p = compileCfg("/etc/t.cfg", { text: cfg('modparam("rtimer", "timer", "name=a;interval=1;")\nmodparam("rtimer", "exec", "timer=a;route=TICK")') });
    assert.equal(p.timerRoute("TICK").label, "route[TICK]");
    assert.match(errorOf(cfg('modparam("rtimer", "timer", "name=a;interval=1;")\nmodparam("rtimer", "exec", "timer=a;route=NOPE")')) ?? "", /t\.cfg:5:1: route\(NOPE\): no route\[NOPE\] in the configuration/);
  });

  it("bad timer and exec values are start-up errors naming the place and the value", () => {
    const bad: [string, RegExp][] = [
      ['modparam("rtimer", "exec", "timer=a;route=TICK")', /t\.cfg:4:1: rtimer exec: no timer "a" \(declare it with modparam\("rtimer", "timer", "name=a;interval=\.\.\.;"\) before the exec\)/],
      ['modparam("rtimer", "timer", "name=a;interval=1;")\nmodparam("rtimer", "timer", "name=A;interval=2;")', /t\.cfg:5:1: rtimer timer "A" is declared twice \(first at \/etc\/t\.cfg:4:1\)/],
      ['modparam("rtimer", "timer", "name=a;intervall=5;")', /rtimer timer "name=a;intervall=5;": unknown attribute "intervall" \(known: name, interval, mode\)/],
      ['modparam("rtimer", "timer", "interval=5;")', /no name/],
      ['modparam("rtimer", "timer", "name=a;interval=10s;")', /interval "10s" is not a number of seconds/],
      ['modparam("rtimer", "timer", "name=a;interval=500u;")', /interval "500u" is under 1 ms/],
      ['modparam("rtimer", "timer", "name=a;interval=9999999;")', /interval "9999999" is longer than the runtimes' timers take \(2147483 s\)/],
      ['modparam("rtimer", "timer", "name=a;interval=1;mode=-1;")', /mode "-1" is not a non-negative integer/],
      ['modparam("rtimer", "timer", "name=a;interval=1;mode=1000;")', /mode 1000: at most 256 runs per interval/],
      ['modparam("rtimer", "exec", "timer=a")', /rtimer exec "timer=a": expected "timer=NAME;route=ROUTE"/],
      ['modparam("rtimer", "default_interval", 0)', /rtimer default_interval: expected a number of seconds from 1, got 0/],
      ['modparam("rtimer", "timer", 5)', /the parameter is a string, got an integer 5/],
    ];
    for (const [params, re] of bad) assert.match(errorOf(cfg(params)) ?? "(no error)", re, params);
  });

  it("$rtimer_worker is 0 in a request", async () => {
    assert.equal(await run(reply("$rtimer_worker")), "0");
  });
});

describe("rtimer: a module's timers and where each runs", () => {
  it("export const timers is checked: an array of { name, interval, mode?, run }", () => {
    const run = () => {};
    assert.deepEqual(
      (moduleTimers([{ name: "a", interval: 0.5, run }, { name: "b", interval: "2", mode: 2, run }], "m.ts") as { name: string; intervalMs: number; mode: number }[]).map((t) => [t.name, t.intervalMs, t.mode]),
      [
        ["a", 500, 0],
        ["b", 2000, 2],
      ],
    );
    const bad: [unknown, RegExp][] = [
      [{}, /m\.ts: the exported "timers" must be an array/],
      [[{ name: "a", interval: 1 }], /timers\[0\] \(a\): run must be a function/],
      [[{ name: "", interval: 1, run }], /timers\[0\]: name must be a non-empty string/],
      [[{ name: "a", interval: 0, run }], /timers\[0\] \(a\): interval 0 is not a number of seconds from 0\.001/],
      [[{ name: "a", interval: "1x", run }], /interval "1x" is not a number of seconds/],
      [[{ name: "a", interval: 1, mode: 1.5, run }], /mode must be an integer from 0 to 256/],
      [[{ name: "a", interval: 1, run }, { name: "A", interval: 1, run }], /timers\[1\]: a second timer named "A"/],
    ];
    for (const [value, re] of bad) assert.match(String(moduleTimers(value, "m.ts")), re);
  });

  it("mode 0 and 1 run in worker 0 only; mode N runs timer worker i in server worker i mod workers", () => {
    const logger = new Logger(2, () => {});
    const t = (mode: number) => ({ name: `m${mode}`, intervalMs: 1000, mode, routes: [] });
    const slots = (workerIndex: number, workers: number) => new TimerScheduler([t(0), t(1), t(3)], logger, workerIndex, workers).size;
    assert.deepEqual([slots(0, 1)], [5]);
    assert.deepEqual([slots(0, 2), slots(1, 2)], [4, 1]);
    assert.deepEqual([slots(0, 4), slots(1, 4), slots(2, 4), slots(3, 4)], [3, 1, 1, 0]);
  });
});

describe(`rtimer's parameter parsers on arbitrary text (fast-check seed ${seed})`, () => {
  it("give a timer within the limits or a message, never an exception", () => {
    const text = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom("name", "interval", "mode", "NAME", "x", ""), fc.constantFrom("=", "", "=="), fc.string()).map(([k, eq, v]) => `${k}${eq}${v}`),
      fc.array(fc.tuple(fc.constantFrom("name", "interval", "mode"), fc.oneof(fc.string(), fc.nat().map(String), fc.nat().map((n) => `${n}u`)))).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join(";")),
    );
    fc.assert(
      fc.property(text, (t) => {
        const timer = parseTimer(t, 120);
        if (typeof timer === "string") return assert.ok(timer.length > 0);
        assert.ok(timer.name.length > 0);
        assert.ok(timer.intervalMs >= 1 && timer.intervalMs <= 2 ** 31 - 1, String(timer.intervalMs));
        assert.ok(Number.isInteger(timer.mode) && timer.mode >= 0 && timer.mode <= 256);
        const exec = parseExec(t);
        assert.ok(typeof exec === "string" || (exec.timer !== "" && exec.route !== ""));
      }),
      { seed, numRuns: 1000 },
    );
  });
});
