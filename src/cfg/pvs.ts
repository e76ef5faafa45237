// Pseudo-variables and formatted strings, compiled once at start-up.
// A variable becomes a getter; "text $var(x) more" becomes a list of literal and
// getter parts; $(name(inner){tr}{tr}) becomes a getter wrapped by its
// transformations. Only $rc / $retcode / $? live here, in the run state of the
// request's route (src/run-scope.ts): the rest come from src/pv.ts (shared with KEMI).
import type { RequestContext } from "../context.ts";
import { ownEntry, parsePv, PvError, type Pv } from "../pv.ts";
import { CfgSyntaxError, pvLength, type Pos } from "./lexer.ts";
import { shtPv } from "./htable.ts";
import { TRANSFORMATIONS } from "./transformations.ts";
import { printValue, toInt, type Value } from "./values.ts";
import { curlErrorText } from "../modules/curl-errors.ts";

export type Getter = (ctx: RequestContext) => Value;

export interface CfgPv {
  spec: string;
  get: Getter;
  set?: (ctx: RequestContext, v: Value) => void;
}

/** Kamailio's _last_returned_code, per run: two requests suspended in one route each have their own */
const RC_PV: CfgPv = { spec: "$rc", get: (ctx) => ctx.scope?.rc ?? 1 };
const ESC: Record<string, string> = { n: "\n", t: "\t", r: "\r", ",": ",", "}": "}", "{": "{", "\\": "\\" };

function at(pos: Pos, offset: number): Pos {
  return { ...pos, col: pos.col + offset };
}

/** Split "a,b\,c,$(x{y,z})" on the commas that are not escaped or nested. */
function splitParams(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === "(" || c === "{") depth++;
    else if (c === ")" || c === "}") depth--;
    if (c === "," && depth === 0) (out.push(cur), (cur = ""));
    else cur += c;
  }
  out.push(cur);
  return out;
}

function transformParam(raw: string, pos: Pos): Getter {
  if (raw.startsWith("$") && pvLength(raw, 0) === raw.length) return compilePv(raw, pos).get;
  const v = raw.replace(/\\(.)/g, (m, c: string) => ESC[c] ?? m);
  return () => v;
}

function compileTransform(text: string, pos: Pos): (v: Value, ctx: RequestContext) => Value {
  const [name, ...rawParams] = splitParams(text);
  const tr = ownEntry(TRANSFORMATIONS, name.trim());
  if (!tr) throw new CfgSyntaxError(pos, `unknown transformation {${name}} (known: ${Object.keys(TRANSFORMATIONS).join(", ")})`);
  // the last parameter takes the rest: {s.select,1,,} has "," as its separator
  if (tr.max > 0 && rawParams.length > tr.max) rawParams.splice(tr.max - 1, rawParams.length, rawParams.slice(tr.max - 1).join(","));
  if (rawParams.length < tr.min || rawParams.length > tr.max) {
    throw new CfgSyntaxError(pos, `transformation {${name}} takes ${tr.min === tr.max ? tr.min : `${tr.min} to ${tr.max}`} parameter(s), got ${rawParams.length}`);
  }
  const params = rawParams.map((p) => transformParam(p, pos));
  const fn = tr.fn;
  const ofNull = tr.ofNull ?? null;
  if (params.length === 0) return (v) => (v === null ? ofNull : fn(v, []));
  return (v, ctx) => (v === null ? ofNull : fn(v, params.map((p) => p(ctx))));
}

