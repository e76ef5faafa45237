// jansson, crypto, uuid and the pv time variables without a server: each cfg
// function's return codes and edge cases, hostile JSON (deep nesting, huge
// numbers, duplicate and prototype keys), the strftime conversions against GNU
// date's output, RFC 4231 HMAC vectors, and KSR.jansson / KSR.crypto / KSR.uuid /
// KSR.pv on the same engines. fast-check, seeded: MHTTPD_FC_SEED=N replays a run.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, afterEach, describe, it } from "node:test";
import fc from "fast-check";
import { RequestContext } from "../src/context.ts";
import { Ksr } from "../src/ksr.ts";
import { Logger } from "../src/log.ts";
import { decode, encode, formatG, MAX_DEPTH } from "../src/modules/jansson-codec.ts";
import { janssonGet, janssonSet } from "../src/modules/jansson.ts";
import { compileError, makeRunner } from "./fixtures/cfg/_run.ts";

const seed = Number(process.env.MHTTPD_FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const params = { seed, numRuns: 300 };

const HEAD = 'loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "jansson.so"\nloadmodule "crypto.so"\nloadmodule "uuid.so"\nloadmodule "microhttpd.so"\n';

/** Compile a route body (with the modules loaded) and run it once; the reply body and the logs. */
function route(body: string, req?: { body?: string }) {
  return makeRunner(`${HEAD}event_route[microhttpd:request] {\n${body}\n}\n`, { wrap: false })(req);
}
const reply = (fmt: string) => `mhttpd_reply("200", "OK", "text/plain", "${fmt}");`;
/** the body a route answers */
const answer = (body: string, req?: { body?: string }) => route(body, req).body;

const ctxOf = (logs: string[] = []) => new RequestContext(new Request("http://x/"), { remoteAddress: "127.0.0.1" }, new Uint8Array(0), new Logger(3, (l) => logs.push(l.replace(/^\S+ /, ""))));

describe("jansson_get: paths and values as Kamailio's jansson gives them", () => {
  const doc = '{"inner":{"deep":{"list":[10,11,12,13]}},"s":"abc","t":true,"f":false,"n":null,"r":3.14159,"i":-7,"big":4294967296,"max":9223372036854775807,"o":{"a":[1,{"b":2}]},"a.b":"dotted","":"empty key"}';
  const get = (path: string, json = doc) => {
    const r = route(`$vn(v) = $null;\njansson_get("${path}", '${json}', "$vn(v)");\n$var(rc) = $rc;\n${reply("$var(rc) [$vn(v)]")}`);
    return r.body;
  };
  it("documented examples: a dotted path with an index, a key", () => {
    assert.equal(get("inner.deep.list[3]"), "1 [13]");
    assert.equal(answer(`jansson_get("test", "{\\"test\\":\\"abc\\",\\"idx\\":20}", "$var(n)");\n${reply("$var(n)")}`), "abc");
  });
  it("types: text, integers (text beyond 32 bits), booleans as 1/0, null, reals as %.15g, objects and arrays as compact JSON", () => {
    assert.equal(get("s"), "1 [abc]");
    assert.equal(get("i"), "1 [-7]");
    assert.equal(get("big"), "1 [4294967296]");
    assert.equal(get("max"), "1 [9223372036854775807]");
    assert.equal(get("t"), "1 [1]");
    assert.equal(get("f"), "1 [0]");
    assert.equal(get("n"), "1 [<null>]");
    assert.equal(get("r"), "1 [3.14159]");
    assert.equal(get("o"), '1 [{"a":[1,{"b":2}]}]');
    assert.equal(get("o.a[1].b"), "1 [2]");
    assert.equal(get("inner.deep.list"), "1 [[10,11,12,13]]");
    // an integer stays an integer in the variable, a big one is text
    assert.equal(answer(`jansson_get("i", '${doc}', "$var(v)");\n$var(w) = $var(v) + 1;\njansson_get("big", '${doc}', "$var(b)");\n$var(c) = $var(b) + "x";\n${reply("$var(w) $var(c)")}`), "-6 4294967296x");
    // $var takes null as 0, $vn keeps it
    assert.equal(answer(`jansson_get("n", '${doc}', "$var(v)");\n${reply("$var(v)")}`), "0");
  });
  it("path forms of jansson_path.c: [n] at the start, chained indexes, the empty path, hex and octal indexes", () => {
    assert.equal(get("[1]", "[5,6,7]"), "1 [6]");
    assert.equal(get("[1][0]", "[5,[8,9]]"), "1 [8]");
    assert.equal(get("", "[5, 6]"), "1 [[5,6]]");
    assert.equal(get("inner.deep.list[0x2]"), "1 [12]");
    assert.equal(get("inner.deep.list[010]"), "-1 [<null>]", "010 is octal 8: out of range");
    assert.equal(get("inner.deep.list[03]"), "1 [13]");
    assert.equal(get("inner.deep.list[]"), "1 [10]", "strtol of nothing is 0");
    assert.equal(get("inner.deep.list[ 1]"), "1 [11]", "strtol skips leading space");
    assert.equal(get("a.b"), "-1 [<null>]", "a dot is a separator");
    assert.equal(get("inner..deep"), "-1 [<null>]");
    assert.equal(get("inner."), "1 [{\"deep\":{\"list\":[10,11,12,13]}}]", "a trailing dot ends the path");
  });
  it("absent paths and bad indexes fail quietly and leave dst as it was", () => {
    for (const path of ["nope", "s.x", "inner.deep.list[4]", "inner.deep.list[-1]", "inner.deep.list[1x]", "inner.deep.list[1", "inner.deep.list[1]x", "i[0]", "o.a[1]b"]) {
      const r = route(`$var(v) = "before";\njansson_get("${path}", '${doc}', "$var(v)");\n$var(rc) = $rc;\n${reply("$var(rc) $var(v)")}`);
      assert.equal(r.body, "-1 before", path);
      assert.deepEqual(r.logs, [], `${path}: no log for an absent path`);
    }
  });
  it("jansson_get_field takes the field as one key, dots and brackets included", () => {
    const field = (name: string) => answer(`$vn(v) = $null;\njansson_get_field("${name}", '${doc}', "$vn(v)");\n$var(rc) = $rc;\n${reply("$var(rc) [$vn(v)]")}`);
    assert.equal(field("a.b"), "1 [dotted]");
    assert.equal(field("s"), "1 [abc]");
    assert.equal(field("inner.deep"), "-1 [<null>]");
    assert.equal(field("[1]"), "-1 [<null>]", "a leading [ fails, as in jansson_path.c");
    assert.equal(field(""), `1 [${doc}]`, "the empty field is the whole document");
  });
});

describe("JSON from a request is hostile: jansson's rules, no crash, no prototype pollution", () => {
  const getData = (data: string, path = "a") => route(`$vn(v) = $null;\njansson_get("${path}", "$mhttpd(data)", "$vn(v)");\n$var(rc) = $rc;\n${reply("$var(rc) [$vn(v)]")}`, { body: data });
  it("refuses what jansson refuses, with an error log naming the problem and where", () => {
    const cases: [string, RegExp][] = [
      ['{"a":1,"a":2}', /duplicate object key "a" at line 1, column 8/],
      ['"just a string"', /'\[' or '\{' expected/],
      ["42", /'\[' or '\{' expected/],
      ['{"a":"x\\u0000y"}', /\\x5cu0000 is not allowed/],
      ['{"a\\u0000":1}', /NUL byte in object key/],
      ['{"a":9223372036854775808}', /too big integer/],
      ['{"a":-9223372036854775809}', /too big negative integer/],
      ['{"a":1e400}', /real number overflow/],
      ['{"a":01}', /invalid token/],
      ['{"a":1.}', /invalid token/],
      ['{"a":"\\ud800"}', /invalid Unicode '\\x5cuD800'/],
      ['{"a":"\\udc00x"}', /invalid Unicode '\\x5cuDC00'/],
      ['{"a":"tab\there"}', /control character 0x9/],
      ['{"a":1,}', /string or '\}' expected/],
      ["[1 2]", /'\]' expected/],
      ['{"a":1} x', /end of file expected/],
      ['{"a":1}\n{"b":2}', /end of file expected at line 2, column 1/],
      ["", /'\[' or '\{' expected/],
      ['{"a":tru}', /invalid token/],
    ];
    for (const [data, why] of cases) {
      const r = getData(data);
      assert.equal(r.body, "-1 [<null>]", data);
      assert.equal(r.logs.length, 1, data);
      assert.match(r.logs[0], /^ERROR: <script>: .*inline\.cfg:\d+: jansson_get: the source is not valid JSON: /, data);
      assert.match(r.logs[0], why, data);
    }
  });
  it(`nesting: ${MAX_DEPTH} levels are read, one more is refused; 200 000 levels fail cleanly`, () => {
    const nested = (n: number) => "[".repeat(n) + "]".repeat(n);
    assert.equal(getData(nested(MAX_DEPTH), "").body?.length, 4 + MAX_DEPTH * 2);
    // a scalar inside counts as one more level, as in jansson
    assert.match(getData("[".repeat(MAX_DEPTH) + "1" + "]".repeat(MAX_DEPTH), "").logs[0], /maximum parsing depth reached/);
    assert.match(getData(nested(MAX_DEPTH + 1), "").logs[0], /maximum parsing depth reached \(2048\)/);
    assert.match(getData('{"a":'.repeat(200000), "").logs[0], /maximum parsing depth reached/);
    assert.match(getData(nested(200000), "").logs[0], /maximum parsing depth reached/);
  });
  it("__proto__, constructor and toString are ordinary keys", () => {
    const r = getData('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":1},"toString":"t"}', "__proto__.polluted");
    assert.equal(r.body, "1 [yes]");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(getData('{"a":1}', "constructor").body, "-1 [<null>]");
    assert.equal(getData('{"a":1}', "__proto__").body, "-1 [<null>]");
    assert.equal(getData('{"a":1}', "toString").body, "-1 [<null>]");
    const set = answer(`$var(j) = '{"__proto__":{"x":1}}';\njansson_set("int", "__proto__.y", 2, "$var(j)");\njansson_set("str", "constructor", "c", "$var(j)");\n${reply("$var(j)")}`);
    assert.equal(set, '{"__proto__":{"x":1,"y":2},"constructor":"c"}');
    assert.equal(({} as Record<string, unknown>).y, undefined);
  });
  it("huge numbers keep every digit or are refused; never rounded", () => {
    assert.equal(getData('{"a":-9223372036854775808}').body, "1 [-9223372036854775808]");
    assert.equal(getData('{"a":[12345678901234567890]}', "a").logs.length, 1);
    assert.equal(getData('{"a":1e308}').body, "1 [1e+308]");
    assert.equal(getData('{"a":1e-400}').body, "1 [0]", "underflow is zero, as strtod gives it");
    assert.equal(getData('{"a":-0.0}').body, "1 [-0]");
    assert.equal(getData('{"a":0.1}').body, "1 [0.1]");
    assert.equal(getData('{"a":123456789012345678e3}').body, "1 [1.23456789012346e+20]");
    assert.equal(getData(`{"a":"${"x".repeat(100000)}"}`).body?.length, 100000 + 4);
  });
  it("any text: 1 or -1, never a throw; what JSON.parse refuses is refused (fast-check)", () => {
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 60 }),
      fc.json().map((j) => `{"a":${j}}`),
      fc.json().chain((j) => fc.nat(j.length).map((cut) => `[${j.slice(0, cut)}`)),
    );
    fc.assert(
      fc.property(text, fc.string({ maxLength: 8 }), (data, path) => {
        const r = janssonGet(path, data);
        let parsed = true;
        try {
          JSON.parse(data);
        } catch {
          parsed = false;
        }
        if (!parsed) assert.equal(r.ok, false, data);
      }),
      params,
    );
  });
  it("JSON it accepts comes back as the same value (fast-check)", () => {
    // jansson's refusals left out: integers beyond 64 bits, \u0000, duplicate keys (JSON.stringify makes none)
    const value = fc.jsonValue({ maxDepth: 6 }).filter((v) => !JSON.stringify(v).includes("\\u0000"));
    const safe = (v: unknown): unknown => (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v) ? 0 : Array.isArray(v) ? v.map(safe) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, safe(x)])) : v);
    fc.assert(
      fc.property(value, (v) => {
        const text = JSON.stringify({ v: safe(v) });
        const r = janssonGet("", text);
        assert.ok(r.ok, text);
        assert.deepEqual(JSON.parse(String(r.value)), JSON.parse(text));
        assert.equal(encode(decode(String(r.value))), r.value, "encoding is stable");
      }),
      params,
    );
  });
});

