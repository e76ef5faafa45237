// Kamailio's jansson module: jansson_get, jansson_get_field, jansson_set,
// jansson_append and jansson_array_size, one implementation for the cfg
// functions (src/cfg/jansson-functions.ts) and KEMI's KSR.jansson. The path
// syntax is jansson_path.c's, walked the way it walks it ("a.b[0]", "[1][0]",
// indexes read by strtol with base 0), and values reach variables as
// jansson_to_val gives them. The JSON itself is read and written by
// ./jansson-codec.ts (jansson's rules, not JSON.parse's).
import type { RequestContext } from "../context.ts";
import type { KsrJanssonApi, PvValue } from "../ksr-api.ts";
import type { Logger } from "../log.ts";
import { outputPv, storeOutcome } from "./kemi-output.ts";
import { decode, encode, formatG, isObject, JsonError, MAX_DEPTH, type Json } from "./jansson-codec.ts";

/** What a function stores in its destination variable, or why it fails: without a
 * `why` it fails quietly, as jansson does for a path that is not there. */
export type Outcome = { ok: true; value: PvValue } | { ok: false; why?: string };

const fail = (why?: string): Outcome => ({ ok: false, why });

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

/** jansson_to_val: strings as text, booleans as 1/0, integers as integers (text
 * beyond 32 bits), reals as "%.15g" text, null as null, the rest as compact JSON. */
export function toPvValue(v: Json): PvValue {
  if (v === null) return null;
  switch (typeof v) {
    case "string":
      return v;
    case "boolean":
      return v ? 1 : 0;
    case "bigint":
      return v >= INT32_MIN && v <= INT32_MAX ? Number(v) : v.toString();
    case "number":
      return formatG(v, 15);
  }
  return encode(v);
}

function parse(text: string, what: string): Json | string {
  try {
    return decode(text);
  } catch (e) {
    if (e instanceof JsonError) return `${what} is not valid JSON: ${e.message}`;
    throw e;
  }
}

const DELIMS = /[.[]/g;
const CLOSE = /]/g;

/** strtol(s, &end, 0) that must consume all of s: the index, or undefined when s is
 * not a number; "" is 0 and "0x1f" and "017" are hex and octal, as in C. */
function strtolIndex(s: string): bigint | undefined {
  if (s === "") return 0n;
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const digits = m[2];
  const n = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === "0" ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  return m[1] === "-" ? -n : n;
}

function arrayGet(v: Json | undefined, index: bigint): Json | undefined {
  return Array.isArray(v) && index >= 0n && index < BigInt(v.length) ? v[Number(index)] : undefined;
}

function objectGet(v: Json | undefined, key: string): Json | undefined {
  return isObject(v) ? v.get(key) : undefined;
}

/** The first of `re`'s characters at or after `from`, or -1. */
function findFrom(re: RegExp, path: string, from: number): number {
  re.lastIndex = from;
  return re.exec(path)?.index ?? -1;
}

/** json_path_get: the value at `path`, or undefined. With `byField`, the path is
 * one key, whatever it holds (jansson_get_field). */
export function pathGet(root: Json, path: string, byField: boolean): Json | undefined {
  let cursor: Json | undefined = root;
  let expect = DELIMS;
  let token: number | undefined = 0;
  let peek: number | undefined = 0;
  if (path[0] === "[") (expect = CLOSE), (token = 1);
  let delim = "";
  while (peek !== undefined && peek < path.length && cursor !== undefined) {
    const last: number = peek;
    const found = byField ? -1 : findFrom(expect, path, last);
    let end = path.length;
    if (found >= 0) {
      if (token === undefined && found !== last) return undefined;
      delim = path[found];
      end = found;
      peek = found + 1;
    } else {
      if (expect !== DELIMS || token === undefined) return undefined;
      peek = undefined;
    }
    if (expect === DELIMS) {
      if (token !== undefined) cursor = objectGet(cursor, path.slice(token, end));
      expect = delim === "[" ? CLOSE : DELIMS;
      token = peek;
    } else {
      const index = strtolIndex(path.slice(token, end));
      if (index === undefined) return undefined;
      cursor = arrayGet(cursor, index);
      token = undefined;
      expect = DELIMS;
    }
  }
  return cursor;
}

/** json_path_set: put `value` at `path` in `root` (objects on the way are made;
 * arrays are not), or append it to the array there / merge it into the object
 * there. Returns why it cannot. */
