// The transformations ({s.len}, {s.select,1, }, ...) as data: each entry says how
// many parameters it takes and what it does. A transformation of a null value,
// or one that fails (bad base64, index out of range), gives null, as pv_trans.c does.
import { builtin } from "./host.ts";
import { byteLength, isIntText, toStr, type Value } from "./values.ts";

export interface TransformSpec {
  min: number;
  max: number;
  doc: string;
  /** params are already evaluated; `v` is never null here */
  fn(v: string | number, p: Value[]): Value;
  /** what a null value becomes (else null): {sql.val} turns it into NULL */
  ofNull?: string;
}

/** {sql.val}'s limit, sqlops tr_buf_size: a value longer than half of it fails, as in Kamailio */
export const sqlValBuffer = { size: 2048 };

/** {sql.val}: an integer as it is, text quoted as standard SQL quotes it (each '
 * doubled). Not Kamailio's escape_common, which puts a backslash before ' " \ as
 * MySQL reads them: SQLite and PostgreSQL take a backslash as a plain character, so
 * there a value ending in a backslash would close the quote (docs/differences.md).
 * A value holding a NUL byte fails (null): SQLite would end the query there. */
function sqlQuoted(v: string | number): Value {
  if (typeof v === "number") return String(v);
  if (v.length > sqlValBuffer.size / 2 - 1 || v.includes("\0")) return null;
  return `'${v.replaceAll("'", "''")}'`;
}

const s = toStr;
const int = (p: Value): number => (typeof p === "number" ? p : isIntText(String(p ?? "").trim()) ? Number(String(p).trim()) : NaN);
// node:crypto and node:buffer only when a transformation that needs them runs
const hex = (algo: string, v: string | number) => builtin("crypto").createHash(algo).update(s(v), "utf8").digest("hex");

function selectPart(v: string, idx: number, sep: string): Value {
  const parts = v.split(sep || ",");
  const i = idx < 0 ? parts.length + idx : idx;
  return i >= 0 && i < parts.length ? parts[i] : null;
}

/** "a=1;b=2" -> the value of name; sep defaults to ";" */
function paramList(v: string, sep: string): [string, string][] {
  return v
    .split(sep || ";")
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      return eq < 0 ? [p, ""] : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
    });
}

function percentDecode(v: string, plusIsSpace: boolean): string {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === "%" && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === "+" && plusIsSpace) bytes.push(32);
    else bytes.push(...enc.encode(c));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

