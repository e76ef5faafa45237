// JSON as Kamailio's jansson module reads and writes it (libjansson with
// JSON_REJECT_DUPLICATES, no JSON_DECODE_ANY, no JSON_ALLOW_NUL), not as
// JSON.parse does: the text must be an object or an array, a duplicate key, a
// "\u0000", an integer outside 64 bits or a real that overflows are errors, and
// nesting is bounded at jansson's JSON_PARSER_MAX_DEPTH (2048), so request data
// can neither exhaust the stack nor lose digits. Integers are kept as bigint (a
// json_int_t), reals as number, objects as Map: "__proto__" is a key like any other.

export type Json = null | boolean | string | bigint | number | Json[] | JsonObject;
export type JsonObject = Map<string, Json>;

/** jansson's JSON_PARSER_MAX_DEPTH: values nested deeper are refused, reading and writing. */
export const MAX_DEPTH = 2048;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export class JsonError extends Error {}

export const isObject = (v: Json | undefined): v is JsonObject => v instanceof Map;

const LONE_SURROGATE = /\p{Cs}/u;
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

class Decoder {
  private i = 0;
  constructor(private readonly s: string) {}

  fail(msg: string, at = this.i): never {
    let line = 1;
    let lineStart = 0;
    for (let k = this.s.indexOf("\n"); k >= 0 && k < at; k = this.s.indexOf("\n", k + 1)) (line++, (lineStart = k + 1));
    throw new JsonError(`${msg} at line ${line}, column ${at - lineStart + 1}`);
  }

  document(): Json {
    const bad = this.s.search(LONE_SURROGATE);
    if (bad >= 0) this.fail("invalid UTF-8 (a lone surrogate)", bad);
    this.ws();
    const c = this.s[this.i];
    if (c !== "{" && c !== "[") this.fail("'[' or '{' expected");
    const v = this.value(1);
    this.ws();
    if (this.i < this.s.length) this.fail("end of file expected");
    return v;
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (let c = s.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = s.charCodeAt(++i));
    this.i = i;
  }

  /** depth counts every value, the root being 1, as jansson's parse_value does */
  private value(depth: number): Json {
    if (depth > MAX_DEPTH) this.fail(`maximum parsing depth reached (${MAX_DEPTH})`);
    const c = this.s[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') {
      const start = this.i;
      const text = this.string();
      if (text.includes("\u0000")) this.fail("\\u0000 is not allowed", start);
      return text;
    }
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    if (c !== undefined && /[a-zA-Z]/.test(c)) return this.literal();
    return this.fail(c === undefined ? "premature end of input" : "invalid token");
  }

  private literal(): Json {
    const word = /[a-zA-Z]*/y;
    word.lastIndex = this.i;
    const w = word.exec(this.s)![0];
    const v = w === "true" ? true : w === "false" ? false : w === "null" ? null : undefined;
    if (v === undefined) this.fail("invalid token");
    this.i += w.length;
    return v;
  }