describe("jansson_set and jansson_append: the documented examples, then every failure", () => {
  it("builds the README's object step by step", () => {
    const body = [
      "$var(myjson) = 0;",
      'jansson_set("string", "mystr", "my input string", "$var(myjson)");',
      'jansson_set("integer", "count", 9000, "$var(myjson)");',
      'jansson_set("true", "mybool", 0, "$var(myjson)");',
      'jansson_set("real", "pi", "3.14159", "$var(myjson)");',
      'jansson_set("obj", "myobj", \'{"foo":"bar"}\', "$var(myjson)");',
      'jansson_set("str", "myobj.foo", "baz", "$var(myjson)");',
      reply("$var(myjson)"),
    ].join("\n");
    assert.equal(answer(body), '{"mystr":"my input string","count":9000,"mybool":true,"pi":3.14159,"myobj":{"foo":"baz"}}');
  });
  it("appends to arrays, puts an array in, merges objects (the later value wins, order kept)", () => {
    const body = [
      "$var(myjson) = 0;",
      "$var(myarray) = '[]';",
      '$var(i) = 0;\nwhile ($var(i) < 5) { jansson_append("int", "", $var(i), "$var(myarray)"); $var(i) = $var(i) + 1; }',
      'jansson_set("array", "list", $var(myarray), "$var(myjson)");',
      'jansson_append("int", "list", 5, "$var(myjson)");',
      "$var(newobj) = '{\"b\":2, \"c\":3}';",
      'jansson_append(\'obj\', "", \'{"a":1, "b":100}\', "$var(newobj)");',
      reply("$var(myarray) $var(myjson) $var(newobj)"),
    ].join("\n");
    assert.equal(answer(body), '[0,1,2,3,4] {"list":[0,1,2,3,4,5]} {"b":100,"c":3,"a":1}');
  });
  it("every type, nested objects made on the way, an existing index replaced", () => {
    const body = [
      "$var(j) = 0;",
      'jansson_set("null", "a.b.n", "ignored", "$var(j)");',
      'jansson_set("false", "a.f", "", "$var(j)");',
      'jansson_set("int", "a.big", "-9223372036854775808", "$var(j)");',
      'jansson_set("int", "a.empty", "", "$var(j)");',
      'jansson_set("real", "a.r", "  -1.5e3", "$var(j)");',
      'jansson_set("real", "a.whole", "2", "$var(j)");',
      'jansson_set("array", "l", "[1, 2, 3]", "$var(j)");',
      'jansson_set("str", "l[1]", "two", "$var(j)");',
      'jansson_append("int", "l[0]", 9, "$var(j)");',
      'jansson_set("str", "q", "a \\"quote\\", a \\\\ and a\\ttab, é", "$var(j)");',
      reply("$var(j)"),
    ].join("\n");
    assert.equal(answer(body), '{"a":{"b":{"n":null},"f":false,"big":-9223372036854775808,"empty":0,"r":-1500.0,"whole":2.0},"l":[9,"two",3],"q":"a \\"quote\\", a \\\\ and a\\ttab, é"}');
  });
  it("a result variable that holds no string starts as {}; one that holds other text is an error", () => {
    assert.equal(answer(`$var(j) = 5;\njansson_set("int", "x", 1, "$var(j)");\n${reply("$var(j)")}`), '{"x":1}');
    const r = route(`$var(j) = "not json";\njansson_set("int", "x", 1, "$var(j)");\n$var(rc) = $rc;\n${reply("$var(rc) $var(j)")}`);
    assert.equal(r.body, "-1 not json");
    assert.match(r.logs[0], /jansson_set: the result variable is not valid JSON: '\[' or '\{' expected at line 1, column 1/);
  });
  it("fails with -1 and an error log naming the problem, and leaves the variable as it was", () => {
    const cases: [string, RegExp][] = [
      ['jansson_set("float", "x", "1", "$var(j)")', /unknown type "float"/],
      ['jansson_set("int", "x", "12abc", "$var(j)")', /"12abc" is not an integer/],
      ['jansson_set("int", "x", "9223372036854775808", "$var(j)")', /does not fit in 64 bits/],
      ['jansson_set("real", "x", "1e400", "$var(j)")', /not a finite real number/],
      ['jansson_set("real", "x", "nan", "$var(j)")', /not a finite real number/],
      ['jansson_set("obj", "x", "[1]", "$var(j)")', /not an object/],
      ['jansson_set("array", "x", "{}", "$var(j)")', /not an array/],
      ['jansson_set("obj", "x", "{", "$var(j)")', /the obj value is not valid JSON/],
      ['jansson_set("str", "x", "a\\x00b", "$var(j)")', /NUL character is refused/],
      ['jansson_set("int", "s.x", 1, "$var(j)")', /an object was expected/],
      ['jansson_set("int", "nolist[0]", 1, "$var(j)")', /a new array is not made/],
      ['jansson_set("int", "l[5]", 1, "$var(j)")', /array index out of bounds/],
      ['jansson_set("int", "l[x]", 1, "$var(j)")', /invalid array index/],
      ['jansson_set("int", "l[0", 1, "$var(j)")', /missing '\]'/],
      ['jansson_set("int", "l[0]x.y", 1, "$var(j)")', /unexpected characters in the path/],
      ['jansson_set("int", "a..b", 1, "$var(j)")', /empty key/],
      ['jansson_set("int", "", 1, "$var(j)")', /invalid JSON path ""/],
      ['jansson_append("int", "s", 1, "$var(j)")', /an array, or an object to merge an object into, was expected/],
      ['jansson_append("int", "", 1, "$var(j)")', /an array, or an object/],
      [`jansson_set("int", "${"a.".repeat(3000)}z", 1, "$var(j)")`, /deeper than 2048 levels/],
    ];
    for (const [call, why] of cases) {
      const r = route(`$var(j) = '{"s":"text","l":[1]}';\n${call};\n$var(rc) = $rc;\n${reply("$var(rc) $var(j)")}`);
      assert.equal(r.body, '-1 {"s":"text","l":[1]}', call);
      assert.equal(r.logs.length, 1, call);
      assert.match(r.logs[0], /^ERROR: <script>: .*inline\.cfg:9: jansson_(set|append): /, call);
      assert.match(r.logs[0], why, call);
    }
  });
  it("a document nested past the bound by jansson_set is refused when written", () => {
    const deep = "[".repeat(MAX_DEPTH - 1) + "]".repeat(MAX_DEPTH - 1);
    const r = route(`$var(j) = '{}';\njansson_set("array", "a.b", '${deep}', "$var(j)");\n$var(rc) = $rc;\n${reply("$var(rc)")}`);
    assert.equal(r.body, "-1");
    assert.match(r.logs[0], /nested deeper than 2048 levels/);
    assert.equal(janssonSet("array", "a", deep, "{}", false).ok, true);
  });
});

