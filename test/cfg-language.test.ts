// The cfg language without a server: grammar, preprocessor, typing and truth
// rules, return codes, control flow, variables, transformations, functions and
// start-up errors with file:line:column.
import { fileURLToPath } from "node:url";
import { filePathOf, fileUrlOf, resolveFrom } from "../src/cfg/host.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { compileCfg, loadCfgRoute } from "../src/cfg/index.ts";
import { RequestContext } from "../src/context.ts";
import { Logger } from "../src/log.ts";
import { pathToFileURL } from "node:url";
import { CFG_DIR } from "./fixtures/cfg/_run.ts";
import { compileEre } from "../src/ere.ts";
import { htableMemory, ITEM_OVERHEAD, table } from "../src/cfg/htable.ts";
import { compileError, evalBody, evalExpr, makeRunner } from "./fixtures/cfg/_run.ts";
import "./_libraries.ts";

/** a temporary directory, removed when the suite ends */
const tempDirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "mhttpd-cfg-"));
  tempDirs.push(dir);
  return dir;
};
after(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const reply = (v: string) => `mhttpd_reply("200", "OK", "text/plain", "${v}");`;

describe("cfg lexer: comments, strings, numbers", () => {
  it("drops #, // and nested /* */ comments", () => {
    const body = evalBody(`# a comment\n// another\n/* outer /* inner */ still comment */\n${reply("ok")} # trailing`);
    assert.equal(body, "ok");
  });
  it("double-quoted escapes, kept unknown backslashes, adjacent literals, single quotes", () => {
    assert.equal(evalExpr('"a\\tb\\x41\\101\\"q\\\\"'), 'a\tbAA"q\\');
    assert.equal(evalExpr('"\\{x\\}"'), "\\{x\\}"); // #4176: other backslashes are kept
    assert.equal(evalExpr('"ab" "cd"'), "abcd");
    assert.equal(evalExpr(`'{"k": "\\n"}'`), '{"k": "\\n"}');
  });
  it("numbers: decimal, hex, octal, binary, yes/no words", () => {
    assert.equal(evalExpr("0x10 + 010 + 101b"), String(16 + 8 + 5));
    assert.equal(evalExpr("yes + on + true + enable + no + off"), "4");
  });
});

describe("cfg preprocessor", () => {
  it("define, trydef, redefine, undef; identifiers are replaced, strings are not", () => {
    const defs = `#!KAMAILIO\n#!define CODE 201\n#!trydef CODE 500\n#!define MSG "hi"\n#!redefine MSG "hello"\n#!define GONE 1\n#!undef GONE\n`;
    const route = `$var(m) = MSG;\n#!ifdef GONE\nexit;\n#!endif\n$var(c) = CODE;\nmhttpd_reply(CODE, "OK", "text/plain", "$var(m) $var(c)");`;
    assert.equal(evalBody(defs + route), "hello 201");
    assert.match(compileError(defs + 'mhttpd_reply("CODE", "OK", "", "");') ?? "", /found "CODE"/);
    assert.match(compileError("#!define X 1\n#!define X 2") ?? "", /inline\.cfg:7:1: #!define X: already defined/);
  });
  it("ifdef / ifndef / else / endif, nested", () => {
    const src = `#!define A\n#!ifdef A\n #!ifndef B\n ${reply("A-notB")}\n #!else\n ${reply("A-B")}\n #!endif\n#!else\n ${reply("notA")}\n#!endif`;
    assert.equal(evalBody(src), "A-notB");
    assert.equal(evalBody(src.replace("#!define A", "#!define B")), "notA");
  });
  it("a define's value is re-lexed as tokens", () => {
    assert.equal(evalBody(`#!define CODE 200\n#!define REASON "Fine"\n$var(c) = CODE + 1;\nmhttpd_reply(CODE, REASON, "text/plain", "$var(c)");`), "201");
  });
  it("substdef replaces inside strings and defines the name", () => {
    assert.equal(evalBody(`#!substdefs "/TOKEN/s3cret/"\n$var(t) = TOKEN;\n${reply("tok=TOKEN var=$var(t)")}`), "tok=s3cret var=s3cret");
  });
  it("defenv reads the environment", () => {
    process.env.MHTTPD_CFG_TEST_ENV = "from-env";
    assert.equal(evalBody(`#!defenv HOME_X=MHTTPD_CFG_TEST_ENV\n$var(h) = "HOME_X";\n#!ifdef HOME_X\n${reply("set")}\n#!endif`), "set");
  });
  it("include_file and import_file are relative to the including file", () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "inc.cfg"), 'route[INC] {\n  $var(from) = "included";\n}\n');
    writeFileSync(
      path.join(dir, "main.cfg"),
      'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "microhttpd.so"\ninclude_file "inc.cfg"\nimport_file "missing.cfg"\n' +
        `event_route[microhttpd:request] {\n route(INC);\n ${reply("$var(from)")}\n}\n`,
    );
    const program = compileCfg(path.join(dir, "main.cfg"));
    assert.ok(program.event);
    writeFileSync(path.join(dir, "bad.cfg"), 'include_file "nope.cfg"\n');
    assert.throws(() => compileCfg(path.join(dir, "bad.cfg")), /bad\.cfg:1:14: cannot read include file .*nope\.cfg/);
  });
  it("unbalanced conditionals are errors", () => {
    assert.match(compileError("#!ifdef X\nexit;") ?? "", /without a matching #!endif/);
    assert.match(compileError("#!endif") ?? "", /#!endif without a matching/);
  });
});

describe("cfg expressions: typing", () => {
  it("+ follows the left operand: int adds, string concatenates, undefined concatenates", () => {
    assert.equal(evalExpr("1 + 2"), "3");
    assert.equal(evalExpr('1 + "2"'), "3");
    assert.equal(evalExpr('"1" + 2'), "12");
    assert.equal(evalExpr('$vn(undef) + "x"'), "x");
  });
  it("== follows the left operand; eq/ne force strings, ieq/ine force ints", () => {
    assert.equal(evalExpr('10 == "10"'), "1");
    assert.equal(evalExpr('"10" == 10'), "1");
    assert.equal(evalExpr('"010" == 10'), "0");
    assert.equal(evalExpr('010 == "8"'), "1");
    assert.equal(evalExpr('"abc" eq "abc"'), "1");
    assert.equal(evalExpr('"12" ieq "012"'), "1");
    assert.equal(evalExpr('"a" ne "b"'), "1");
    assert.equal(evalExpr('"5" ine 5'), "0");
  });
  it("x == $null tests definedness; defined; strlen; strempty; casts", () => {
    assert.equal(evalExpr("$mhttpd(h:X-None) == $null"), "1");
    assert.equal(evalExpr("$mhttpd(h:Host) != $null", { headers: { host: "h" } }), "1");
    assert.equal(evalExpr("defined $mhttpd(h:X-None)"), "0");
    assert.equal(evalExpr('strlen("héllo")'), "6"); // bytes, as Kamailio counts
    assert.equal(evalExpr('strempty("")'), "1");
    assert.equal(evalExpr('(int)"42abc" + 1'), "1"); // a non-number string is 0
    assert.equal(evalExpr("(str)7 + 7"), "77");
  });
  it("arithmetic, mod, bitwise operators and precedence", () => {
    assert.equal(evalExpr("2 + 3 * 4"), "14");
    assert.equal(evalExpr("(2 + 3) * 4"), "20");
    assert.equal(evalExpr("17 mod 5"), "2");
    assert.equal(evalExpr("7 / 2"), "3");
    assert.equal(evalExpr("6 & 3 | 8"), "10");
    assert.equal(evalExpr("1 << 4"), "16");
    assert.equal(evalExpr("-5 + 2"), "-3");
    assert.equal(evalExpr("5 ^ 1"), "4");
    assert.equal(evalExpr("1 < 2 && 3 >= 3"), "1");
    assert.equal(evalExpr("0 || !0"), "1");
    assert.equal(evalExpr("1 and 0 or 1"), "1");
    assert.equal(evalExpr("selval(0, \"a\", \"b\")"), "b");
  });
  it("% is not an operator: the error says to use mod", () => {
    assert.match(compileError("$var(x) = 5 % 2;") ?? "", /inline\.cfg:6:13: "%" is not an operator.*use "mod"/);
  });
  it("=~ is a case-insensitive extended regex; POSIX classes work", () => {
    assert.equal(evalExpr('"/API/users" =~ "^/api/[a-z]+$"'), "1");
    assert.equal(evalExpr('"a1" =~ "^[[:alpha:]][[:digit:]]$"'), "1");
    assert.equal(evalExpr('"a.b" =~ "^a[.]b$"'), "1");
    assert.equal(evalExpr('"axb" =~ "^a[.]b$"'), "0");
    assert.equal(evalExpr('$mhttpd(h:None) =~ "."'), "0");
    assert.equal(evalExpr('!("abc" =~ "z")'), "1");
  });
  it("a regex taken from a variable is compiled at request time; a bad one logs file and line", () => {
    const run = makeRunner('$var(re) = "([a-";\nif ("x" =~ $var(re)) { xinfo("matched"); }\n' + reply("done"));
    const r = run();
    assert.equal(r.body, "done");
    assert.ok(r.logs.some((l) => /ERROR: <script>: .*inline\.cfg:7: bad regular expression/.test(l)), r.logs.join("\n"));
  });
  it("a bad constant regex is a start-up error with its position", () => {
    assert.match(compileError('if ("x" =~ "([a-") { exit; }') ?? "", /inline\.cfg:6:12: bad regular expression/);
  });
});

describe("ERE to JavaScript", () => {
  it("bracket backslash is literal, [:classes:], ] first, \\d is a plain d", () => {
    assert.ok(compileEre("^[\\.]+$", false).test("\\."));
    assert.ok(compileEre("^[]a]+$", false).test("]a"));
    assert.ok(compileEre("^[[:space:][:upper:]]+$", false).test(" A\t"));
    assert.ok(compileEre("^\\d$", false).test("d"));
    assert.ok(compileEre("a{2}", false).test("aa"));
    assert.ok(compileEre("a.b", false).test("a\nb"));
  });
});

describe("cfg truth and return codes", () => {
  it("!, && and || use C truth (non-zero), selval too", () => {
    assert.equal(evalExpr("!(-1)"), "0");
    assert.equal(evalExpr("-1 && 2"), "1");
    assert.equal(evalExpr("0 || -3"), "1");
    assert.equal(evalExpr('selval(-1, "a", "b")'), "a");
    assert.equal(evalBody(`if (-1 && 1) { ${reply("yes")} } else { ${reply("no")} }`), "yes");
  });
  it("if is true only for values > 0", () => {
    assert.equal(evalBody(`if (-1) { ${reply("yes")} } else { ${reply("no")} }`), "no");
    assert.equal(evalBody(`if ("2") { ${reply("yes")} } else { ${reply("no")} }`), "yes");
    assert.equal(evalBody(`if ("abc") { ${reply("yes")} } else { ${reply("no")} }`), "no");
  });
  it("a function's code is in $rc; -1 is false in a condition", () => {
    const r = makeRunner(`pv_isset("$vn(nothing)");\n$var(a) = $rc;\nif (!pv_isset("$vn(nothing)")) { ${reply("unset rc=$var(a)")} }`)();
    assert.equal(r.body, "unset rc=-1");
  });
  it("route(NAME) in an expression is 1 when it returned > 0; $retcode has the value; return 0 stops the script", () => {
    const src =
      'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "microhttpd.so"\n' +
      'route[THREE] { return 3; }\nroute[ZERO] { mhttpd_reply("200", "OK", "text/plain", "from zero"); return 0; }\nroute[PLAIN] { $var(p) = 1; }\n' +
      'event_route[microhttpd:request] {\n if (route(THREE) == 1) { $var(r) = $retcode; }\n route(PLAIN);\n $var(p2) = $rc;\n' +
      ' if ($mhttpd(url) == "/zero") { route(ZERO); xinfo("not reached"); }\n mhttpd_reply("200", "OK", "text/plain", "r=$var(r) p=$var(p2)");\n}\n';
    const run = makeRunner(src, { wrap: false });
    assert.equal(run().body, "r=3 p=1");
    const z = run({ url: "/zero" });
    assert.equal(z.body, "from zero");
    assert.ok(!z.logs.some((l) => l.includes("not reached")));
  });
  it("exit stops everything, also from inside a sub-route; drop sets the drop flag", () => {
    const src =
      'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "microhttpd.so"\nroute[OUT] { exit; }\n' +
      'event_route[microhttpd:request] {\n if ($mhttpd(url) == "/drop") { drop; }\n route(OUT);\n xinfo("not reached");\n}\n';
    const run = makeRunner(src, { wrap: false });
    const r = run();
    assert.equal(r.status, undefined);
    assert.equal(r.logs.length, 0);
    assert.equal(run({ url: "/drop" }).dropped, true);
  });
  it("a second mhttpd_reply returns -1; a refused reply logs the file and line", () => {
    const r = makeRunner('mhttpd_reply("200", "OK", "text/plain", "first");\n$var(a) = $rc;\nmhttpd_reply("404", "No", "", "second");\nxinfo("rc=$var(a),$rc");')();
    assert.equal(r.body, "first");
    // the C module refuses silently; mhttpd says why (the same message as KEMI's)
    assert.equal(r.logs.length, 2);
    assert.match(r.logs[0], /ERROR: <script>: .*inline\.cfg:8: mhttpd_reply: a reply was already queued for this request \(the first one stands\)/);
    assert.equal(r.logs[1], "INFO: <script>: rc=1,-1");
    const bad = makeRunner('mhttpd_reply("99", "Low", "text/plain", "x");\nxinfo("rc=$rc");')();
    assert.equal(bad.status, undefined);
    assert.match(bad.logs[0], /ERROR: <script>: .*inline\.cfg:6: mhttpd_reply: invalid reply code 99/);
    assert.equal(bad.logs[1], "INFO: <script>: rc=-1");
  });
});

describe("cfg statements: switch, while, assignment", () => {
  const sw = makeRunner(
    '$var(o) = "";\nswitch ($mhttpd(url)) {\n case "/a":\n  $var(o) = "a";\n case "/b":\n  $var(o) = $var(o) + "b";\n  break;\n case /"^/re[0-9]+$":\n  $var(o) = "re";\n  break;\n default:\n  $var(o) = "default";\n}\n' +
      reply("$var(o)"),
  );
  it("switch on strings falls through until break", () => {
    assert.equal(sw({ url: "/a" }).body, "ab");
    assert.equal(sw({ url: "/b" }).body, "b");
  });
  it('switch with a /"regex" case and a default', () => {
    assert.equal(sw({ url: "/re42" }).body, "re");
    assert.equal(sw({ url: "/other" }).body, "default");
  });
  it("switch on integers", () => {
    assert.equal(evalBody(`switch (1 + 1) {\n case 1: ${reply("one")} break;\n case 2: ${reply("two")} break;\n}`), "two");
  });
  it("mixing int and string labels is a start-up error", () => {
    assert.match(compileError('switch ($var(x)) { case 1: break; case "a": break; }') ?? "", /inline\.cfg:6:1: switch mixes integer and string/);
  });
  it("while loops, break leaves the loop, max_while_loops stops runaways", () => {
    assert.equal(evalBody(`$var(i) = 0;\n$var(s) = "";\nwhile ($var(i) < 10) {\n $var(i) = $var(i) + 1;\n if ($var(i) == 4) { break; }\n $var(s) = $var(s) + $var(i);\n}\n${reply("$var(s)")}`), "123");
    const r = makeRunner(`$var(n) = 0;\nwhile (1) { $var(n) = $var(n) + 1; }\n${reply("$var(n)")}`)();
    assert.equal(r.body, "100");
    assert.match(r.logs[0], /runaway while/);
  });
  it("$var is never null and persists across requests; $vn can be null", () => {
    const run = makeRunner(`$var(count) = $var(count) + 1;\n$var(z) = $null;\n$vn(n) = $null;\n${reply("$var(count) z=$var(z) n=$vn(n)")}`);
    const first = Number(run().body!.split(" ")[0]);
    assert.equal(run().body, `${first + 1} z=0 n=<null>`);
  });
  it("assigning a read-only variable is a start-up error", () => {
    assert.match(compileError('$mhttpd(url) = "x";') ?? "", /inline\.cfg:6:1: cannot assign to \$mhttpd\(url\): it is read-only/);
  });
  it("string literals in expressions are not formatted; function arguments are", () => {
    assert.equal(evalBody(`$var(a) = "x";\n$var(b) = "$var(a)";\n${reply("$var(b)|$var(a)|$$")}`), "$var(a)|x|$");
  });
});

describe("cfg variables and formatted strings", () => {
  it("$mhttpd(...) attributes and headers, null prints <null>", () => {
    const body = evalBody(reply("$mhttpd(method) $mhttpd(url) $mhttpd(size) [$mhttpd(data)] $mhttpd(h:x-a) $mhttpd(H:X-Missing) $mhttpd(srcip)"), {
      method: "POST",
      url: "/p%20q?x=1",
      body: "hello",
      headers: { "X-A": "v" },
    });
    assert.equal(body, "POST /p q 5 [hello] v <null> 127.0.0.1");
  });
  it("transformations apply only in the $( ) form", () => {
    assert.equal(evalBody(`$var(s) = "Hello";\n${reply("$var(s){s.len} $(var(s){s.len}) $(var(s){s.toupper}{s.len})")}`), "Hello{s.len} 5 5");
  });
  it("$shv from modparam shvset, and $var from varset", () => {
    const src =
      'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "microhttpd.so"\nmodparam("pv", "shvset", "greeting=s:hi there")\nmodparam("pv", "varset", "num=i:41")\n' +
      'event_route[microhttpd:request] {\n $var(num) = $var(num) + 1;\n mhttpd_reply("200", "OK", "text/plain", "$shv(greeting) $var(num)");\n}\n';
    assert.equal(makeRunner(src, { wrap: false })().body, "hi there 42");
  });
  it("an unknown variable is a start-up error", () => {
    assert.match(compileError('xinfo("$ru");') ?? "", /inline\.cfg:6:8: unknown pseudo-variable/);
    assert.match(compileError('xinfo("$mhttpd(nope)");') ?? "", /unknown \$mhttpd attribute "nope"/);
  });
});

describe("cfg transformations", () => {
  const t = (value: string, tr: string) => evalBody(`$var(v) = "${value}";\n${reply(`$(var(v)${tr})`)}`);
  it("s.* string transformations", () => {
    assert.equal(t("héllo", "{s.len}"), "6");
    assert.equal(t("42", "{s.int}"), "42");
    assert.equal(t("abcdef", "{s.substr,1,3}"), "bcd");
    assert.equal(t("abcdef", "{s.substr,-2,0}"), "ef");
    assert.equal(t("a,b,c", "{s.select,1,,}"), "b");
    assert.equal(t("a:b:c", "{s.select,-1,:}"), "c");
    assert.equal(t("Basic dXNlcjpwYXNz", "{s.select,1, }{s.decode.base64}"), "user:pass");
    assert.equal(t("MiXeD", "{s.tolower}"), "mixed");
    assert.equal(t("MiXeD", "{s.toupper}"), "MIXED");
    assert.equal(t("abcdef", "{s.strip,2}"), "cdef");
    assert.equal(t("abcdef", "{s.striptail,2}"), "abcd");
    assert.equal(t("a+b+c", "{s.replace,+,%20}"), "a%20b%20c");
    assert.equal(t("  pad  ", "{s.trim}"), "pad");
    assert.equal(t("user@host", "{s.before,@}"), "user");
    assert.equal(t("user@host", "{s.after,@}"), "host");
    assert.equal(t("a-b-c", "{s.rm,-}"), "abc");
    assert.equal(t("user:pass", "{s.encode.base64}"), "dXNlcjpwYXNz");
    assert.equal(t("not base64!", "{s.decode.base64}"), "<null>");
    assert.equal(t("a b&c", "{s.urlencode.param}"), "a%20b%26c");
    assert.equal(t("a%20b+c", "{s.urldecode.param}"), "a b c");
    assert.equal(t("a%40b+c", "{s.unescape.user}"), "a@b+c");
    assert.equal(t("abc", "{s.md5}"), "900150983cd24fb0d6963f7d28e17f72");
    assert.equal(t("abc", "{s.sha256}"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(t("+1 (555) 010", "{s.numeric}"), "1555010");
  });
  it("param.value and param.count, with a separator", () => {
    assert.equal(t("a=1;b=2", "{param.value,b}"), "2");
    assert.equal(t("x=1&msisdn=555", "{param.value,msisdn,&}"), "555");
    assert.equal(t("a=1;b=2;c", "{param.count}"), "3");
  });
  it("a transformation parameter may be a variable", () => {
    assert.equal(evalBody(`$var(n) = 2;\n$var(v) = "abcdef";\n${reply("$(var(v){s.substr,$var(n),2})")}`), "cd");
  });
  it("a transformation of null is null", () => {
    assert.equal(evalBody(reply("$(mhttpd(h:X-None){s.len})")), "<null>");
  });
  it("an unknown transformation or a wrong parameter count is a start-up error", () => {
    assert.match(compileError('xinfo("$(var(x){s.nope})");') ?? "", /inline\.cfg:6:\d+: unknown transformation \{s\.nope\}/);
    assert.match(compileError('xinfo("$(var(x){s.substr,1})");') ?? "", /takes 2 parameter\(s\), got 1/);
  });
});

describe("cfg functions", () => {
  it("xlog with one, two and three arguments; x* level functions", () => {
    const r = makeRunner('xlog("one\\n");\nxlog("L_INFO", "two\\n");\nxlog("LOG_LOCAL0", "L_WARN", "three");\nxdbg("d");\nxnotice("n");\nxwarn("w");\nxerr("e");\nxcrit("c");\nxalert("a");\n$var(l) = 1;\nxlog("$var(l)", "by var");\nxlog("L_DBG", "$rc");')();
    assert.deepEqual(r.logs, [
      "ERROR: <script>: one",
      "INFO: <script>: two",
      "WARNING: <script>: three",
      "DEBUG: <script>: d",
      "NOTICE: <script>: n",
      "WARNING: <script>: w",
      "ERROR: <script>: e",
      "CRITICAL: <script>: c",
      "ALERT: <script>: a",
      "NOTICE: <script>: by var",
      "DEBUG: <script>: 1",
    ]);
  });
  it("pv_isset, pv_unset, is_int", () => {
    const body = evalBody(
      `$vn(a) = "x";\npv_unset("$vn(a)");\nif (pv_isset("$vn(a)")) { $var(r) = "set"; } else { $var(r) = "unset"; }\n$var(n) = "123";\nif (is_int("$var(n)")) { $var(r) = $var(r) + " int"; }\n$var(s) = "12a";\nif (!is_int("$var(s)")) { $var(r) = $var(r) + " notint"; }\n${reply("$var(r)")}`,
    );
    assert.equal(body, "unset int notint");
  });
  it("cfgutils: check_route_exists and route_if_exists", () => {
    const src =
      'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\nroute[HELLO] { $var(hh) = "hello"; return 2; }\n' +
      'event_route[microhttpd:request] {\n route_if_exists("HELLO");\n $var(rc) = $rc;\n if (!check_route_exists("NOPE")) { $var(hh) = $var(hh) + " nope"; }\n mhttpd_reply("200", "OK", "text/plain", "$var(hh) $var(rc)");\n}\n';
    assert.equal(makeRunner(src, { wrap: false })().body, "hello nope 2");
  });
  it("htable: $sht(table=>key) with a key from a variable, sht_rm, sht_reset, an undeclared table", () => {
    const src =
      'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "htable.so"\nloadmodule "microhttpd.so"\nmodparam("htable", "htable", "kv=>size=8;autoexpire=0;")\n' +
      'event_route[microhttpd:request] {\n $var(k) = $(mhttpd(url){s.select,1,/});\n switch ($mhttpd(method)) {\n' +
      '  case "PUT": $sht(kv=>$var(k)) = $mhttpd(data); mhttpd_reply("201", "Created", "", ""); exit;\n' +
      '  case "DELETE": sht_rm("kv", "$var(k)"); mhttpd_reply("204", "No Content", "", ""); exit;\n' +
      '  case "POST": sht_reset("kv"); mhttpd_reply("200", "OK", "", "reset"); exit;\n }\n' +
      ' if ($sht(kv=>$var(k)) == $null) { mhttpd_reply("404", "Not Found", "", "none"); exit; }\n' +
      ' mhttpd_reply("200", "OK", "text/plain", "$sht(kv=>$var(k))");\n}\n';
    const run = makeRunner(src, { wrap: false });
    assert.equal(run({ method: "PUT", url: "/a", body: "one" }).status, 201);
    assert.equal(run({ url: "/a" }).body, "one");
    assert.equal(run({ method: "DELETE", url: "/a" }).status, 204);
    assert.equal(run({ url: "/a" }).status, 404);
    run({ method: "PUT", url: "/b", body: "two" });
    run({ method: "POST", url: "/" });
    assert.equal(run({ url: "/b" }).status, 404);
    assert.match(compileError('loadmodule "htable.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] { $sht(nope=>x) = 1; }', false) ?? "", /no htable "nope"/);
  });
  it("htable attributes: unknown ones, bad values and a second declaration are start-up errors; size is clamped", () => {
    const head = 'loadmodule "htable.so"\nloadmodule "microhttpd.so"\n';
    const declare = (spec: string) => compileError(`${head}modparam("htable", "htable", "${spec}")\n`, false) ?? "";
    assert.match(declare("e1=>size=4;autoexpir=10;"), /inline\.cfg:3:1: htable "e1": unknown attribute "autoexpir" \(known: size, autoexpire, initval, updateexpire;/);
    assert.match(declare("e2=>size=big;"), /inline\.cfg:3:1: htable "e2": size "big" is not an unsigned integer/);
    assert.match(declare("e3=>autoexpire=-1;"), /htable "e3": autoexpire "-1" is not an unsigned integer/);
    assert.match(declare("e4=>initval=1.5;"), /htable "e4": initval "1\.5" is not an integer/);
    assert.match(declare("e5=>size"), /htable "e5": size "" is not an unsigned integer/);
    assert.match(declare("size=4"), /htable: expected "name=>size=\.\.\.;", found "size=4"/);
    assert.match(
      compileError(`${head}modparam("htable", "htable", "e6=>size=4;")\nmodparam("htable", "htable", "e6=>size=5;")\n`, false) ?? "",
      /inline\.cfg:4:1: htable "e6" is declared twice \(first at .*inline\.cfg:3:1\)/,
    );
    const p = compileCfg("/x/h.cfg", {
      text: `${head}modparam("htable", "htable", "s0=>size=0;")\nmodparam("htable", "htable", "s40=>size=40; dbtable=x ; dmqreplicate=1;")\nmodparam("htable", "htable", "s9=>size=9;initval=-3;updateexpire=0")\n`,
    });
    assert.deepEqual(
      ["s0", "s40", "s9"].map((n) => table(n, { file: "t", line: 1, col: 1 }).options),
      [
        { size: 3, autoexpire: 0, updateexpire: true },
        { size: 14, autoexpire: 0, updateexpire: true },
        { size: 9, autoexpire: 0, updateexpire: false, initval: -3 },
      ],
    );
    assert.ok(p.notes.some((n) => /htable s40: dbtable has no effect here/.test(n)));
  });
  it("htable autoexpire: gone for reads after its seconds, renewed by a set unless updateexpire=0, swept every timer_interval", (t) => {
    t.mock.timers.enable({ apis: ["Date", "setInterval"], now: 1_000_000 });
    const kv = (spec: string) =>
      makeRunner(
        'loadmodule "xlog.so"\nloadmodule "htable.so"\nloadmodule "microhttpd.so"\nmodparam("htable", "timer_interval", 5)\n' +
          `modparam("htable", "htable", "${spec}")\n` +
          'event_route[microhttpd:request] {\n if ($mhttpd(method) == "PUT") { $sht(T=>$mhttpd(url)) = $mhttpd(data); exit; }\n mhttpd_reply("200", "OK", "", "$sht(T=>$mhttpd(url))");\n}\n',
        { wrap: false },
      );
    const at = (seconds: number, step: () => void) => {
      t.mock.timers.tick(seconds * 1000 - (Date.now() - 1_000_000));
      step();
    };
    // updateexpire=1 (the default): each set renews the 10 s
    const renew = kv("T=>autoexpire=10;");
    const get = (run: typeof renew, k: string) => run({ url: k }).body;
    at(0, () => renew({ method: "PUT", url: "/a", body: "1" }));
    at(9, () => assert.equal(get(renew, "/a"), "1"));
    at(9, () => renew({ method: "PUT", url: "/a", body: "2" }));
    at(18, () => assert.equal(get(renew, "/a"), "2", "renewed at 9 s"));
    at(19.5, () => assert.equal(get(renew, "/a"), "<null>", "10 s after the last set"));
    // updateexpire=0: only the insert starts the 10 s
    const fixed = kv("T=>autoexpire=10;updateexpire=0;");
    const t0 = (Date.now() - 1_000_000) / 1000;
    at(t0, () => fixed({ method: "PUT", url: "/b", body: "1" }));
    at(t0 + 9, () => fixed({ method: "PUT", url: "/b", body: "2" }));
    at(t0 + 9.5, () => assert.equal(get(fixed, "/b"), "2"));
    at(t0 + 10.5, () => assert.equal(get(fixed, "/b"), "<null>", "10 s after the insert"));
    at(t0 + 11, () => fixed({ method: "PUT", url: "/b", body: "3" }));
    at(t0 + 20, () => assert.equal(get(fixed, "/b"), "3", "an expired item set again is a new insert"));
    // the timer returns the memory of items nobody reads again
    const T = table("T", { file: "t", line: 1, col: 1 });
    fixed({ method: "PUT", url: "/c", body: "x".repeat(1000) });
    fixed({ method: "PUT", url: "/d", body: "x".repeat(1000) });
    assert.equal(T.size, 3);
    const used = htableMemory.used;
    t.mock.timers.tick(15_000); // past their 10 s and one more timer_interval (5 s), no read
    assert.equal(T.size, 0, "swept");
    assert.ok(htableMemory.used <= used - 2 * 1000, `memory returned: ${used} -> ${htableMemory.used}`);
  });
  it("htable initval: a missing item reads as the integer", () => {
    const src =
      'loadmodule "xlog.so"\nloadmodule "htable.so"\nloadmodule "microhttpd.so"\nmodparam("htable", "htable", "hits=>size=8;initval=0;")\n' +
      'event_route[microhttpd:request] {\n $sht(hits=>$mhttpd(url)) = $sht(hits=>$mhttpd(url)) + 1;\n mhttpd_reply("200", "OK", "", "$sht(hits=>$mhttpd(url)) $sht(hits=>/other)");\n}\n';
    const run = makeRunner(src, { wrap: false });
    assert.equal(run({ url: "/x" }).body, "1 0");
    assert.equal(run({ url: "/x" }).body, "2 0");
    table("hits", { file: "t", line: 1, col: 1 }).clear();
  });
  it("htable memory: all tables together hold shm_mem_size MiB; a set past it fails with an error log and changes nothing", () => {
    const src =
      'shm_mem_size=1\nloadmodule "xlog.so"\nloadmodule "htable.so"\nloadmodule "microhttpd.so"\nmodparam("htable", "htable", "big=>size=4;")\n' +
      'event_route[microhttpd:request] {\n if ($mhttpd(method) == "POST") { sht_reset("big"); exit; }\n $sht(big=>$mhttpd(url)) = $mhttpd(data);\n mhttpd_reply("200", "OK", "", "after");\n}\n';
    const run = makeRunner(src, { wrap: false });
    const before = htableMemory.used;
    const body = "b".repeat(100 * 1024);
    let stored = 0;
    let refused;
    for (let i = 0; i < 20 && !refused; i++) {
      const r = run({ method: "PUT", url: `/k${i}`, body });
      assert.equal(r.body, "after", "the route goes on after a failed set");
      if (r.logs.length) refused = r.logs;
      else stored++;
    }
    assert.equal(stored, Math.floor((1024 * 1024 - before) / (body.length + ITEM_OVERHEAD + 3)));
    assert.match(refused![0], /^ERROR: <script>: .*inline\.cfg:8: cannot set \$sht\(big=>"\/k\d+"\): no more shared memory \(the htables hold shm_mem_size 1 MiB\)$/);
    assert.ok(htableMemory.used <= htableMemory.limit);
    run({ method: "POST" });
    assert.equal(htableMemory.used, before, "sht_reset returns it all");
    assert.deepEqual(run({ method: "PUT", url: "/again", body }).logs, []);
    run({ method: "POST" });
    assert.match(compileError("shm_mem_size=0\n", false) ?? "", /inline\.cfg:1:1: shm_mem_size: expected a size in MiB from 1 to 16777216/);
    compileCfg("/x/reset.cfg", { text: 'loadmodule "microhttpd.so"\n' }); // back to the default 64 MiB
    assert.equal(htableMemory.limit, 64 * 1024 * 1024);
  });
  it("jansson_get reads a JSON path from the body", () => {
    const src =
      'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "jansson.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n' +
      ' if (!jansson_get("user.name", "$mhttpd(data)", "$var(name)")) { mhttpd_reply("400", "Bad Request", "text/plain", "bad json"); exit; }\n' +
      ' jansson_get("user.tags[1]", "$mhttpd(data)", "$var(tag)");\n jansson_get("n", "$mhttpd(data)", "$var(n)");\n' +
      ' mhttpd_reply("200", "OK", "text/plain", "$var(name) $var(tag) $(var(n){s.int})");\n}\n';
    const run = makeRunner(src, { wrap: false });
    assert.equal(run({ method: "POST", body: '{"user":{"name":"ann","tags":["a","b"]},"n":41}' }).body, "ann b 41");
    assert.equal(run({ method: "POST", body: "not json" }).status, 400);
  });
  it("unknown function, wrong argument count, module not loaded, bad literal code", () => {
    assert.match(compileError("sl_send_reply(200, \"OK\");") ?? "", /inline\.cfg:6:1: unknown function sl_send_reply\(\)/);
    assert.match(compileError('xinfo("a", "b");') ?? "", /xinfo\(\) takes 1 argument\(s\), got 2/);
    assert.match(compileError('loadmodule "microhttpd.so"\nevent_route[microhttpd:request] { xinfo("x"); }', false) ?? "", /xinfo\(\) is exported by module xlog: add loadmodule "xlog.so"/);
    assert.match(compileError('mhttpd_reply("abc", "OK", "", "");') ?? "", /inline\.cfg:6:14: mhttpd_reply: expected an integer or a variable, found "abc"/);
    assert.match(compileError('xlog("BAD", "x");') ?? "", /expected a log level/);
  });
});

describe("cfg top level and start-up errors", () => {
  const head = 'loadmodule "xlog.so"\nloadmodule "microhttpd.so"\n';
  it("modparam type rule: listen_port given as a string is an error", () => {
    assert.match(compileError(`${head}modparam("microhttpd", "listen_port", "8280")\n`, false) ?? "", /inline\.cfg:3:1: modparam\("microhttpd", "listen_port", \.\.\.\): the parameter is an integer, got a string "8280"/);
  });
  it("modparams and debug become the route's parameters; listen_socket collects", () => {
    const p = compileCfg("/x/t.cfg", {
      text: `debug=3\n${head}modparam("microhttpd", "listen_port", 8284)\nmodparam("microhttpd", "listen_socket", "127.0.0.1:1")\nmodparam("microhttpd", "listen_socket", "127.0.0.1:2")\nevent_route[microhttpd:request] { exit; }\n`,
    });
    assert.deepEqual(p.config, { debug: 3, listen_port: 8284, listen_socket: ["127.0.0.1:1", "127.0.0.1:2"] });
  });
  it("a bad microhttpd value names the place", () => {
    assert.match(compileError(`${head}modparam("microhttpd", "listen_port", 70000)\n`, false) ?? "", /inline\.cfg:3:1: invalid listen_port 70000/);
  });
  it("unknown module, module not loaded, unknown parameter, unknown global", () => {
    assert.match(compileError('loadmodule "nosuch.so"\n', false) ?? "", /inline\.cfg:1:12: unknown module "nosuch\.so"/);
    assert.match(compileError('modparam("xlog", "buf_size", 1)\n', false) ?? "", /inline\.cfg:1:1: modparam for module "xlog", which is not loaded/);
    assert.match(compileError(`${head}modparam("microhttpd", "nope", 1)\n`, false) ?? "", /module microhttpd has no parameter "nope"/);
    assert.match(compileError("frobnicate=1\n", false) ?? "", /inline\.cfg:1:1: unknown global setting "frobnicate"/);
  });
  it("Kamailio core settings are accepted; SIP routes and SIP modules are ignored", () => {
    const p = compileCfg("/x/t.cfg", {
      text: `#!KAMAILIO\nchildren=1\nlog_stderror=yes\nlisten=udp:127.0.0.1:5060\nauto_aliases=no\nloadmodule "sl.so"\n${head}request_route {\n sl_send_reply("404", "x");\n exit;\n}\nevent_route[microhttpd:request] { exit; }\n`,
    });
    assert.ok(p.event);
    assert.ok(p.notes.some((n) => /children has no effect/.test(n)));
    assert.ok(p.notes.some((n) => /request_route is not run/.test(n)));
  });
  it("syntax errors name file:line:col and what was expected", () => {
    assert.match(compileError("if ($var(x) == 1 { exit; }") ?? "", /inline\.cfg:6:18: expected "\)", found "\{"/);
    assert.match(compileError('xinfo("x")') ?? "", /inline\.cfg:7:1: expected ";", found "}"/);
    assert.match(compileError('xinfo("unterminated);') ?? "", /inline\.cfg:6:7: unterminated string/);
    assert.match(compileError("route(NOWHERE);") ?? "", /inline\.cfg:6:1: route\(NOWHERE\): no route\[NOWHERE\]/);
    assert.match(compileError("$var(x) += 1;") ?? "", /"\+=" is not supported/);
    // a static reference inside a route compiled because of a dynamic route($var)
    assert.match(compileError('loadmodule "microhttpd.so"\nroute[A] { route(MISSING); }\nevent_route[microhttpd:request] { route($var(r)); }', false) ?? "", /inline\.cfg:2:12: route\(MISSING\): no route\[MISSING\]/);
  });
  it("a missing event route is an error only when the route is asked for", () => {
    const p = compileCfg("/x/t.cfg", { text: head });
    assert.equal(p.event, undefined);
  });
});

describe("cfg control flow details", () => {
  it("if/else without braces and else-if chains", () => {
    const run = makeRunner(
      'if ($mhttpd(url) == "/a") xinfo("a");\nelse if ($mhttpd(url) == "/b") xinfo("b");\nelse xinfo("other");\n' + reply("done"),
    );
    assert.deepEqual(run({ url: "/b" }).logs, ["INFO: <script>: b"]);
    assert.deepEqual(run({ url: "/z" }).logs, ["INFO: <script>: other"]);
  });
  it("route by string name and by variable; a missing dynamic route logs an error", () => {
    const src =
      'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "microhttpd.so"\nroute["NAMED"] { return 5; }\nroute[OTHER] { return 6; }\n' +
      'event_route[microhttpd:request] {\n route("NAMED");\n $var(a) = $rc;\n $var(r) = $(mhttpd(url){s.select,1,/});\n route($var(r));\n $var(b) = $rc;\n mhttpd_reply("200", "OK", "text/plain", "$var(a) $var(b)");\n}\n';
    const run = makeRunner(src, { wrap: false });
    assert.equal(run({ url: "/OTHER" }).body, "5 6");
    const missing = run({ url: "/NOPE" });
    assert.equal(missing.body, "5 -1");
    assert.match(missing.logs[0], /inline\.cfg:10: route\(NOPE\): no such route/);
  });
  it("return ends the event route; break inside if leaves the switch", () => {
    assert.deepEqual(makeRunner(`${reply("x")}\nreturn;\nxinfo("after");`)().logs, []);
    assert.equal(evalBody(`$var(s) = "";\nswitch (1) {\n case 1:\n  if (1) { break; }\n  $var(s) = "no";\n default:\n  $var(s) = $var(s) + "no";\n}\n${reply("[$var(s)]")}`), "[]");
  });
});

describe("KEMI from a .cfg", () => {
  const ctxFor = (url: string) => new RequestContext(new Request(`http://x${url}`), { remoteAddress: "127.0.0.1" }, new Uint8Array(0), new Logger(-5, () => {}));
  it("a TypeScript module: the export named by event_callback is the route", async () => {
    const route = await loadCfgRoute(pathToFileURL(path.join(CFG_DIR, "kemi-ts.cfg")).href);
    assert.equal(route.config.event_callback, "on_request");
    const ctx = ctxFor("/k");
    await route.callback("on_request")(ctx);
    assert.equal(ctx.reply?.body, "microhttpd:request /k");
    assert.throws(() => route.callback("nope"), /event_callback "nope": no such function in .*kemi-route\.ts \(functions: on_request\)/);
  });
  it("event_callback without a KEMI script, and no event route, are start-up errors", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "x.cfg"), 'loadmodule "microhttpd.so"\n');
    const route = await loadCfgRoute(pathToFileURL(path.join(dir, "x.cfg")).href);
    assert.throws(() => route.callback("fn"), /event_callback "fn" needs a KEMI script/);
    assert.throws(() => route.callback(""), /no event_route\[microhttpd:request\] block/);
  });
  it("a missing script file is a start-up error", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "x.cfg"), 'loadmodule "app_jsdt.so"\nloadmodule "microhttpd.so"\nmodparam("app_jsdt", "load", "gone.js")\n');
    await assert.rejects(loadCfgRoute(pathToFileURL(path.join(dir, "x.cfg")).href), /cannot load the KEMI script .*gone\.js .*no such file/);
  });
});