  private number(): Json {
    const m = /-?(?:0(?![0-9])|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    m.lastIndex = this.i;
    const found = m.exec(this.s);
    // a "-" alone, "01", "1." or "1e" are what jansson's lexer calls an invalid token
    if (!found || /^[.eE]/.test(this.s.slice(this.i + found[0].length, this.i + found[0].length + 1))) this.fail("invalid token");
    const text = found[0];
    const start = this.i;
    this.i += text.length;
    if (found[1] === undefined && found[2] === undefined) {
      const n = BigInt(text);
      if (n > INT64_MAX) this.fail("too big integer", start);
      if (n < INT64_MIN) this.fail("too big negative integer", start);
      return n;
    }
    const real = Number(text);
    if (!Number.isFinite(real)) this.fail("real number overflow", start);
    return real;
  }

  private string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = "";
    for (;;) {
      PLAIN_RUN.lastIndex = i;
      const run = PLAIN_RUN.exec(s)![0];
      out += run;
      i += run.length;
      const c = s[i];
      if (c === '"') break;
      if (c === undefined) this.fail("premature end of input", i);
      if (c !== "\\") this.fail(`control character 0x${c.charCodeAt(0).toString(16)}`, i);
      const e = s[i + 1];
      if (e === "u") {
        const unit = this.hex4(i + 2);
        i += 6;
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const low = s[i] === "\\" && s[i + 1] === "u" ? this.hex4(i + 2) : -1;
          if (low < 0xdc00 || low > 0xdfff) this.fail(`invalid Unicode '\\u${unit.toString(16).toUpperCase()}'`, i - 6);
          out += String.fromCharCode(unit, low);
          i += 6;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          this.fail(`invalid Unicode '\\u${unit.toString(16).toUpperCase()}'`, i - 6);
        } else out += String.fromCharCode(unit);
        continue;
      }
      const plain = e === undefined ? undefined : Object.hasOwn(ESCAPES, e) ? ESCAPES[e] : undefined;
      if (plain === undefined) this.fail("invalid escape", i);
      out += plain;
      i += 2;
    }
    this.i = i + 1;
    return out;
  }

  private hex4(at: number): number {
    const h = this.s.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail("invalid escape", at - 2);
    return parseInt(h, 16);
  }

  private object(depth: number): JsonObject {
    const obj: JsonObject = new Map();
    this.i++;
    this.ws();
    if (this.s[this.i] === "}") return (this.i++, obj);
    for (;;) {
      if (this.s[this.i] !== '"') this.fail("string or '}' expected");
      const at = this.i;
      const key = this.string();
      if (key.includes("\u0000")) this.fail("NUL byte in object key not supported", at);
      if (obj.has(key)) this.fail(`duplicate object key ${JSON.stringify(key.length > 64 ? key.slice(0, 64) + "…" : key)}`, at);
      this.ws();
      if (this.s[this.i] !== ":") this.fail("':' expected");
      this.i++;
      this.ws();
      obj.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return obj;
      if (c !== ",") this.fail("'}' expected", this.i - 1);
      this.ws();
    }
  }

  private array(depth: number): Json[] {
    const arr: Json[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === "]") return (this.i++, arr);
    for (;;) {
      arr.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return arr;
      if (c !== ",") this.fail("']' expected", this.i - 1);
      this.ws();
    }
  }
}

/** json_loads(text, JSON_REJECT_DUPLICATES): an object or an array; a JsonError names the problem and where. */
export function decode(text: string): Json {
  try {
    return new Decoder(text).document();
  } catch (e) {
    // the depth bound keeps recursion far below any runtime's stack; this is the backstop
    if (e instanceof RangeError) throw new JsonError(`nested too deeply (${e.message})`);
    throw e;
  }
}

const STRING_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** dump_string without JSON_ENSURE_ASCII / JSON_ESCAPE_SLASH: quotes, backslash and
 * control characters escaped (\u001F upper-case, as jansson), everything else as is. */
function encodeString(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new JsonError("a string holds a lone surrogate, which is not valid UTF-8");
  return `"${s.replace(/["\\\u0000-\u001f]/g, (c) => STRING_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`)}"`;
}

/** A real as JSON: the shortest text that reads back as the same number (jansson
 * writes %.17g), with jansson's rules kept: a ".0" when it would read as an
 * integer, no "+" in the exponent. */
export function encodeReal(n: number): string {
  if (Object.is(n, -0)) return "-0.0";
  const s = String(n).replace("e+", "e");
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function encodeValue(v: Json, depth: number): string {
  if (depth >= MAX_DEPTH) throw new JsonError(`nested deeper than ${MAX_DEPTH} levels`);
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "string":
      return encodeString(v);
    case "bigint":
      return v.toString();
    case "number":
      return encodeReal(v);
  }
  // plain loops: one stack frame per level
  let out = "";
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) out += (i ? "," : "") + encodeValue(v[i], depth + 1);
    return `[${out}]`;
  }
  for (const [k, x] of v) out += (out ? "," : "") + encodeString(k) + ":" + encodeValue(x, depth + 1);
  return `{${out}}`;
}

/** json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER). */
export function encode(v: Json): string {
  try {
    return encodeValue(v, 0);
  } catch (e) {
    // the depth bound keeps recursion far below any runtime's stack; this is the backstop
    if (e instanceof RangeError) throw new JsonError(`nested too deeply to be written (${e.message})`);
    throw e;
  }
}

/** printf("%.<precision>g", n), as jansson_to_val gives a real to a variable ("%.15g"). */
export function formatG(n: number, precision: number): string {
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const [mantissa, exp] = n.toExponential(precision - 1).split("e");
  const e = Number(exp);
  const strip = (digits: string) => (digits.includes(".") ? digits.replace(/\.?0+$/, "") : digits);
  if (e < -4 || e >= precision) return `${strip(mantissa)}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return strip(n.toFixed(precision - 1 - e));
}
