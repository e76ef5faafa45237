// Values of the cfg language and Kamailio's conversions between them (rvalue.c).
import type { PvValue } from "../pv.ts";

/** int, string or null (an undefined / null pseudo-variable) */
export type Value = PvValue;

export const NULL_TEXT = "<null>";

/** String -> int as Kamailio converts: "" is 0, decimal and 0x are parsed, anything else is 0. */
export function toInt(v: Value): number {
  if (typeof v === "number") return v;
  if (v === null || v === "") return 0;
  const s = v.trim();
  if (/^[+-]?\d+$/.test(s)) return Number(s) | 0;
  if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s, 16) | 0;
  return 0;
}

/** Whether the string is an integer as str2sint takes it (for is_int, s.int). */
export function isIntText(s: string): boolean {
  return /^[+-]?\d+$/.test(s);
}

export function toStr(v: Value | undefined): string {
  return typeof v === "string" ? v : v == null ? "" : String(v);
}

/** How a value prints in a formatted string: null is "<null>". */
export function printValue(v: Value): string {
  return typeof v === "string" ? v : v === null ? NULL_TEXT : String(v);
}

const utf8 = new TextEncoder();

/** Length in bytes, as Kamailio's str.len. */
export function byteLength(s: string): number {
  // ASCII fast path: no encoding needed
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.encode(s).length;
  return s.length;
}
