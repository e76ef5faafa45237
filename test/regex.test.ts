// Regular expressions from configuration and from requests (url_match, url_skip,
// the cfg =~ operator and switch regex cases) run in time linear in the text:
// a request made to trip a backtracking engine is answered at once, and so is
// everyone else's request. Also: what the ERE -> RE2 translation refuses, and
// where that error is reported.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { compileEre, EreCache, EreError, RUN_TIME_PATTERN_LIMITS } from "../src/ere.ts";
import { compileError, makeRunner } from "./fixtures/cfg/_run.ts";
import { compileBacktrackingEre } from "./_ere-backtracking.ts";
import { FIXTURES, RUNTIMES, rawRequest, runToExit, sleep, startServer, type RawResult, type Server } from "./_harness.ts";
import "./_libraries.ts";

/** ([a-z0-9]+/?)* can split a run of letters in 2^n ways; a backtracking engine
 * tries them all before giving up on the "!" (on the old engine 34 bytes took 1.9 s). */
const NESTED = "([a-z0-9]+/?)*$";
const HOSTILE_TAIL = "a".repeat(60) + "!";
/** Generous: a linear engine answers in milliseconds, a backtracking one never. */
const ANSWER_WITHIN_MS = 5000;
/** Bun's engine gives up after about 0.6 s of backtracking (and answers "no
 * match"): a burst of such requests still holds everyone else up for seconds. */
const HOSTILE_BURST = 20;

function get(port: number, target: string, headers: Record<string, string> = {}): Promise<RawResult> {
  let head = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return rawRequest(port, head + "\r\n", { timeoutMs: ANSWER_WITHIN_MS });
}

/** A burst of hostile requests, each on its own connection, and while they are
 * being matched a normal one: all must be answered. */
async function hostileAndNormal(port: number, hostile: string, normal: string, headers: Record<string, string> = {}) {
  const burst = Array.from({ length: HOSTILE_BURST }, () => get(port, hostile, headers));
  await sleep(100);
  const n = await get(port, normal, headers);
  const answered = (await Promise.all(burst)).filter((h) => h.responses.length === 1);
  assert.equal(n.responses.length, 1, `no answer to ${normal} within ${ANSWER_WITHIN_MS} ms, sent during ${HOSTILE_BURST} requests for ${hostile}`);
  assert.equal(answered.length, HOSTILE_BURST, `${HOSTILE_BURST - answered.length} of ${HOSTILE_BURST} requests for ${hostile} had no answer within ${ANSWER_WITHIN_MS} ms`);
  for (const h of answered) assert.equal(h.responses[0].body.toString(), answered[0].responses[0].body.toString());
  return { hostile: answered[0].responses[0], normal: n.responses[0] };
}

