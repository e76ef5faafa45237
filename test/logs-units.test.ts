// The escaping of log lines and access log fields, without a server: properties
// over arbitrary strings (fast-check; a failure prints the seed, and
// MHTTPD_FC_SEED=<seed> replays it) and the exact forms users will read.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { escapeClf, jsonLine } from "../src/access-log.ts";
import { escapeLogLine, L_INFO, Logger, unescapeLogLine } from "../src/log.ts";

const seed = process.env.MHTTPD_FC_SEED === undefined ? undefined : Number(process.env.MHTTPD_FC_SEED);
const runs = { seed, numRuns: 2000 };

/** What must never reach a log line raw: it ends or breaks a line for some reader. */
const LINE_BREAKERS = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/** Any code point (lone surrogates too), and strings dense in the characters that
 * matter here: backslashes, `x`/`u` after them, hex digits, line breakers. */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({ unit: fc.constantFrom("\\", "x", "u", "0", "a", "2", "8", "\n", "\r", "\0", "\x7f", "\x85", "\u2028", "\u2029", '"', " "), maxLength: 40 }),
);

/** no lone surrogate: those have no UTF-8 (TextEncoder writes U+FFFD for them) */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** escapeClf's `\xHH` back to the UTF-8 bytes they stand for, decoded. */
function unescapeClf(field: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < field.length; i++) {
    if (field[i] === "\\" && field[i + 1] === "x") {
      bytes.push(parseInt(field.slice(i + 2, i + 4), 16));
      i += 3;
    } else bytes.push(field.charCodeAt(i));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

describe("log line escaping", () => {
  it("leaves no line breaker in a line, and unescaping gives the text back (property)", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const line = escapeLogLine(text);
        assert.doesNotMatch(line, LINE_BREAKERS);
        assert.equal(unescapeLogLine(line), text);
      }),
      runs,
    );
  });

  it("writes controls as \\xNN, U+2028/U+2029 as \\uNNNN, and a backslash as itself unless it would read as an escape", () => {
    assert.equal(escapeLogLine("a\nb\r\0\t\x1b[31m\x7f\x85\x9f"), "a\\x0ab\\x0d\\x00\\x09\\x1b[31m\\x7f\\x85\\x9f");
    assert.equal(escapeLogLine("\u2028\u2029"), "\\u2028\\u2029");
    assert.equal(escapeLogLine("C:\\dir \\d+ \\"), "C:\\dir \\d+ \\", "a backslash before anything but x or u is kept");
    assert.equal(escapeLogLine("\\x0a \\u2028"), "\\x5cx0a \\x5cu2028", "text that looks like an escape does not read as one");
    assert.equal(escapeLogLine("é € 日本"), "é € 日本", "printable text outside ASCII is kept");
  });

  it("the Logger hands its sink exactly one line per message, whatever the message (property)", () => {
    fc.assert(
      fc.property(anyText, fc.string({ maxLength: 10 }), (msg, origin) => {
        const lines: string[] = [];
        new Logger(L_INFO, (line) => lines.push(line)).info(msg, origin);
        assert.equal(lines.length, 1);
        assert.doesNotMatch(lines[0], LINE_BREAKERS);
        const text = unescapeLogLine(lines[0]);
        // the one newline a script ends its format with is dropped, not escaped
        assert.ok(text.endsWith(` INFO: ${origin}: ${msg.endsWith("\n") ? msg.slice(0, -1) : msg}`), JSON.stringify(text));
      }),
      runs,
    );
  });

  it("a script's trailing newline is dropped; one inside the message is escaped", () => {
    const lines: string[] = [];
    const logger = new Logger(L_INFO, (line) => lines.push(line));
    logger.info("request: GET - url: /a\n2026-11-30T04:05:00.000Z ERROR: <core>: forged - data: []\n", "<script>");
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^\S+Z INFO: <script>: request: GET - url: \/a\\x0a2026-11-30T04:05:00\.000Z ERROR: <core>: forged - data: \[\]$/);
  });
});

describe("access log escaping", () => {
  it("common: only printable ASCII but `\"` and `\\` in a field, and the \\xHH give back the UTF-8 (property)", () => {
    fc.assert(
      fc.property(
        anyText.filter((s) => !LONE_SURROGATE.test(s)),
        (field) => {
          const out = escapeClf(field);
          assert.match(out, /^(?:[\x20-\x7e]|\\x[0-9A-F]{2})*$/);
          assert.doesNotMatch(out.replace(/\\x[0-9A-F]{2}/g, ""), /["\\]/);
          assert.equal(unescapeClf(out), field);
        },
      ),
      runs,
    );
  });

  it("common: escapes as nginx does with escape=default", () => {
    assert.equal(escapeClf('/a"b\\c\x01\x7f é'), "/a\\x22b\\x5Cc\\x01\\x7F \\xC3\\xA9");
    assert.equal(escapeClf("/plain?x=1&y=%22"), "/plain?x=1&y=%22");
  });

  it("json: one line that parses back to the same fields (property)", () => {
    fc.assert(
      fc.property(anyText, anyText, (target, client) => {
        const line = jsonLine({ client, target, status: 200 });
        assert.doesNotMatch(line, LINE_BREAKERS);
        assert.deepEqual(JSON.parse(line), { client, target, status: 200 });
      }),
      runs,
    );
  });
});