export const TRANSFORMATIONS: Record<string, TransformSpec> = {
  "s.len": { min: 0, max: 0, doc: "length in bytes", fn: (v) => byteLength(s(v)) },
  "s.int": {
    min: 0,
    max: 0,
    doc: "the value as an integer (null when not numeric)",
    fn: (v) => (typeof v === "number" ? v : isIntText(v.trim()) ? Number(v.trim()) | 0 : null),
  },
  "s.substr": {
    min: 2,
    max: 2,
    doc: "{s.substr,offset,length}: offset < 0 counts from the end, length 0 means to the end",
    fn: (v, [o, l]) => {
      const str = s(v);
      let off = int(o);
      const len = int(l);
      if (Number.isNaN(off) || Number.isNaN(len) || len < 0) return null;
      if (off < 0) off = str.length + off;
      if (off < 0 || off > str.length) return null;
      return len === 0 ? str.slice(off) : str.slice(off, off + len);
    },
  },
  "s.select": {
    min: 2,
    max: 2,
    doc: "{s.select,index,separator}: the index-th field (index < 0 counts from the end)",
    fn: (v, [i, sep]) => (Number.isNaN(int(i)) ? null : selectPart(s(v), int(i), s(sep))),
  },
  "s.tolower": { min: 0, max: 0, doc: "lower case", fn: (v) => s(v).toLowerCase() },
  "s.toupper": { min: 0, max: 0, doc: "upper case", fn: (v) => s(v).toUpperCase() },
  "s.strip": { min: 1, max: 1, doc: "{s.strip,n}: without the first n characters", fn: (v, [n]) => (int(n) >= 0 ? s(v).slice(int(n)) : null) },
  "s.striptail": {
    min: 1,
    max: 1,
    doc: "{s.striptail,n}: without the last n characters",
    fn: (v, [n]) => (int(n) >= 0 ? s(v).slice(0, Math.max(0, s(v).length - int(n))) : null),
  },
  "s.replace": { min: 2, max: 2, doc: "{s.replace,match,repl}: every occurrence replaced", fn: (v, [a, b]) => (s(a) === "" ? s(v) : s(v).split(s(a)).join(s(b))) },
  "s.trim": { min: 0, max: 0, doc: "without leading and trailing whitespace", fn: (v) => s(v).trim() },
  "s.rtrim": { min: 0, max: 0, doc: "without trailing whitespace", fn: (v) => s(v).trimEnd() },
  "s.ltrim": { min: 0, max: 0, doc: "without leading whitespace", fn: (v) => s(v).trimStart() },
  "s.before": {
    min: 1,
    max: 1,
    doc: "{s.before,x}: the part before the first x (the whole value when there is none)",
    fn: (v, [x]) => {
      const i = s(v).indexOf(s(x));
      return i < 0 ? s(v) : s(v).slice(0, i);
    },
  },
  "s.after": {
    min: 1,
    max: 1,
    doc: '{s.after,x}: the part after the first x ("" when there is none)',
    fn: (v, [x]) => {
      const i = s(v).indexOf(s(x));
      return i < 0 ? "" : s(v).slice(i + s(x).length);
    },
  },
  "s.rm": { min: 1, max: 1, doc: "{s.rm,x}: every occurrence of x removed", fn: (v, [x]) => (s(x) === "" ? s(v) : s(v).split(s(x)).join("")) },
  "s.encode.base64": { min: 0, max: 0, doc: "base64 of the UTF-8 bytes", fn: (v) => builtin("buffer").Buffer.from(s(v), "utf8").toString("base64") },
  "s.decode.base64": {
    min: 0,
    max: 0,
    doc: "decoded base64 as UTF-8 text (null when not base64)",
    fn: (v) => {
      const t = s(v).trim();
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 === 1) return null;
      return builtin("buffer").Buffer.from(t, "base64").toString("utf8");
    },
  },
  "s.urlencode.param": {
    min: 0,
    max: 0,
    doc: "percent-encoded for a URL parameter (all but A-Z a-z 0-9 - _ . ~)",
    fn: (v) => encodeURIComponent(s(v)).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase()),
  },
  "s.urldecode.param": { min: 0, max: 0, doc: '%XX decoded and "+" as a space', fn: (v) => percentDecode(s(v), true) },
  "s.unescape.user": { min: 0, max: 0, doc: "%XX decoded", fn: (v) => percentDecode(s(v), false) },
  "s.escape.common": {
    min: 0,
    max: 0,
    doc: "quotes, backslash and NUL escaped with a backslash",
    fn: (v) => s(v).replace(/['"\\]/g, (c) => "\\" + c).replace(/\0/g, "\\0"),
  },
  "s.md5": { min: 0, max: 0, doc: "MD5, lower-case hex", fn: (v) => hex("md5", v) },
  "s.sha256": { min: 0, max: 0, doc: "SHA-256, lower-case hex", fn: (v) => hex("sha256", v) },
  "s.numeric": { min: 0, max: 0, doc: "only the digits", fn: (v) => s(v).replace(/[^0-9]/g, "") },
  "param.value": {
    min: 1,
    max: 2,
    doc: '{param.value,name[,sep]}: the value of name in "a=1;b=2" (null when absent)',
    fn: (v, [name, sep]) => paramList(s(v), s(sep)).find(([k]) => k === s(name))?.[1] ?? null,
  },
  "param.count": { min: 0, max: 1, doc: "{param.count[,sep]}: how many parameters", fn: (v, [sep]) => paramList(s(v), s(sep)).length },
  "param.in": {
    min: 1,
    max: 2,
    doc: "{param.in,name[,sep]}: 1 when the parameter is present, else 0",
    fn: (v, [name, sep]) => (paramList(s(v), s(sep)).some(([k]) => k === s(name)) ? 1 : 0),
  },
  "line.count": { min: 0, max: 0, doc: "number of lines", fn: (v) => (s(v) === "" ? 0 : s(v).replace(/\n$/, "").split("\n").length) },
  "sql.val": { min: 0, max: 0, doc: "{sql.val} (sqlops): the value as an SQL literal: an integer, 'quoted text' (' doubled), NULL for null", fn: sqlQuoted, ofNull: "NULL" },
  "sql.val.int": { min: 0, max: 0, doc: "{sql.val.int} (sqlops): as {sql.val}, 0 for null", fn: sqlQuoted, ofNull: "0" },
  "sql.val.str": { min: 0, max: 0, doc: "{sql.val.str} (sqlops): as {sql.val}, '' for null", fn: sqlQuoted, ofNull: "''" },
  "line.at": {
    min: 1,
    max: 1,
    doc: "{line.at,n}: the n-th line (n < 0 counts from the end)",
    fn: (v, [n]) => selectPart(s(v).replace(/\n$/, ""), int(n), "\n"),
  },
};
