// Regular expressions from configuration and from requests (url_match, url_skip,
// the cfg =~ operator and switch regex cases) run in time linear in the text:
// a request made to trip a backtracking engine is answered at once, and so is
// everyone else's request. Also: what the ERE -> RE2 translation refuses, and
// where that error is reported.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES, RUNTIMES, rawRequest, runToExit, sleep, startServer, type RawResult, type Server } from "./_harness.ts";

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

    it("a back-reference in url_match is a start-up error naming the parameter, its source and value", async () => {
      const r = await runToExit(runtime, ["--url-match", "^/(a)\\1"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr.trim(), /^mhttpd: invalid url_match "\^\/\(a\)\\\\1" \(from --url-match\): back-reference \\1 at character 6 is not supported/);
    });
  });
}
