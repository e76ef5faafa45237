// sqlops's variables, as Kamailio's sqlops exports them (sql_var.c), for the cfg
// and KSR.pv alike:
//   $dbr(res=>rows)  $dbr(res=>cols)  $dbr(res=>[row,col])  $dbr(res=>colname[col])
//   $sqlrows(con)    rows changed or returned by the last query on `con`
//   $xavp(res=>col)  $xavp(res[i]=>col)  $xavp(res)  $xavp(res[i])   the rows of sql_xquery
// Indexes are integers or variables holding one. They read the results of the
// request that runs (sqlops.ts says why not the process's).
import type { RequestContext } from "../context.ts";
import { quote } from "../log.ts";
import { definePvClass, parsePv, PvError, type Pv, type PvValue } from "../pv.ts";
import { affectedRows, hasConnection, resultOf, xavpOf, type XavpRow } from "./sqlops.ts";

/** Whose results a variable reads outside any request (KSR at a module's top level). */
export const NO_REQUEST: object = ((globalThis as { [key: symbol]: object })[Symbol.for("mhttpd.sqlops.idle")] ??= {});

const callerOf = (ctx: RequestContext | undefined): object => ctx ?? NO_REQUEST;

type Index = (ctx: RequestContext | undefined) => number | null;

/** "3" or "$var(i)": an integer, read per access from the variable; null when it holds none. */
function index(text: string, spec: string): Index {
  const t = text.trim();
  if (/^[+-]?\d+$/.test(t)) {
    const n = Number(t);
    return () => n;
  }
  if (!t.startsWith("$")) throw new PvError(`bad index ${quote(t)} in ${quote(spec)}: an integer or a variable`);
  const pv = parsePv(t);
  return (ctx) => {
    const v = pv.get(ctx);
    const n = typeof v === "number" ? v : typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
    return Number.isInteger(n) ? n : null;
  };
}

const at = <T>(list: readonly T[], i: number | null): T | undefined => (i === null || i < 0 ? undefined : list[i]);

function dbrPv(spec: string, inner: string): Pv {
  const m = /^\s*([^=\s]+)\s*=>\s*(.*?)\s*$/s.exec(inner);
  if (!m || m[2] === "") throw new PvError(`invalid ${quote(spec)}: expected $dbr(result=>rows|cols|[row,col]|colname[col])`);
  const [, name, key] = m;
  const result = (ctx: RequestContext | undefined) => resultOf(callerOf(ctx), name);
  if (key === "rows") return { spec, get: (ctx) => result(ctx)?.rows.length ?? 0 };
  if (key === "cols") return { spec, get: (ctx) => result(ctx)?.columns.length ?? 0 };
  const cell = /^\[([^,\]]+),([^\]]+)\]$/.exec(key);
  if (cell) {
    const row = index(cell[1], spec);
    const col = index(cell[2], spec);
    return { spec, get: (ctx) => at(at(result(ctx)?.rows ?? [], row(ctx)) ?? [], col(ctx)) ?? null };
  }
  const colname = /^colname\s*\[([^\]]+)\]$/.exec(key);
  if (colname) {
    const col = index(colname[1], spec);
    return { spec, get: (ctx) => at(result(ctx)?.columns ?? [], col(ctx)) ?? null };
  }
  throw new PvError(`unknown key ${quote(key)} in ${quote(spec)} (rows, cols, [row,col], colname[col])`);
}

function sqlrowsPv(spec: string, inner: string): Pv {
  const con = inner.trim();
  if (!hasConnection(con)) throw new PvError(`${quote(spec)}: no sqlops connection ${quote(con)} (modparam("sqlops", "sqlcon", "${con}=>..."))`);
  return { spec, get: (ctx) => affectedRows(callerOf(ctx), con) };
}

/** the row's marker text: an xavp that holds a list prints as one in Kamailio */
const rowText = (name: string, i: number) => `<<xavp:${name}[${i}]>>`;

function xavpPv(spec: string, inner: string): Pv {
  const m = /^\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]+)\])?\s*(?:=>\s*(.+?))?\s*$/s.exec(inner);
  if (!m) throw new PvError(`invalid ${quote(spec)}: expected $xavp(name), $xavp(name[i]), $xavp(name=>column) or $xavp(name[i]=>column)`);
  const [, name, rawIndex, column] = m;
  const row = rawIndex === undefined ? () => 0 : index(rawIndex, spec);
  /** row i; a negative i counts from the end, as Kamailio's xavp indexes do */
  const rowAt = (ctx: RequestContext | undefined): [XavpRow[], number] | undefined => {
    const rows = xavpOf(callerOf(ctx), name);
    const i = row(ctx);
    if (!rows || i === null) return undefined;
    const j = i < 0 ? rows.length + i : i;
    return j >= 0 && j < rows.length ? [rows, j] : undefined;
  };
  const get = (ctx: RequestContext | undefined): PvValue => {
    const found = rowAt(ctx);
    if (!found) return null;
    const [rows, j] = found;
    return column === undefined ? rowText(name, j) : (rows[j].get(column) ?? null);
  };
  // only unset: pv_unset("$xavp(ra)") takes the first row away (Kamailio's destructive iteration)
  const set = (ctx: RequestContext | undefined, value: PvValue) => {
    const found = rowAt(ctx);
    if (value !== null) {
      ctx?.logger.err(`cannot assign ${quote(spec)}: here $xavp holds sql_xquery rows only, and can only be unset`, "<script>");
      return;
    }
    if (!found) return;
    const [rows, j] = found;
    if (column === undefined) rows.splice(j, 1);
    else rows[j].delete(column);
  };
  return { spec, get, set };
}

definePvClass("dbr", dbrPv);
definePvClass("sqlrows", sqlrowsPv);
definePvClass("xavp", xavpPv);
