// The htable module, in memory: tables declared by modparam("htable", "htable",
// "name=>size=8;autoexpire=60;initval=0;updateexpire=1;"), read and written as
// $sht(name=>key), emptied by sht_rm() / sht_reset(). Per process, kept across
// requests, like $var.
//
// Bounded as Kamailio's are: there, items live in shared memory, and a set that
// finds no more of it fails (-1, "no more shm"). Here all tables together may hold
// shm_mem_size MiB (Kamailio's global, default 64), each item counted as its key
// and value in UTF-8 bytes plus ITEM_OVERHEAD, Kamailio's cell header. Expired
// items are gone for reads at once and swept every timer_interval seconds.
import type { RequestContext } from "../context.ts";
import { L_ERR, quote } from "../log.ts";
import { CfgSyntaxError, type Pos } from "./lexer.ts";
import { byteLength, type Value } from "./values.ts";

/** bytes counted per item besides its key and value (ht_cell_t and its allocation) */
export const ITEM_OVERHEAD = 64;
/** Kamailio's SHM_MEM_SIZE, in MiB */
export const DEFAULT_SHM_MIB = 64;
/** Kamailio's ht_timer_interval, in seconds */
export const DEFAULT_TIMER_INTERVAL = 20;

export interface TableOptions {
  /** 2^size slots, clamped as Kamailio does (≤ 1 → 3, > 31 → 14); a Map needs no slots, so it only documents the intent */
  size: number;
  /** seconds after the last set (after the insert with updateexpire=0) an item expires; 0 = never */
  autoexpire: number;
  /** the integer a missing item reads as, instead of $null */
  initval?: number;
  /** a set renews the expiry (default); 0: only the insert starts it */
  updateexpire: boolean;
}

interface Item {
  value: Value;
  /** Date.now() past which the item is gone; 0 = never */
  expires: number;
  bytes: number;
}

/** Shared by every table of the process, as Kamailio's shm pool is. */
export const htableMemory = { limit: DEFAULT_SHM_MIB * 1024 * 1024, used: 0 };

export class HTable {
  readonly #items = new Map<string, Item>();
  constructor(
    readonly name: string,
    public options: TableOptions,
  ) {}

  get size(): number {
    return this.#items.size;
  }

  get(key: string, now = Date.now()): Value {
    const item = this.#items.get(key);
    if (item !== undefined && item.expires !== 0 && now > item.expires) this.delete(key);
    else if (item !== undefined) return item.value;
    return this.options.initval ?? null;
  }

  /** false when the tables' memory (shm_mem_size) is used up: nothing changed */
  set(key: string, value: Value, now = Date.now()): boolean {
    if (value === null) {
      this.delete(key);
      return true;
    }
    const old = this.#items.get(key);
    const live = old !== undefined && (old.expires === 0 || now <= old.expires);
    const bytes = ITEM_OVERHEAD + byteLength(key) + (typeof value === "string" ? byteLength(value) : 8);
    const grows = bytes - (old?.bytes ?? 0);
    if (htableMemory.used + grows > htableMemory.limit) return false;
    htableMemory.used += grows;
    const { autoexpire, updateexpire } = this.options;
    // HT_UPDATE_EXPIRE: a live item keeps its expiry unless updateexpire is set
    const expires = autoexpire === 0 ? 0 : live && !updateexpire ? old.expires : now + autoexpire * 1000;
    this.#items.set(key, { value, expires, bytes });
    if (expires !== 0) sweeper.need();
    return true;
  }

  delete(key: string): void {
    const item = this.#items.get(key);
    if (item === undefined) return;
    htableMemory.used -= item.bytes;
    this.#items.delete(key);
  }

  clear(): void {
    for (const item of this.#items.values()) htableMemory.used -= item.bytes;
    this.#items.clear();
  }

  /** drop the expired items; whether any item can still expire */
  sweep(now = Date.now()): boolean {
    if (this.options.autoexpire === 0) return false;
    let expiring = false;
    for (const [key, item] of this.#items) {
      if (item.expires !== 0 && now > item.expires) this.delete(key);
      else if (item.expires !== 0) expiring = true;
    }
    return expiring;
  }
}

const tables = new Map<string, HTable>();

/** Sweeps every timer_interval seconds while some item can expire, and stops
 * with the last one, so that it never keeps a process (or a test) alive. */
class Sweeper {
  interval = DEFAULT_TIMER_INTERVAL;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = 0;

