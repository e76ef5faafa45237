// Kamailio's statistics module: variables a route declares
// (modparam("statistics", "variable", "name") or "name/no_reset"), changes with
// update_stat(name, n) and reset_stat(name), and reads as $stat(name) (Kamailio's
// pv module). The same store serves the cfg functions, KSR.statistics and the
// metrics path, which exports each as mhttpd_stat{name="..."}.
//
// Kept per process: with workers > 1 each worker has its own values (Kamailio's
// live in shared memory); $stat reads this worker's, a scrape sums all workers'.
import type { KsrStatisticsApi } from "../ksr-api.ts";
import { quote, type Logger } from "../log.ts";
import { PvError, type Pv } from "../pv-accessor.ts";

interface Statistic {
  value: number;
  /** declared "name/no_reset": reset_stat leaves it as it is */
  noReset: boolean;
}

const statistics = new Map<string, Statistic>();

/** A name as a scrape label and a cfg literal both carry it plainly. Kamailio takes
 * any text; these are the characters its own statistics use. */
const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Names declared by the declarations being read (one cfg, one modparams export):
 * a name declared twice there is an error, as Kamailio's register_stat fails. */
let declaring = new Set<string>();

/** Start reading one route's declarations. */
export function beginStatisticDeclarations(): void {
  declaring = new Set();
}

/** modparam("statistics", "variable", spec): the declared name; throws an Error
 * saying what is wrong. A name declared by an earlier route keeps its value. */
export function declareStatistic(spec: string): string {
  const slash = spec.indexOf("/");
  const name = (slash < 0 ? spec : spec.slice(0, slash)).trim();
  const flag = slash < 0 ? undefined : spec.slice(slash + 1).trim();
  if (!NAME.test(name)) throw new Error(`statistic name ${quote(name)}: expected 1 to 128 letters, digits and _ . : -`);
  if (flag !== undefined && flag.toLowerCase() !== "no_reset") throw new Error(`statistic ${name}: unsupported flag ${quote(flag)} (the one flag is no_reset)`);
  if (declaring.has(name)) throw new Error(`statistic ${name} is declared twice`);
  declaring.add(name);
  const noReset = flag !== undefined;
  const known = statistics.get(name);
  if (known) known.noReset = noReset;
  else statistics.set(name, { value: 0, noReset });
  return name;
}

export function isStatistic(name: string): boolean {
  return statistics.has(name);
}

/** Add n (negative to lower it); false for a name never declared. */
export function updateStatistic(name: string, n: number): boolean {
  const s = statistics.get(name);
  if (!s) return false;
  s.value += n;
  return true;
}

/** Back to 0, unless declared no_reset; false for a name never declared. */
export function resetStatistic(name: string): boolean {
  const s = statistics.get(name);
  if (!s) return false;
  if (!s.noReset) s.value = 0;
  return true;
}

/** name -> value, for the metrics path */
export function statisticsSnapshot(): Record<string, number> {
  // a statistic may be called "__proto__": no prototype to write onto
  const out = Object.create(null) as Record<string, number>;
  for (const [name, s] of statistics) out[name] = s.value;
  return out;
}

const UNDECLARED = (name: string) => `no statistic ${quote(name)}: declare it with modparam("statistics", "variable", "${NAME.test(name) ? name : "name"}")`;

/** $stat(name): the value (this process's), read per access. */
export function statPv(spec: string, name: string): Pv {
  if (!statistics.has(name)) throw new PvError(`${UNDECLARED(name)} (${quote(spec)})`);
  return { spec, get: () => statistics.get(name)?.value ?? null };
}

/** update_stat's value as Kamailio's fixup reads its text (str2s: an optional
 * sign, then up to 65535); undefined when it is not one. */
export function parseUpdateValue(raw: string | number): number | undefined {
  if (typeof raw === "number") return Number.isInteger(raw) && Math.abs(raw) <= 65535 ? raw : undefined;
  const m = /^([+-]?)(\d{1,5})$/.exec(raw.trim());
  if (!m || Number(m[2]) > 65535) return undefined;
  return m[1] === "-" ? -Number(m[2]) : Number(m[2]);
}

/** KSR.statistics: Kamailio's KEMI exports of the statistics module. */
export class KsrStatistics implements KsrStatisticsApi {
  constructor(private readonly logger: Logger) {}

  update_stat(sname: string, sval: number): number {
    if (!Number.isSafeInteger(sval)) return this.#fail(`update_stat: the value must be an integer, got ${quote(String(sval))}`);
    if (!updateStatistic(String(sname), sval)) return this.#fail(`update_stat: ${UNDECLARED(String(sname))}`);
    return 1;
  }

  reset_stat(sname: string): number {
    if (!resetStatistic(String(sname))) return this.#fail(`reset_stat: ${UNDECLARED(String(sname))}`);
    return 1;
  }

  #fail(message: string): number {
    this.logger.err(message, "<script>");
    return -1;
  }
}