export function pathSet(root: Json, path: string, value: Json, append: boolean): string | undefined {
  let cursor: Json | undefined = root;
  let parent: Json | undefined;
  let expect = DELIMS;
  let token: number | undefined = 0;
  let peek: number | undefined = 0;
  let indexSaved = -1;
  let delim = "";
  let levels = 0;
  if (path[0] === "[") (expect = CLOSE), (token = 1);
  while (peek !== undefined && peek < path.length && cursor !== undefined) {
    const last: number = peek;
    const found = findFrom(expect, path, last);
    if (found < 0) {
      if (expect === DELIMS) break;
      return `missing ']' in the path at position ${path.length}`;
    }
    if (token === undefined && found !== last) return `unexpected characters in the path at position ${last}`;
    delim = path[found];
    peek = found + 1;
    if (++levels > MAX_DEPTH) return `the path is deeper than ${MAX_DEPTH} levels`;
    if (expect === DELIMS) {
      if (token !== undefined) {
        const key = path.slice(token, found);
        if (key === "") return `empty key in the path at position ${found}`;
        parent = cursor;
        cursor = objectGet(parent, key);
        if (cursor === undefined) {
          if (!isObject(parent)) return `an object was expected at position ${found} of the path`;
          if (delim !== ".") return `${JSON.stringify(key)} is not there: a new array is not made (position ${found} of the path)`;
          cursor = new Map();
          parent.set(key, cursor);
        }
      }
      expect = delim === "[" ? CLOSE : DELIMS;
      token = peek;
    } else {
      parent = cursor;
      if (!Array.isArray(parent)) return `an array was expected at position ${found} of the path`;
      const index = strtolIndex(path.slice(token, found));
      if (index === undefined) return `invalid array index at position ${token} of the path`;
      cursor = arrayGet(parent, index);
      if (cursor === undefined) return `array index out of bounds at position ${token} of the path`;
      indexSaved = Number(index);
      token = undefined;
      expect = DELIMS;
    }
  }
  const key = token === undefined ? undefined : path.slice(token);
  if (key !== undefined && append) {
    const target = key === "" ? cursor : objectGet(cursor, key);
    if (Array.isArray(target)) target.push(value);
    else if (isObject(target) && isObject(value)) for (const [k, v] of value) target.set(k, v);
    else return `an array, or an object to merge an object into, was expected at ${JSON.stringify(path)}`;
  } else if (key !== undefined && key !== "") {
    if (!isObject(cursor)) return `an object was expected at ${JSON.stringify(path)}`;
    cursor.set(key, value);
  } else if (indexSaved !== -1 && Array.isArray(parent)) {
    parent[indexSaved] = value;
  } else return `invalid JSON path ${JSON.stringify(path)}`;
  return undefined;
}

/** jansson_get(path, src, dst) and jansson_get_field(field, src, dst). */
export function janssonGet(path: string, src: string, byField = false): Outcome {
  const doc = parse(src, "the source");
  if (typeof doc === "string") return fail(doc);
  const v = pathGet(doc, path, byField);
  if (v === undefined) return fail();
  try {
    return { ok: true, value: toPvValue(v) };
  } catch (e) {
    if (e instanceof JsonError) return fail(`the value at ${JSON.stringify(path)}: ${e.message}`);
    throw e;
  }
}

/** jansson_array_size(path, src, dst). */
export function janssonArraySize(path: string, src: string): Outcome {
  const doc = parse(src, "the source");
  if (typeof doc === "string") return fail(doc);
  const v = pathGet(doc, path, false);
  if (v === undefined) return fail(`${JSON.stringify(path)} is not in the JSON`);
  if (!Array.isArray(v)) return fail(`the value at ${JSON.stringify(path)} is not an array`);
  return { ok: true, value: v.length };
}

const SPACE = "[ \\t\\n\\v\\f\\r]*";
const INTEGER = new RegExp(`^${SPACE}[+-]?\\d+$`);
const REAL = new RegExp(`^${SPACE}[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$`);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The value jansson_set inserts for a type name ("" is 0 for integer and real, as strtoll and strtod give it). */
function typedValue(type: string, value: string): { value: Json } | { error: string } {
  switch (type) {
    case "string":
    case "str":
      if (value.includes("\u0000")) return { error: "a string value holding a NUL character is refused (jansson would cut it there)" };
      return { value };
    case "integer":
    case "int": {
      if (value === "") return { value: 0n };
      if (!INTEGER.test(value)) return { error: `${JSON.stringify(value)} is not an integer` };
      const n = BigInt(value.trim());
      if (n < INT64_MIN || n > INT64_MAX) return { error: `${JSON.stringify(value)} does not fit in 64 bits` };
      return { value: n };
    }
    case "real": {
      if (value === "") return { value: 0 };
      const n = Number(value.trim());
      if (!REAL.test(value) || !Number.isFinite(n)) return { error: `${JSON.stringify(value)} is not a finite real number` };
      return { value: n };
    }
    case "true":
      return { value: true };
    case "false":
      return { value: false };
    case "null":
      return { value: null };
    case "object":
    case "obj":
    case "array": {
      const doc = parse(value, `the ${type} value`);
      if (typeof doc === "string") return { error: doc };
      const want = type === "array" ? "an array" : "an object";
      if (type === "array" ? !Array.isArray(doc) : !isObject(doc)) return { error: `the value to add is not ${want}` };
      return { value: doc };
    }
  }
  return { error: `unknown type ${JSON.stringify(type)} (integer, int, real, string, str, object, obj, array, true, false, null)` };
}

/** jansson_set / jansson_append(type, path, value, result): the result variable's
 * JSON with the value put in; a result that is not a string starts as "{}". */
export function janssonSet(type: string, path: string, value: string, current: PvValue, append: boolean): Outcome {
  const typed = typedValue(type, value);
  if ("error" in typed) return fail(typed.error);
  const doc = parse(typeof current === "string" ? current : "{}", "the result variable");
  if (typeof doc === "string") return fail(doc);
  const why = pathSet(doc, path, typed.value, append);
  if (why) return fail(why);
  try {
    return { ok: true, value: encode(doc) };
  } catch (e) {
    if (e instanceof JsonError) return fail(e.message);
    throw e;
  }
}

/** KSR.jansson: what Kamailio's jansson module exports to KEMI (only get; a
 * TypeScript route has JSON.parse, and the cfg has the other functions). */
export class KsrJansson implements KsrJanssonApi {
  constructor(
    private readonly ctx: RequestContext | undefined,
    private readonly logger: Logger,
  ) {}

  /** jansson_get(path, json, dst): 1 with the value at path stored in the variable
   * named dst, -1 when the JSON is invalid (logged) or the path is not there. */
  get(path: string, json: string, dst: string): number {
    const pv = outputPv(dst, "jansson.get", this.logger);
    if (!pv) return -1;
    return storeOutcome(janssonGet(String(path), String(json)), pv, this.ctx, "jansson.get", this.logger);
  }
}