/** "$name", "$name(inner)" or "$(name(inner)[i]{tr}...)" -> accessor. */
export function compilePv(spec: string, pos: Pos): CfgPv {
  if (spec === "$rc" || spec === "$retcode" || spec === "$?") return RC_PV;
  if (spec === "$$") return { spec, get: () => "$" };
  if (spec.startsWith("$(")) {
    const inner = spec.slice(2, -1);
    const m = /^([A-Za-z_]\w*)/.exec(inner);
    if (!m) throw new CfgSyntaxError(pos, `invalid variable ${spec}: expected $(name(...){transformation})`);
    let j = m[0].length;
    if (inner[j] === "(") {
      const n = pvLength("$" + inner, 0);
      if (n < 0) throw new CfgSyntaxError(pos, `unbalanced parentheses in ${spec}`);
      j = n - 1;
    }
    const base = compilePv("$" + inner.slice(0, j), pos);
    if (inner[j] === "[") throw new CfgSyntaxError(at(pos, j + 2), `indexes ([n]) are not supported in ${spec}`);
    const trs: ((v: Value, ctx: RequestContext) => Value)[] = [];
    while (j < inner.length) {
      if (inner[j] !== "{") throw new CfgSyntaxError(at(pos, j + 2), `expected "{transformation}" in ${spec}, found ${JSON.stringify(inner.slice(j))}`);
      let depth = 0;
      let k = j;
      for (; k < inner.length; k++) {
        if (inner[k] === "\\") k++;
        else if (inner[k] === "{") depth++;
        else if (inner[k] === "}" && --depth === 0) break;
      }
      if (k >= inner.length) throw new CfgSyntaxError(at(pos, j + 2), `unterminated transformation in ${spec}: expected "}"`);
      trs.push(compileTransform(inner.slice(j + 1, k), at(pos, j + 2)));
      j = k + 1;
    }
    const get = base.get;
    if (trs.length === 0) return { spec, get };
    return {
      spec,
      get: (ctx) => {
        let v = get(ctx);
        for (const t of trs) v = t(v, ctx);
        return v;
      },
    };
  }
  if (spec.startsWith("$curlerror($") && spec.endsWith(")")) {
    // the code from any cfg variable ($rc included), read when used
    const code = compilePv(spec.slice(11, -1), pos).get;
    return { spec, get: (ctx) => curlErrorText(toInt(code(ctx))) };
  }
  if (spec.startsWith("$sht(") && spec.endsWith(")")) {
    const sht = shtPv(spec.slice(5, -1), pos, (text, p) => compileFormat(text, p).get);
    return { spec, get: sht.get, set: sht.set };
  }
  let pv: Pv;
  try {
    pv = parsePv(spec);
  } catch (e) {
    if (e instanceof PvError) throw new CfgSyntaxError(pos, e.message);
    throw e;
  }
  return { spec, get: pv.get, set: pv.set };
}

/** A formatted string ("a $var(x) b"), split once into parts; null prints "<null>". */
export function compileFormat(text: string, pos: Pos): { constant?: string; get: (ctx: RequestContext) => string } {
  const parts: (string | Getter)[] = [];
  let lit = "";
  for (let i = 0; i < text.length; ) {
    if (text[i] === "$") {
      const n = pvLength(text, i);
      if (n > 0) {
        if (lit) (parts.push(lit), (lit = ""));
        parts.push(compilePv(text.slice(i, i + n), at(pos, i + 1)).get);
        i += n;
        continue;
      }
    }
    lit += text[i++];
  }
  if (lit) parts.push(lit);
  if (parts.length === 0) return { constant: "", get: () => "" };
  if (parts.length === 1 && typeof parts[0] === "string") {
    const c = parts[0];
    return { constant: c, get: () => c };
  }
  // literal, getter, literal, getter, ..., literal: concatenated by a closure made
  // for the count, as a template literal would (a loop with += is slower on JSC)
  const lits: string[] = [];
  const gets: Getter[] = [];
  let pending = "";
  for (const p of parts) {
    if (typeof p === "string") pending += p;
    else {
      lits.push(pending);
      gets.push(p);
      pending = "";
    }
  }
  lits.push(pending);
  const pv = printValue;
  const [l0, l1, l2, l3, l4] = lits;
  const [g0, g1, g2, g3] = gets;
  switch (gets.length) {
    case 1:
      return { get: (ctx) => l0 + pv(g0(ctx)) + l1 };
    case 2:
      return { get: (ctx) => l0 + pv(g0(ctx)) + l1 + pv(g1(ctx)) + l2 };
    case 3:
      return { get: (ctx) => l0 + pv(g0(ctx)) + l1 + pv(g1(ctx)) + l2 + pv(g2(ctx)) + l3 };
    case 4:
      return { get: (ctx) => l0 + pv(g0(ctx)) + l1 + pv(g1(ctx)) + l2 + pv(g2(ctx)) + l3 + pv(g3(ctx)) + l4 };
  }
  return {
    get: (ctx) => {
      let out = lits[0];
      for (let i = 0; i < gets.length; i++) out += pv(gets[i](ctx)) + lits[i + 1];
      return out;
    },
  };
}