describe("cfg file helpers (src/cfg/host.ts: no node: import, for Deno's memory)", () => {
  it("resolves include and KEMI paths as path.resolve(dirname(from), name) does", () => {
    for (const [from, name] of [
      ["/etc/kamailio/kamailio.cfg", "inc/x.cfg"],
      ["/etc/kamailio/kamailio.cfg", "../y.cfg"],
      ["/etc/kamailio/kamailio.cfg", "./a/./b/../c.cfg"],
      ["/etc/kamailio/kamailio.cfg", "/abs/z.cfg"],
      ["/k.cfg", "../../up.cfg"],
      ["/srv/a b/k.cfg", "ü #1?.js"],
    ]) {
      assert.equal(resolveFrom(from, name), path.resolve(path.dirname(from), name), `${from} + ${name}`);
    }
  });

  it("turns paths into file URLs and back as node:url does", () => {
    for (const file of ["/etc/kamailio/kemi.js", "/srv/a b/ü #1?.ts", "/x/100%/y.mjs"]) {
      assert.equal(fileUrlOf(file), pathToFileURL(file).href, file);
      assert.equal(filePathOf(fileUrlOf(file)), file, file);
      assert.equal(filePathOf(pathToFileURL(file).href), fileURLToPath(pathToFileURL(file).href), file);
    }
  });
});
