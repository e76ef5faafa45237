// The request target's normalization (src/target.ts) against whatwg-url, the WHATWG
// URL standard's reference implementation: in-process, over generated targets (the
// fuzz suite checks the same live, through each runtime). fast-check, seeded; the
// seed is printed on failure (MHTTPD_FC_SEED=N replays).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { URL as WhatwgUrl } from "whatwg-url";
import { targetOf } from "../src/target.ts";

const SEED = Number(process.env.MHTTPD_FC_SEED ?? 20261130);

/** path and query as the standard gives them; "?" kept when the target had one */
function reference(target: string): string {
  const u = new WhatwgUrl("http://h" + target);
  const hadQuery = target.replace(/[\u0000-\u0020]+$/, "").replace(/[\t\n\r]/g, "").split("#")[0].includes("?");
  return u.pathname + (hadQuery ? "?" + u.search.slice(1) : "");
}

const check = (arb: fc.Arbitrary<string>, runs: number) =>
  fc.assert(
    fc.property(arb, (rest) => {
      const target = "/" + rest;
      assert.equal(targetOf("http://h" + target), reference(target), JSON.stringify(target));
    }),
    { numRuns: runs, seed: SEED, verbose: 1 },
  );

describe("the request target against the WHATWG URL standard (whatwg-url)", () => {
  it("agrees on what the runtimes' URL classes get wrong", () => {
    for (const t of ["/static/.a/../../etc/passwd", "//.a/..", "/a/C:/../x", "/a/%2e%2E/b", "/a\\b/../c", "/x#y", '/p?a="<>`{}\'', "/é/€?é=😀", "/a/./b/.", "/..", "/a?", "/a?b#c?d"]) {
      assert.equal(targetOf("http://h" + t), reference(t), t);
    }
  });

  it("agrees on generated targets made of the characters that matter", () => {
    const parts = fc.constantFrom("/", ".", "..", "%2e", "%2E", "\\", "?", "#", "a", " ", '"', "'", "<", "`", "{", "é", "😀", "%", "%41", "\u0001", "\u007f", "\ud800", "\t", "C:");
    check(fc.array(parts, { maxLength: 20 }).map((p) => p.join("")), 20000);
  });

  it("agrees on any UTF-16 string", () => {
    check(fc.string({ unit: "binary", maxLength: 30 }), 20000);
  });
});