  need(): void {
    if (this.#timer !== undefined) {
      // a platform that stops timers between requests (Workers): sweep on a set
      // once the timer has missed two turns, so that memory is still returned
      if (Date.now() - this.#last > 2000 * this.interval) this.sweep();
      return;
    }
    this.#last = Date.now();
    const timer = setInterval(() => this.sweep(), this.interval * 1000);
    (timer as { unref?: () => void }).unref?.();
    if (typeof timer === "number") (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer);
    this.#timer = timer;
  }

  sweep(): void {
    const now = Date.now();
    this.#last = now;
    let expiring = false;
    for (const t of tables.values()) if (t.sweep(now)) expiring = true;
    if (!expiring) this.stop();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

const sweeper = new Sweeper();

/** modparam("htable", "timer_interval", n): seconds between sweeps; ≤ 0 is 20, as in Kamailio. */
export function setTimerInterval(seconds: number): void {
  sweeper.stop();
  sweeper.interval = seconds > 0 ? seconds : DEFAULT_TIMER_INTERVAL;
  for (const t of tables.values()) if (t.sweep()) sweeper.need();
}

/** shm_mem_size (MiB): what all htables together may hold. */
export function setMemoryLimit(mib: number): void {
  htableMemory.limit = mib * 1024 * 1024;
}

/** Sweep now (what the timer does). */
export function sweepTables(): void {
  sweeper.sweep();
}

const UNSIGNED = /^\d{1,10}$/;
/** the table spec's keys Kamailio also takes, for its database and DMQ: accepted, no effect */
const WITHOUT_EFFECT = new Set(["dbtable", "cols", "dbmode", "dmqreplicate", "coldelim", "colnull", "reloadat"]);

function parseOptions(name: string, params: string, pos: Pos, notes: string[]): TableOptions {
  const options: TableOptions = { size: 4, autoexpire: 0, updateexpire: true };
  const bad = (what: string) => new CfgSyntaxError(pos, `htable ${quote(name)}: ${what}`);
  const unsigned = (key: string, text: string) => {
    if (!UNSIGNED.test(text) || Number(text) > 0xffffffff) throw bad(`${key} ${quote(text)} is not an unsigned integer`);
    return Number(text);
  };
  for (const param of params.split(";")) {
    if (param.trim() === "") continue;
    const eq = param.indexOf("=");
    const key = (eq < 0 ? param : param.slice(0, eq)).trim();
    const text = eq < 0 ? "" : param.slice(eq + 1).trim();
    switch (key) {
      case "size": {
        const size = unsigned(key, text);
        options.size = size <= 1 ? 3 : size > 31 ? 14 : size;
        break;
      }
      case "autoexpire":
        options.autoexpire = unsigned(key, text);
        break;
      case "updateexpire":
        options.updateexpire = unsigned(key, text) !== 0;
        break;
      case "initval":
        if (!/^[+-]?\d{1,19}$/.test(text) || !Number.isSafeInteger(Number(text))) throw bad(`initval ${quote(text)} is not an integer`);
        options.initval = Number(text);
        break;
      default:
        if (!WITHOUT_EFFECT.has(key)) {
          throw bad(`unknown attribute ${quote(key)} (known: size, autoexpire, initval, updateexpire; ${[...WITHOUT_EFFECT].join(", ")} are accepted without effect)`);
        }
        notes.push(`${pos.file}:${pos.line}:${pos.col}: htable ${name}: ${key} has no effect here (no database, no DMQ): ignored`);
    }
  }
  return options;
}

/** modparam("htable", "htable", "kv=>size=8;autoexpire=60;"): the table, made or
 * given new options. `declared` holds the tables of this configuration: Kamailio
 * refuses a second declaration of a name. A table of the same name declared by
 * another configuration of this process is the same table. */
export function declareTable(spec: string, pos: Pos, declared: Map<string, Pos>, notes: string[]): string {
  const m = /^\s*([A-Za-z0-9_.-]+)\s*=>(.*)$/s.exec(spec);
  if (!m) throw new CfgSyntaxError(pos, `htable: expected "name=>size=...;", found ${quote(spec)}`);
  const [, name, params] = m;
  const first = declared.get(name);
  if (first) throw new CfgSyntaxError(pos, `htable ${quote(name)} is declared twice (first at ${first.file}:${first.line}:${first.col})`);
  declared.set(name, pos);
  const options = parseOptions(name, params, pos, notes);
  const existing = tables.get(name);
  if (existing) existing.options = options;
  else tables.set(name, new HTable(name, options));
  return name;
}

export function table(name: string, pos: Pos): HTable {
  const t = tables.get(name);
  if (!t) throw new CfgSyntaxError(pos, `no htable ${quote(name)}: declare it with modparam("htable", "htable", "${name}=>size=8;")`);
  return t;
}

/** $sht(name=>key): `key` is a formatted string, evaluated per access. */
export function shtPv(inner: string, pos: Pos, format: (text: string, pos: Pos) => (ctx: RequestContext) => string) {
  const m = /^([^=]+)=>(.*)$/s.exec(inner);
  if (!m) throw new CfgSyntaxError(pos, `$sht(${inner}): expected $sht(table=>key)`);
  const t = table(m[1].trim(), pos);
  const key = format(m[2], pos);
  return {
    get: (ctx: RequestContext): Value => t.get(key(ctx)),
    set: (ctx: RequestContext, v: Value) => {
      const k = key(ctx);
      if (!t.set(k, v)) {
        const mib = htableMemory.limit / (1024 * 1024);
        ctx.logger.log(L_ERR, `${pos.file}:${pos.line}: cannot set $sht(${t.name}=>${quote(k)}): no more shared memory (the htables hold shm_mem_size ${mib} MiB)`, "<script>");
      }
    },
  };
}