describe("jansson_array_size", () => {
  it("counts, and drives the documented loop", () => {
    const body = [
      '$var(array) = "{\\"loopme\\":[0,1,2,3,4,5]}";',
      "$var(count) = 0;",
      '$var(out) = "";',
      'jansson_array_size("loopme", $var(array), "$var(size)");',
      'while($var(count) < $var(size)) {\n jansson_get("loopme[$var(count)]", $var(array), "$var(v)");\n $var(out) = $var(out) + $var(v);\n $var(count) = $var(count) + 1;\n}',
      reply("$var(size) $var(out)"),
    ].join("\n");
    assert.equal(answer(body), "6 012345");
    assert.equal(answer(`jansson_array_size("", "[]", "$var(n)");\n${reply("$var(n)")}`), "0");
  });
  it("-1 and an error log for invalid JSON, a missing path, a value that is not an array", () => {
    for (const [path, json, why] of [
      ["a", "{", /not valid JSON/],
      ["b", '{"a":[]}', /"b" is not in the JSON/],
      ["a", '{"a":{}}', /the value at "a" is not an array/],
    ] as const) {
      const r = route(`jansson_array_size("${path}", '${json}', "$var(n)");\n$var(rc) = $rc;\n${reply("$var(rc)")}`);
      assert.equal(r.body, "-1");
      assert.match(r.logs[0], why);
    }
  });
});

