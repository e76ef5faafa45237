// The command line parser (src/cli.ts) on arbitrary arguments, in process: any
// argument list is parsed or refused with a ConfigError (exit 78), and a value
// holding any characters reaches its parameter or define exactly as given.
// fast-check, seeded: MHTTPD_FC_SEED=N replays a run; a failure prints its seed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseCommandLine } from "../src/cli.ts";
import { ConfigError } from "../src/errors.ts";

const seed = Number(process.env.MHTTPD_FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const params = { seed, numRuns: 500 };
/** any text, any code point: NUL, CR, LF, ":", "=", lone surrogates */
const anyText = fc.string({ unit: "binary", maxLength: 40 });

describe(`parseCommandLine on arbitrary arguments (seed ${seed})`, () => {
  it("parses any argument list or refuses it with a ConfigError, never another error", () => {
    const arg = fc.oneof(anyText, fc.constantFrom("-c", "-d", "-dd", "-A", "-f", "--", "-E", "-DD", "--modparam", "--listen-port", "--debug", "-m", "-"));
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 8 }), (argv) => {
        try {
          parseCommandLine(argv);
        } catch (e) {
          assert.ok(e instanceof ConfigError, `${(e as Error)?.name}: ${(e as Error)?.message} for ${JSON.stringify(argv)}`);
          assert.ok((e as Error).message.length > 0);
        }
      }),
      params,
    );
  });

  it("gives a parameter's value exactly as written, in each way of writing it", () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const ways = [["--listen-addr", value], [`--listen-addr=${value}`], [`--modparam=microhttpd:listen_addr:s:${value}`], ["--modparam", `microhttpd:listen_addr:s:${value}`]];
        for (const argv of ways) assert.equal(parseCommandLine(argv).values.listen_addr, value, JSON.stringify(argv));
      }),
      params,
    );
  });

  it("gives -A NAME=VALUE and a route file exactly as written", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
    fc.assert(
      fc.property(name, anyText, anyText, (n, value, file) => {
        assert.deepEqual(parseCommandLine(["-A", `${n}=${value}`]).defines, { [n]: value });
        assert.deepEqual(parseCommandLine([`-A${n}=${value}`]).defines, { [n]: value });
        assert.deepEqual(parseCommandLine(["-A", n]).defines, { [n]: "" });
        assert.equal(parseCommandLine(["-f", file]).routeFile, file);
        assert.equal(parseCommandLine(["--", file]).routeFile, file);
      }),
      params,
    );
  });

  it("an integer --modparam is a number, and anything else after i: is refused", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), anyText, (n, junk) => {
        assert.equal(parseCommandLine([`--modparam=microhttpd:listen_port:i:${n}`]).values.listen_port, n);
        if (!/^[+-]?\d+$/.test(junk)) assert.throws(() => parseCommandLine([`--modparam=microhttpd:listen_port:i:${junk}`]), ConfigError);
      }),
      params,
    );
  });

  it("-d counts on from 0, or from a --debug before it, up to 3", () => {
    fc.assert(
      fc.property(fc.option(fc.integer({ min: -5, max: 3 }), { nil: undefined }), fc.integer({ min: 1, max: 8 }), fc.boolean(), (level, count, grouped) => {
        const ds = grouped ? [`-${"d".repeat(count)}`] : Array.from({ length: count }, () => "-d");
        const argv = level === undefined ? ds : ["--debug", String(level), ...ds];
        const cli = parseCommandLine(argv);
        assert.equal(cli.values.debug, Math.min(3, (level ?? 0) + count));
        assert.equal(cli.origins.debug, "-d");
      }),
      params,
    );
  });
});
