// Names from a route, a request or a configuration that are JavaScript's own
// property names (constructor, __proto__, toString, hasOwnProperty, ...): every
// lookup by name must find nothing for them, on every path, without a server.
// KEMI: null (or its stand-in) and one escaped error line, as Kamailio does for an
// invalid name; cfg: a start-up error at file:line:col.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { loadCfgRoute } from "../src/cfg/index.ts";
import { resolveParams } from "../src/config.ts";
import { RequestContext } from "../src/context.ts";
import { createFetchHandler } from "../src/edge.ts";
import { Ksr } from "../src/ksr.ts";
import { escapeLogLine, Logger, parseLogLevel, quote } from "../src/log.ts";
import { replyHeaderRecord } from "../src/reply.ts";
import { compileError, makeRunner } from "./fixtures/cfg/_run.ts";

const PROTO_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__"];

const tempDirs: string[] = [];
after(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function request(headers: [string, string][] = []) {
  const lines: string[] = [];
  const logger = new Logger(3, (line) => lines.push(line.replace(/^\S+ /, "")));
  const ctx = new RequestContext(new Request("http://x/p", { headers }), { remoteAddress: "127.0.0.1" }, new Uint8Array(0), logger);
  return { ksr: new Ksr(ctx, logger), lines };
}

describe("KSR.pv with names that are JavaScript property names", () => {
  const names = PROTO_NAMES.flatMap((n) => [`$mhttpd(${n})`, `$mhttpd(${n.toUpperCase()})`, `$mhttpd(${n}:x)`]);

  it("get, gete, getw, geti, getvs, getvn, is_null: the null stand-ins and one error line per call", () => {
    for (const name of names) {
      const { ksr, lines } = request();
      const got = [ksr.pv.get(name), ksr.pv.gete(name), ksr.pv.getw(name), ksr.pv.geti(name), ksr.pv.getvs(name, "d"), ksr.pv.getvn(name, 7), ksr.pv.is_null(name)];
      assert.deepEqual(got, [null, "", "<null>", 0, "d", 7, true], name);
      assert.equal(lines.length, 7, `${name}:\n${lines.join("\n")}`);
      for (const l of lines) assert.match(l, /^ERROR: <script>: pv: unknown \$mhttpd attribute "/, name);
    }
  });

  it("sets, seti, unset: false and one error line", () => {
    const { ksr, lines } = request();
    assert.deepEqual([ksr.pv.sets("$mhttpd(constructor)", "x"), ksr.pv.seti("$mhttpd(__proto__)", 1), ksr.pv.unset("$mhttpd(toString)")], [false, false, false]);
    assert.equal(lines.length, 3);
    assert.match(lines[0], /pv: cannot set "\$mhttpd\(constructor\)": unknown \$mhttpd attribute "constructor"/);
  });

  it("escapes the name in the log line", () => {
    const { ksr, lines } = request();
    assert.equal(ksr.pv.get("$mhttpd(a\nb\u001b[0m\u00e9\u2028)"), null);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /unknown \$mhttpd attribute "a\\x0ab\\x1b\[0m\u00e9\\u2028" in "\$mhttpd\(a\\x0ab/);
    assert.equal(ksr.pv.get("$nosuch\n(x)"), null);
    assert.match(lines[1], /pv: invalid pseudo-variable name "\$nosuch\\x0a\(x\)"$/);
  });

  it("headers, $var, $vn and $shv of those names are ordinary names", () => {
    const { ksr, lines } = request([["constructor", "c-value"], ["__proto__", "p-value"]]);
    assert.equal(ksr.pv.get("$mhttpd(h:constructor)"), "c-value");
    assert.equal(ksr.pv.get("$mhttpd(h:__proto__)"), "p-value");
    assert.equal(ksr.pv.get("$mhttpd(h:toString)"), null);
    assert.equal(ksr.pv.get("$mhttpd(hdrc:hasOwnProperty)"), 0);
    assert.equal(ksr.pv.get("$var(__proto__)"), 0, "$var is never null");
    assert.equal(ksr.pv.get("$vn(constructor)"), null);
    assert.equal(ksr.pv.get("$shv(toString)"), null);
    assert.ok(ksr.pv.sets("$var(__proto__)", "kept"));
    assert.ok(ksr.pv.seti("$shv(constructor)", 5));
    assert.equal(ksr.pv.get("$var(__proto__)"), "kept");
    assert.equal(ksr.pv.get("$shv(constructor)"), 5);
    assert.ok(ksr.pv.unset("$var(__proto__)") && ksr.pv.unset("$shv(constructor)"));
    assert.equal(({} as Record<string, unknown>).kept, undefined, "Object.prototype untouched");
    assert.deepEqual(lines, []);
  });

  it("KSR.log with a level named like a property logs at err", () => {
    for (const level of PROTO_NAMES) {
      const { ksr, lines } = request();
      assert.equal(ksr.log(level, "m"), 0);
      assert.deepEqual(lines, ["ERROR: <script>: m"], level);
    }
  });
});

describe("cfg names that are JavaScript property names are start-up errors", () => {
  const head = 'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "microhttpd.so"\n';

  it("pseudo-variables, transformations, functions, character classes", () => {
    for (const n of PROTO_NAMES) {
      assert.match(compileError(`xinfo("x $mhttpd(${n})");`) ?? "", new RegExp(`inline\\.cfg:6:10: unknown \\$mhttpd attribute "${n}"`), n);
      assert.match(compileError(`xinfo("$mhttpd(${n}:x)");`) ?? "", /inline\.cfg:6:8: unknown \$mhttpd attribute/, n);
      assert.match(compileError(`xinfo("$(var(x){${n}})");`) ?? "", new RegExp(`inline\\.cfg:6:\\d+: unknown transformation \\{${n}\\}`), n);
      assert.match(compileError(`${n}("x");`) ?? "", new RegExp(`inline\\.cfg:6:1: unknown function ${n}\\(\\)`), n);
      assert.match(compileError(`if ("a" =~ "[[:${n}:]]") { exit; }`) ?? "", /inline\.cfg:6:\d+: .*unknown character class/, n);
    }
  });

  it("modules, modparams and debug levels", () => {
    for (const n of PROTO_NAMES) {
      assert.match(compileError(`loadmodule "${n}.so"\n`, false) ?? "", new RegExp(`inline\\.cfg:1:12: unknown module "${n}\\.so"`), n);
      assert.match(compileError(`${head}modparam("microhttpd", "${n}", 1)\n`, false) ?? "", new RegExp(`inline\\.cfg:4:1: module microhttpd has no parameter "${n}"`), n);
      assert.match(compileError(`${head}modparam("xlog", "${n}", 1)\n`, false) ?? "", new RegExp(`module xlog has no parameter "${n}"`), n);
      assert.throws(() => parseLogLevel(n), /expected -5\.\.3 or one of/, n);
      assert.match(compileError(`debug="${n}"\n`, false) ?? "", /inline\.cfg:1:1: invalid debug/, n);
    }
  });

  it("#!defenv of a variable the environment does not have defines nothing", () => {
    const run = makeRunner('#!defenv X=constructor\n#!ifdef X\nmhttpd_reply("200", "OK", "", "defined");\n#!endif\nmhttpd_reply("200", "OK", "", "undefined");');
    assert.equal(run().body, "undefined");
  });

  it("$sht keys are ordinary names", () => {
    const src =
      `${head}loadmodule "htable.so"\nmodparam("htable", "htable", "t=>size=4;")\n` +
      'event_route[microhttpd:request] {\n $sht(t=>__proto__) = "p";\n mhttpd_reply("200", "OK", "", "$sht(t=>__proto__) $sht(t=>constructor)");\n}\n';
    assert.equal(makeRunner(src, { wrap: false })().body, "p <null>");
  });
});

describe("parameters and callbacks named like JavaScript properties", () => {
  it("a route's config keys and a fetch handler's params must be parameters", () => {
    for (const n of PROTO_NAMES) {
      const config = JSON.parse(`{${JSON.stringify(n)}: 1}`) as Record<string, unknown>;
      assert.throws(() => resolveParams({ route: config }), new RegExp(`unknown parameter "${n}"`), n);
      assert.throws(() => createFetchHandler({ route: () => {}, params: config }), new RegExp(`unknown parameter "${n}"`), n);
    }
  });

  it("event_callback names an exported function, not an inherited one", async () => {
    const fn = () => {};
    for (const n of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
      assert.throws(() => createFetchHandler({ route: { default: fn }, params: { event_callback: n } }), new RegExp(`no function for event_callback "${n}"`), n);
    }
    const dir = mkdtempSync(path.join(tmpdir(), "mhttpd-names-"));
    tempDirs.push(dir);
    writeFileSync(path.join(dir, "kemi.js"), "function ksr_request_route() {}\n");
    writeFileSync(path.join(dir, "k.cfg"), 'loadmodule "app_jsdt.so"\nloadmodule "microhttpd.so"\nmodparam("app_jsdt", "load", "kemi.js")\n');
    const route = await loadCfgRoute(pathToFileURL(path.join(dir, "k.cfg")).href);
    for (const n of ["toString", "constructor", "valueOf"]) assert.throws(() => route.callback(n), new RegExp(`event_callback "${n}": no such function`), n);
  });

  it("reply headers named like properties are headers like any other", () => {
    const reply = { status: 200, ctype: "text/plain", body: "x" };
    const record = replyHeaderRecord({
      reply,
      headers: [
        ["constructor", "c"],
        ["toString", "t"],
        ["__proto__", "p"],
      ],
      close: false,
      obsText: false,
    });
    assert.deepEqual(Object.entries(record), [
      ["constructor", "c"],
      ["tostring", "t"],
      ["__proto__", "p"],
      ["content-type", "text/plain"],
    ]);
  });
});

describe("quote", () => {
  it("escapes the quote and the backslash, leaves controls to the log line's escaping, cuts long values", () => {
    assert.equal(quote('a "b" \\c'), '"a \\"b\\" \\\\c"');
    assert.equal(quote("\r\n\t\u0000\u007f\u00a0\u{1f600}"), '"\r\n\t\u0000\u007f\u00a0\u{1f600}"');
    assert.equal(escapeLogLine(quote("a\nb\u0085")), '"a\\x0ab\\x85"');
    assert.equal(quote("x".repeat(300)), `"${"x".repeat(200)}"... (300 characters)`);
  });
});