describe("jansson and crypto: start-up checks", () => {
  it("a result variable that cannot be set, a wrong count, a module not loaded: errors at file:line:col", () => {
    assert.match(compileError('loadmodule "jansson.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n jansson_get("a", "{}", "$mhttpd(url)");\n}\n', false) ?? "", /inline\.cfg:4:25: jansson_get: \$mhttpd\(url\) is read-only/);
    assert.match(compileError('loadmodule "crypto.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n crypto_hmac_sha256("a", "k", "$TS");\n}\n', false) ?? "", /inline\.cfg:4:31: crypto_hmac_sha256: \$TS is read-only/);
    assert.match(compileError('loadmodule "jansson.so"\nloadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n jansson_set("int", "a", "$var(j)");\n}\n', false) ?? "", /jansson_set\(\) takes 4 argument\(s\), got 3/);
    assert.match(compileError('loadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n jansson_append("int", "", 1, "$var(j)");\n}\n', false) ?? "", /jansson_append\(\) is exported by module jansson: add loadmodule "jansson\.so"/);
    assert.match(compileError('loadmodule "microhttpd.so"\nevent_route[microhttpd:request] {\n crypto_hmac_sha256("a", "k", "$var(h)");\n}\n', false) ?? "", /exported by module crypto: add loadmodule "crypto\.so"/);
  });
});

