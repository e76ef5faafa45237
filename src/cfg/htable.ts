// The htable module, in memory: tables declared by modparam("htable", "htable",
// "name=>size=8;..."), read and written as $sht(name=>key), emptied by
// sht_rm() / sht_reset(). Per process, kept across requests, like $var.
import type { RequestContext } from "../context.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import type { Value } from "./values.ts";

const tables = new Map<string, Map<string, Value>>();

/** modparam("htable", "htable", "kv=>size=8;autoexpire=0;"): only the name matters here. */
export function declareTable(spec: string, pos: Pos): string {
  const m = /^\s*([A-Za-z0-9_.-]+)\s*=>/.exec(spec);
  if (!m) throw new CfgSyntaxError(pos, `htable: expected "name=>size=...;", found ${JSON.stringify(spec)}`);
  if (!tables.has(m[1])) tables.set(m[1], new Map());
  return m[1];
}

export function table(name: string, pos: Pos): Map<string, Value> {
  const t = tables.get(name);
  if (!t) throw new CfgSyntaxError(pos, `no htable "${name}": declare it with modparam("htable", "htable", "${name}=>size=8;")`);
  return t;
}

/** $sht(name=>key): `key` is a formatted string, evaluated per access. */
export function shtPv(inner: string, pos: Pos, format: (text: string, pos: Pos) => (ctx: RequestContext) => string) {
  const m = /^([^=]+)=>(.*)$/s.exec(inner);
  if (!m) throw new CfgSyntaxError(pos, `$sht(${inner}): expected $sht(table=>key)`);
  const t = table(m[1].trim(), pos);
  const key = format(m[2], pos);
  return {
    get: (ctx: RequestContext): Value => t.get(key(ctx)) ?? null,
    set: (ctx: RequestContext, v: Value) => {
      if (v === null) t.delete(key(ctx));
      else t.set(key(ctx), v);
    },
  };
}