for (const runtime of RUNTIMES) {
  describe(`linear-time regular expressions on ${runtime}`, () => {
    it("url_match with nested repetition: a hostile path gets its 404 and a concurrent request is answered", async () => {
      const srv = await startServer(runtime, ["--listen-addr", "127.0.0.1", "--listen-port", "0", "--url-match", "^/api/" + NESTED]);
      try {
        const r = await hostileAndNormal(srv.port, "/api/" + HOSTILE_TAIL, "/api/users/42");
        assert.equal(r.hostile.status, 404);
        assert.equal(r.normal.status, 200);
      } finally {
        await srv.stop("SIGKILL");
      }
    });

    describe("in a .cfg route", () => {
      let srv: Server;
      before(async () => {
        srv = await startServer(runtime, [path.join(FIXTURES, "cfg", "regex.cfg"), "--listen-addr", "127.0.0.1", "--listen-port", "0"]);
      });
      after(async () => {
        await srv.stop("SIGKILL");
      });

      it("=~ with a literal pattern", async () => {
        const r = await hostileAndNormal(srv.port, "/literal/" + HOSTILE_TAIL, "/literal/users/42");
        assert.equal(r.hostile.body.toString(), "literal: no match\n");
        assert.equal(r.normal.body.toString(), "literal: match\n");
      });

      it("=~ with a pattern taken from the request ($mhttpd(h:X-Re))", async () => {
        const r = await hostileAndNormal(srv.port, "/dyn/" + HOSTILE_TAIL, "/dyn/users/42", { "X-Re": "^/dyn/" + NESTED });
        assert.equal(r.hostile.body.toString(), "header: no match\n");
        assert.equal(r.normal.body.toString(), "header: match\n");
      });

      it("switch case /\"re\"", async () => {
        const r = await hostileAndNormal(srv.port, "/switch/" + HOSTILE_TAIL, "/switch/users/42");
        assert.equal(r.hostile.body.toString(), "switch: no match\n");
        assert.equal(r.normal.body.toString(), "switch: match\n");
      });

      it("a pattern from the request that cannot run (a back-reference) is false, with one error line naming it", async () => {
        const before = srv.stderr().length;
        const r = await get(srv.port, "/aa", { "X-Re": "^/(a)\\1$" });
        assert.equal(r.responses[0]?.body.toString(), "header: no match\n");
        const end = Date.now() + 3000;
        while (!/bad regular expression/.test(srv.stderr().slice(before)) && Date.now() < end) await sleep(20);
        await sleep(100);
        const lines = srv.stderr().slice(before).split("\n").filter((l) => /ERROR/.test(l));
        assert.equal(lines.length, 1, lines.join("\n"));
        assert.match(lines[0], /regex\.cfg:19: bad regular expression "\^\/\(a\)\\\\1\$": back-reference \\1 at character 6 is not supported/);
      });
    });

    // the ERE engine is loaded at start-up only for a configuration with a pattern
    // (src/on-demand.ts): each way a .cfg can have one must load it
    it("a .cfg whose only pattern is a switch regex case matches it", async () => {
      const srv = await startServer(runtime, [path.join(FIXTURES, "cfg", "regex-switch-only.cfg"), "--listen-addr", "127.0.0.1", "--listen-port", "0"]);
      try {
        assert.equal((await get(srv.port, "/switch/abc")).responses[0]?.body.toString(), "switch: match\n");
        assert.equal((await get(srv.port, "/switch/ABC")).responses[0]?.body.toString(), "switch: no match\n");
      } finally {
        await srv.stop();
      }
    });

    it("a .cfg whose only pattern is a url_match modparam keeps other targets out", async () => {
      const srv = await startServer(runtime, [path.join(FIXTURES, "cfg", "url-match-modparam.cfg"), "--listen-addr", "127.0.0.1", "--listen-port", "0"]);
      try {
        assert.equal((await get(srv.port, "/api/x")).responses[0]?.status, 200);
        assert.equal((await get(srv.port, "/other")).responses[0]?.status, 404);
      } finally {
        await srv.stop();
      }
    });

    it("a bad switch regex case stops -c, naming its place", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "mhttpd-regex-"));
      try {
        const file = path.join(dir, "bad.cfg");
        writeFileSync(file, 'loadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n\tswitch ($mhttpd(url)) {\n\t\tcase /"^/(a":\n\t\t\texit;\n\t}\n}\n');
        const r = await runToExit(runtime, [file, "-c"]);
        assert.equal(r.code, 78, `a configuration error exits 78 (EX_CONFIG); stderr: ${r.stderr}`);
        assert.match(r.stderr.trim(), /^mhttpd: .*bad\.cfg:4:\d+: bad regular expression "\^\/\(a": unmatched \( at character 3/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("a back-reference in url_match is a start-up error naming the parameter, its source and value", async () => {
      const r = await runToExit(runtime, ["--url-match", "^/(a)\\1"]);
      assert.equal(r.code, 78, "a configuration error exits 78 (EX_CONFIG)");
      assert.match(r.stderr.trim(), /^mhttpd: invalid url_match "\^\/\(a\)\\\\1" \(from --url-match\): back-reference \\1 at character 6 is not supported/);
    });
  });
}

/** fast-check's seed: fixed so that every run checks the same cases;
 * MHTTPD_FC_SEED=n explores others. A failure prints it with the counterexample. */
const FC_SEED = Number(process.env.MHTTPD_FC_SEED ?? 20261130);

function check<T>(property: fc.IProperty<T>, numRuns: number) {
  const out = fc.check(property, { seed: FC_SEED, numRuns });
  if (out.failed) assert.fail(`property failed with seed ${FC_SEED} (set MHTTPD_FC_SEED=${FC_SEED} to replay): ${fc.defaultReportMessage(out)}`);
}

describe("ERE semantics, as glibc's regcomp/regexec give them (C locale)", () => {
  // [pattern, icase, subject, expected]; every expectation was read from glibc
  // 2.36 (REG_EXTENDED | REG_NOSUB, REG_ICASE where marked) on these inputs
  const cases: [string, boolean, string, boolean | "error"][] = [
    ["[\\.]", false, "\\", true], // a backslash in a bracket is a member
    ["^[]a]+$", false, "]a", true], // "]" first is a member
    ["[^]a]", false, "]", false],
    ["[]-a]", false, "^", true], // "]" can start a range
    ["[a-]", false, "-", true],
    ["[--/]", false, ".", true],
    ["[a-z-9]", false, "-", "error"], // "-" after a range, not last
    ["[z-a]", false, "a", "error"],
    ["[[.a.]]", false, "a", true],
    ["[[.-.]]", false, "-", true],
    ["[[=a=]]", false, "a", true],
    ["[[.hyphen.]]", false, "-", "error"], // no named collating elements in the C locale
    ["[[=ab=]]", false, "a", "error"],
    ["[[:word:]]", false, "a", "error"], // not a POSIX class
    ["[[:alpha:]-z]", false, "-", "error"],
    ["[[:alpha:]", false, "a", "error"],
    ["\\d", false, "d", true], // an unknown escape is the character
    ["\\d", true, "d", false], // ...but under REG_ICASE an escaped lower-case letter matches nothing
    ["\\D", true, "d", true],
    ["[Z-a]", true, "_", "error"], // REG_ICASE upper-cases the pattern: [Z-A]
    ["[A-z]", true, "_", false],
    ["[[:upper:]]", true, "a", true],
    ["[[:lower:]]", true, "A", true],
    ["abc", true, "AbC", true],
    ["\u00e9", true, "\u00c9", false], // ASCII letters only
    ["a{,3}", false, "", true],
    ["a{,}", false, "b", true],
    ["a{}", false, "a", "error"],
    ["a{x", false, "a", "error"], // a "{" is always an interval in an ERE
    ["{1}", false, "{1}", "error"],
    ["a{2,1}", false, "a", "error"],
    ["a}", false, "a}", true],
    ["\\{", false, "{", true],
    ["a**", false, "", true],
    ["a+?", false, "", true],
    ["a{1}{2}", false, "aa", true],
    ["^*", false, "*", "error"],
    ["a|*b", false, "b", "error"],
    ["(*a)", false, "a", "error"],
    ["\\b*", false, "", "error"],
    ["(^)*", false, "x", true],
    ["x(^a)", false, "xa", false],
    ["a)", false, "a)", true], // an unmatched ")" is a literal
    ["(a", false, "a", "error"],
    ["a|", false, "b", true],
    ["()", false, "", true],
    ["", false, "x", true],
    ["a\\", false, "a", "error"],
    ["\\<a", false, "-a", true],
    ["\\<a", false, "ba", false],
    ["a\\>", false, "a-", true],
    ["a\\>", false, "ab", false],
    ["x\\`", false, "x", false],
    ["\\'x", false, "x", false],
    ["a$b", false, "a$b", false],
    ["a.b", false, "a\nb", true], // no REG_NEWLINE: "." matches a newline
    ["\\s", false, "\v", true],
    ["\\S", false, "\u00a0", true], // [:space:] of the C locale is ASCII
  ];
  for (const [pattern, icase, subject, expected] of cases) {
    it(`${JSON.stringify(pattern)}${icase ? " (icase)" : ""} on ${JSON.stringify(subject)}: ${expected}`, () => {
      if (expected === "error") {
        assert.throws(() => compileEre(pattern, icase), EreError);
        return;
      }
      assert.equal(compileEre(pattern, icase).test(subject), expected);
    });
  }

  it("refuses what RE2 cannot run, saying what and where", () => {
    assert.throws(() => compileEre("(a)(b)\\2", false), /^EreError: back-reference \\2 at character 7 is not supported/);
    assert.throws(() => compileEre("a{1001}", false), /interval \{1001\} at character 2: counts above 1000 are not supported/);
    assert.throws(() => compileEre("((a{100}){100}){100}", false), /RE2 cannot run it: invalid repeat count/);
    assert.throws(() => compileEre("(".repeat(1001) + ")".repeat(1001), false), /groups nested deeper than 1000/);
    assert.throws(() => compileEre("ab[c", false), /unmatched \[ at character 3/);
    assert.throws(() => compileEre("ab(c", false), /unmatched \( at character 3/);
    assert.throws(() => compileEre("a{x}", false), /"\{" at character 2 does not start an interval/);
  });
});

/** Small EREs from a grammar where the backtracking translation and glibc read
 * the text the same way: no "{" outside an interval, no "-" between ranges, no
 * escaped letters (REG_ICASE reads those its own way), one repetition per atom. */
const ereArbitrary = fc.letrec<{ alt: string; seq: string; term: string; atom: string; bracket: string }>((tie) => ({
  alt: fc.array(tie("seq"), { minLength: 1, maxLength: 3 }).map((seqs) => seqs.join("|")),
  seq: fc.array(tie("term"), { minLength: 0, maxLength: 4 }).map((terms) => terms.join("")),
  term: fc.oneof(
    { weight: 4, arbitrary: fc.tuple(tie("atom"), fc.constantFrom("", "", "?", "*", "+", "{2}", "{1,}", "{0,2}", "{1,3}")).map(([a, q]) => a + q) },
    { weight: 1, arbitrary: fc.constantFrom("^", "$", "\\b", "\\B", "\\<", "\\>") },
  ),
  atom: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom("a", "b", "c", "A", "B", "0", "1", "-", "_", "/", ",", " ", "}", "]", "\\.", "\\*", "\\+", "\\?", "\\(", "\\)", "\\[", "\\{", "\\}", "\\|", "\\^", "\\$", "\\\\", "\\/") },
    { weight: 2, arbitrary: fc.constantFrom(".", "\\w", "\\W", "\\s", "\\S") },
    { weight: 2, arbitrary: tie("bracket") },
    { weight: 2, depthSize: "small", arbitrary: tie("alt").map((a) => `(${a})`) },
  ),
  bracket: fc
    .tuple(
      fc.boolean(),
      fc.boolean(),
      fc.array(fc.constantFrom("a", "b", "c", "A", "0", ".", "*", "\\", "/", "|", "(", "{", "a-c", "A-C", "0-9", "[:alpha:]", "[:digit:]", "[:space:]", "[:punct:]", "[:upper:]", "[:lower:]", "[.a.]", "[=b=]"), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
    )
    .map(([negate, closeFirst, members, dashLast]) => `[${negate ? "^" : ""}${closeFirst ? "]" : ""}${members.join("")}${dashLast ? "-" : ""}]`),
}));

const subjectArbitrary = fc.string({ unit: fc.constantFrom("a", "b", "c", "A", "B", "C", "0", "1", "-", "_", "/", " ", "\n", ".", "*", "\\", "]", "[", "{", "}", "|", "(", ")", "^", "$", ",", "x"), maxLength: 10 });

describe("ERE matching: property tests (fast-check)", () => {
  it("agrees with the backtracking translation on small EREs, in both case modes", () => {
    check(
      fc.property(ereArbitrary.alt, fc.boolean(), fc.array(subjectArbitrary, { minLength: 1, maxLength: 6 }), (ere, icase, subjects) => {
        const linear = compileEre(ere, icase);
        const reference = compileBacktrackingEre(ere, icase);
        for (const s of subjects) assert.equal(linear.test(s), reference.test(s), `${JSON.stringify(ere)}${icase ? " (icase)" : ""} on ${JSON.stringify(s)}`);
      }),
      1000,
    );
  });

  it("any text as a pattern compiles or is refused with an EreError; a compiled one answers on any text", () => {
    const anyText = fc.string({ unit: "binary", maxLength: 24 });
    const eresh = fc.string({ unit: fc.constantFrom("(", ")", "[", "]", "{", "}", "\\", "^", "$", "|", "*", "+", "?", ".", "-", ",", ":", "=", "a", "1", "\u00e9", "\ud800"), maxLength: 16 });
    check(
      fc.property(fc.oneof(anyText, eresh), fc.boolean(), anyText, (ere, icase, text) => {
        let m;
        try {
          m = compileEre(ere, icase);
        } catch (err) {
          assert.ok(err instanceof EreError, `${JSON.stringify(ere)}: ${String(err)}`);
          return;
        }
        assert.equal(typeof m.test(text), "boolean");
      }),
      2000,
    );
  });
});

describe("patterns built at run time", () => {
  it("are cached once per text, at most `capacity` of them, errors included", () => {
    const cache = new EreCache(true, 8);
    const first = cache.get("^a+$");
    assert.equal(cache.get("^a+$"), first);
    for (let i = 0; i < 100; i++) cache.get(`^/x${i}/(a|b)*$`);
    for (let i = 0; i < 100; i++) assert.ok(cache.get(`(x)\\1${i}`) instanceof EreError);
    assert.equal(cache.size, 8);
    const m = cache.get("^/API/users$");
    assert.ok(!(m instanceof Error) && m.test("/api/USERS"), "REG_ICASE, as =~");
  });

  it("are refused when long or large: each cached one stays small", () => {
    const cache = new EreCache(false);
    const long = cache.get("a".repeat(RUN_TIME_PATTERN_LIMITS.maxLength + 1));
    assert.ok(long instanceof EreError);
    assert.match(long.message, /is 4097 characters long, more than the 4096 allowed for a pattern built at run time/);
    assert.equal(cache.size, 0, "not cached: its key would be the whole text");
    const large = cache.get("(.*a.*){1000}");
    assert.ok(large instanceof EreError);
    assert.match(large.message, /compiles to \d+ instructions, more than the 2000 allowed/);
    assert.ok(!(cache.get("(.*a.*){100}") instanceof Error), "a constant pattern has no such limit, nor does a smaller one");
    assert.ok(compileEre("(.*a.*){1000}", false).test("a".repeat(1000)), "a pattern from the configuration has no such limit");
  });

  it("a bad one is false and logs one line naming it, escaped (it may come from a request)", () => {
    const run = makeRunner('$var(re) = "(a)\\\\1\\n\\x1b[31m";\nif ("aa" =~ $var(re)) { xinfo("matched"); }\nmhttpd_reply("200", "OK", "text/plain", "done");');
    for (let i = 0; i < 2; i++) {
      const r = run();
      assert.equal(r.body, "done");
      assert.ok(!r.logs.some((l) => /matched/.test(l)));
      const errors = r.logs.filter((l) => /ERROR/.test(l));
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.match(errors[0], /inline\.cfg:7: bad regular expression "\(a\)\\\\1\\x0a\\x1b\[31m": back-reference \\1 at character 4 is not supported/);
    }
  });

  it("a bad literal is a start-up error at its file:line:column", () => {
    assert.match(compileError('if ("x" =~ "^(a)\\\\1$") { exit; }') ?? "", /inline\.cfg:6:12: bad regular expression "\^\(a\)\\\\1\$": back-reference \\1 at character 5/);
    assert.match(compileError('switch ($var(x)) { case /"a{2000}": exit; }') ?? "", /inline\.cfg:6:\d+: bad regular expression "a\{2000\}": interval \{2000\} at character 2: counts above 1000/);
  });
});