describe("crypto_hmac_sha256: RFC 4231 vectors, base64url without padding", () => {
  const b64url = (hex: string) => Buffer.from(hex, "hex").toString("base64url");
  it("test cases 1 and 2 (ASCII keys and texts), an empty key and text", () => {
    assert.equal(answer(`crypto_hmac_sha256("Hi There", "${"\\x0b".repeat(20)}", "$var(h)");\n${reply("$var(h)")}`), b64url("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
    assert.equal(answer(`crypto_hmac_sha256("what do ya want for nothing?", "Jefe", "$var(h)");\n${reply("$var(h)")}`), b64url("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    assert.equal(answer(`crypto_hmac_sha256("", "", "$var(h)");\n${reply("$var(h)")}`), b64url("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"));
    const h = answer(`crypto_hmac_sha256("$mhttpd(data)", "k", "$var(h)");\n$var(rc) = $rc;\n${reply("$var(rc) $var(h)")}`, { body: "x" });
    assert.match(h ?? "", /^1 [A-Za-z0-9_-]{43}$/, "43 characters, no = padding");
  });
  it("text and key are taken as UTF-8", () => {
    const expected = createHmac("sha256", Buffer.from("clé", "utf8")).update(Buffer.from("héllo wörld ✓", "utf8")).digest("base64url");
    assert.equal(answer(`crypto_hmac_sha256("$mhttpd(data)", "clé", "$var(h)");\n${reply("$var(h)")}`, { body: "héllo wörld ✓" }), expected);
  });
});

describe("the time variables", () => {
  const realNow = Date.now;
  afterEach(() => {
    Date.now = realNow;
    delete process.env.TZ;
  });
  /** freeze the wall clock at a Unix time in seconds (plus 0.25 s) */
  const at = (epoch: number) => (Date.now = () => epoch * 1000 + 250);

  it("$TS is now; $Ts, $Tf, $TV(s|u) are the request's time, fixed at first use", () => {
    const ksr = new Ksr(ctxOf(), new Logger(-5, () => {}));
    at(1700000000);
    assert.equal(ksr.pv.get("$Ts"), 1700000000);
    assert.equal(ksr.pv.get("$TV(u)"), 250000);
    at(1700000003);
    assert.equal(ksr.pv.get("$TS"), 1700000003);
    assert.equal(ksr.pv.get("$Ts"), 1700000000, "cached for the request");
    assert.equal(ksr.pv.get("$TV(s)"), 1700000000);
    process.env.TZ = "UTC";
    assert.equal(ksr.pv.get("$Tf"), "Tue Nov 14 22:13:20 2023");
    assert.equal(ksr.pv.get("$TF"), "Tue Nov 14 22:13:23 2023");
    assert.equal(new Ksr(ctxOf(), new Logger(-5, () => {})).pv.get("$Ts"), 1700000003, "a new request reads the clock again");
  });
  it("$TV(sn) reads the clock, $TV(un) gives that reading's microseconds; Sn, Fn, Sm", () => {
    const ksr = new Ksr(ctxOf(), new Logger(-5, () => {}));
    at(1700000000);
    assert.equal(ksr.pv.get("$TV(sn)"), 1700000000);
    at(1700000009);
    assert.equal(ksr.pv.get("$TV(un)"), 250000);
    assert.equal(ksr.pv.get("$TV(Sn)"), "1700000009.250000");
    process.env.TZ = "UTC";
    assert.equal(ksr.pv.get("$TV(Fn)"), "2023-11-14 22:13:29.250000");
    const m1 = BigInt(String(ksr.pv.get("$TV(Sm)")));
    const m2 = BigInt(String(ksr.pv.get("$TV(Sm)")));
    assert.ok(m2 >= m1 && m1 > 0n);
  });
  it("the real clock: $TS and $TV(Sn) agree with Date.now, $Tb is not later", () => {
    const ksr = new Ksr(ctxOf(), new Logger(-5, () => {}));
    const before = Math.floor(Date.now() / 1000);
    const ts = ksr.pv.get("$TS") as number;
    assert.ok(ts >= before && ts <= before + 1);
    assert.match(String(ksr.pv.get("$TV(Sn)")), /^\d{10}\.\d{6}$/);
    assert.ok((ksr.pv.get("$Tb") as number) <= ts);
    const u = ksr.pv.get("$TV(u)") as number;
    assert.ok(Number.isInteger(u) && u >= 0 && u < 1e6);
  });

  // GNU date -u -d @EPOCH +FORMAT, one conversion each (glibc's strftime, C locale)
  const CONVERSIONS = "a A b B c C d D e F g G h H I j k l m M p P r R s S T u U V w W x X y Y z %".split(" ");
  const ORACLE: [number, string][] = [
    [1700000000, "Tue|Tuesday|Nov|November|Tue Nov 14 22:13:20 2023|20|14|11/14/23|14|2023-11-14|23|2023|Nov|22|10|318|22|10|11|13|PM|pm|10:13:20 PM|22:13|1700000000|20|22:13:20|2|46|46|2|46|11/14/23|22:13:20|23|2023|+0000|%"],
    [1609459200, "Fri|Friday|Jan|January|Fri Jan  1 00:00:00 2021|20|01|01/01/21| 1|2021-01-01|20|2020|Jan|00|12|001| 0|12|01|00|AM|am|12:00:00 AM|00:00|1609459200|00|00:00:00|5|00|53|5|00|01/01/21|00:00:00|21|2021|+0000|%"],
    [1735603200, "Tue|Tuesday|Dec|December|Tue Dec 31 00:00:00 2024|20|31|12/31/24|31|2024-12-31|25|2025|Dec|00|12|366| 0|12|12|00|AM|am|12:00:00 AM|00:00|1735603200|00|00:00:00|2|52|01|2|53|12/31/24|00:00:00|24|2024|+0000|%"],
    [946684799, "Fri|Friday|Dec|December|Fri Dec 31 23:59:59 1999|19|31|12/31/99|31|1999-12-31|99|1999|Dec|23|11|365|23|11|12|59|PM|pm|11:59:59 PM|23:59|946684799|59|23:59:59|5|52|52|5|52|12/31/99|23:59:59|99|1999|+0000|%"],
    [1710054000, "Sun|Sunday|Mar|March|Sun Mar 10 07:00:00 2024|20|10|03/10/24|10|2024-03-10|24|2024|Mar|07|07|070| 7| 7|03|00|AM|am|07:00:00 AM|07:00|1710054000|00|07:00:00|7|10|10|0|10|03/10/24|07:00:00|24|2024|+0000|%"],
  ];
  it("$utimef: every conversion as glibc's strftime writes it (ISO weeks at year ends too)", () => {
    const body = reply(CONVERSIONS.map((c) => `$utimef(%${c})`).join("|"));
    const run = makeRunner(`${HEAD}event_route[microhttpd:request] {\n${body}\n}\n`, { wrap: false });
    for (const [epoch, expected] of ORACLE) {
      at(epoch);
      assert.equal(run().body, expected, String(epoch));
    }
    at(1700000000);
    assert.equal(answer(reply("$utimef(%Z) $utime(hour) $utime(wday) $utime(yday) $utime(mon) $utime(isdst) $utimef(day %j of %Y%n)")), "GMT 22 3 318 11 0 day 318 of 2023\n");
  });
  it("$timef and $time in the process's time zone (TZ), with daylight saving time", () => {
    process.env.TZ = "America/New_York";
    at(1700000000);
    assert.equal(answer(reply("$timef(%Z %z %c %H) $time(hour) $time(isdst) $Tf")), "EST -0500 Tue Nov 14 17:13:20 2023 17 17 0 Tue Nov 14 17:13:20 2023");
    at(1689000000);
    assert.equal(answer(reply("$timef(%Z %z %c %H) $time(isdst)")), "EDT -0400 Mon Jul 10 10:40:00 2023 10 1");
  });
  it("a result of 64 bytes or more is null, as pv_time.c's buffer gives it", () => {
    at(1700000000);
    assert.equal(answer(reply("[$utimef(%c %c)] [$utimef(%c %c %c)]")), "[Tue Nov 14 22:13:20 2023 Tue Nov 14 22:13:20 2023] [<null>]");
  });
  it("an unknown conversion, name or format is a start-up error at file:line:col", () => {
    const err = (body: string) => compileError(`${HEAD}event_route[microhttpd:request] {\n${body}\n}\n`, false) ?? "";
    assert.match(err(reply("$timef(%Q)")), /inline\.cfg:8:42: unknown conversion %Q in "\$timef\(%Q\)" \(known: %a %A/);
    assert.match(err(reply("$timef(%-d)")), /unknown conversion %- .*no flags or widths/);
    assert.match(err(reply("$utimef(50%)")), /a lone % at the end/);
    assert.match(err(reply("$timef()")), /the format is empty/);
    assert.match(err(reply("$TV(x)")), /unknown \$TV name "x" .*known: s, u, sn, un, Sn, Fn, Sm/);
    assert.match(err(reply("$time(hours)")), /unknown \$time name "hours"/);
    assert.match(err(reply("$TS(x)")), /unknown pseudo-variable class "\$TS"/);
    assert.match(err(reply("$uuid(x)")), /unknown \$uuid name "x" .*g \(generated\), r \(random\), t \(time-based\) or s/);
    assert.match(err(reply("$Random")), /unknown pseudo-variable "\$Random"/);
  });
});

describe("$RANDOM and $uuid", () => {
  it("$RANDOM is an integer from 0 to 2^31-1, different each read", () => {
    const values = new Set<number>();
    const ksr = new Ksr(ctxOf(), new Logger(-5, () => {}));
    for (let i = 0; i < 50; i++) {
      const v = ksr.pv.get("$RANDOM") as number;
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 31, String(v));
      values.add(v);
    }
    assert.ok(values.size > 45);
    assert.match(answer(reply("$RANDOM")) ?? "", /^\d+$/);
  });
  it("$uuid(g) and $uuid(r) are random (version 4), $uuid(t) and $uuid(s) time-based (version 1), lower case", () => {
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const v1 = /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const [g, r, t, s, G] = (answer(reply("$uuid(g) $uuid(r) $uuid(t) $uuid(s) $uuid(Generated)")) ?? "").split(" ");
    assert.match(g, v4);
    assert.match(r, v4);
    assert.match(G, v4);
    assert.match(t, v1);
    assert.match(s, v1);
    assert.notEqual(g, r);
    // the 60-bit timestamp: 100-ns intervals since 1582-10-15, strictly increasing
    const stamp = (u: string) => BigInt(`0x${u.slice(15, 18)}${u.slice(9, 13)}${u.slice(0, 8)}`);
    assert.ok(stamp(s) > stamp(t));
    const ms = Number((stamp(t) - 122192928000000000n) / 10000n);
    assert.ok(Math.abs(ms - Date.now()) < 5000, "the time is now");
    assert.equal(t.slice(19), s.slice(19), "one clock sequence and node per process");
    assert.ok(parseInt(t.slice(24, 26), 16) & 1, "the node is random: its multicast bit is set");
  });
  it("KSR.uuid.get, rget, tget", () => {
    const ksr = new Ksr(ctxOf(), new Logger(-5, () => {}));
    assert.match(ksr.uuid.get(), /^[0-9a-f-]{36}$/);
    assert.match(ksr.uuid.rget(), /-4[0-9a-f]{3}-/);
    assert.match(ksr.uuid.tget(), /-1[0-9a-f]{3}-/);
    assert.match(String(ksr.pv.get("$uuid(r)")), /-4[0-9a-f]{3}-/);
  });
});

describe("KSR.jansson and KSR.crypto: the same engines through KEMI", () => {
  it("KSR.jansson.get stores into the named variable; -1 for an absent path, invalid JSON, a bad or read-only name", () => {
    const logs: string[] = [];
    const ksr = new Ksr(ctxOf(logs), new Logger(3, (l) => logs.push(l.replace(/^\S+ /, ""))));
    assert.equal(ksr.jansson.get("a.b[1]", '{"a":{"b":[1,"two"]}}', "$var(x)"), 1);
    assert.equal(ksr.pv.get("$var(x)"), "two");
    assert.equal(ksr.jansson.get("a", '{"a":4294967296}', "$vn(y)"), 1);
    assert.equal(ksr.pv.get("$vn(y)"), "4294967296");
    assert.equal(ksr.jansson.get("zz", '{"a":1}', "$var(x)"), -1);
    assert.equal(ksr.pv.get("$var(x)"), "two", "unchanged");
    assert.deepEqual(logs, []);
    assert.equal(ksr.jansson.get("a", '{"a":1,"a":2}', "$var(x)"), -1);
    assert.match(logs.pop()!, /ERROR: <script>: jansson\.get: the source is not valid JSON: duplicate object key "a"/);
    assert.equal(ksr.jansson.get("a", '{"a":1}', "$mhttpd(url)"), -1);
    assert.match(logs.pop()!, /jansson\.get: "\$mhttpd\(url\)" is read-only/);
    assert.equal(ksr.jansson.get("a", '{"a":1}', "var(x)"), -1);
    assert.match(logs.pop()!, /jansson\.get: invalid pseudo-variable name "var\(x\)"/);
  });
  it("KSR.crypto.hmac_sha256", () => {
    const ksr = new Ksr(ctxOf(), new Logger(-5, () => {}));
    assert.equal(ksr.crypto.hmac_sha256("what do ya want for nothing?", "Jefe", "$var(h)"), 1);
    assert.equal(ksr.pv.get("$var(h)"), Buffer.from("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "hex").toString("base64url"));
    assert.equal(ksr.crypto.hmac_sha256("x", "k", "$TS"), -1);
  });
});

describe("the codec's number formats", () => {
  it("%.15g as printf writes it", () => {
    for (const [n, s] of [[0.1, "0.1"], [3, "3"], [1e21, "1e+21"], [1e15, "1e+15"], [123456789012345, "123456789012345"], [0.0001, "0.0001"], [0.00001, "1e-05"], [-2.5, "-2.5"], [1 / 3, "0.333333333333333"], [2 / 3, "0.666666666666667"], [1e-300, "1e-300"]] as const) {
      assert.equal(formatG(n, 15), s, String(n));
    }
  });
  it("reals in JSON: shortest text, a .0 for whole numbers, no + in the exponent", () => {
    assert.equal(encode(decode("[1.0, 1e21, 1.5e-7, -0.0, 100.25, 1E2]")), "[1.0,1e21,1.5e-7,-0.0,100.25,100.0]");
  });
});

after(() => {
  delete process.env.TZ;
});
