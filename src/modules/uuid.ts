// Kamailio's uuid module: $uuid(g|r|t|s) and KEMI's KSR.uuid.get/rget/tget.
// libuuid's uuid_generate gives a random (version 4) UUID when the system has a
// random source, uuid_generate_random always does, and uuid_generate_time(_safe)
// gives a time-based version 1 UUID. Here version 4 comes from the Web Crypto API
// (crypto.randomUUID, on every runtime) and version 1 from the clock with a
// random node and clock sequence per process (RFC 9562 §5.1, §6.10: no MAC
// address is read), kept strictly increasing within the process, so "safe" always
// holds and $uuid(s) is never null here.
import type { KsrUuidApi } from "../ksr-api.ts";
import { PvError, type Pv } from "../pv-accessor.ts";
import { quote } from "../log.ts";

/** 100-ns intervals between 1582-10-15 (the Gregorian reform, UUID time zero) and 1970-01-01 */
const GREGORIAN_OFFSET = 122192928000000000n;

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

let node: string | undefined;
let clockSeq = 0;
let lastTicks = 0n;

/** A version 1 UUID, lower-case, as uuid_unparse_lower writes it. */
export function timeUuid(): string {
  if (node === undefined) {
    const n = randomBytes(6);
    n[0] |= 0x01; // the multicast bit: a random node, never a real MAC address
    node = hex(n);
    const s = randomBytes(2);
    clockSeq = ((s[0] << 8) | s[1]) & 0x3fff;
  }
  // milliseconds from the clock, the 100-ns digits from a counter: strictly increasing
  let ticks = BigInt(Date.now()) * 10000n + GREGORIAN_OFFSET;
  if (ticks <= lastTicks) ticks = lastTicks + 1n;
  lastTicks = ticks;
  const low = (ticks & 0xffffffffn).toString(16).padStart(8, "0");
  const mid = ((ticks >> 32n) & 0xffffn).toString(16).padStart(4, "0");
  const high = (((ticks >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, "0");
  const seq = (clockSeq | 0x8000).toString(16).padStart(4, "0");
  return `${low}-${mid}-${high}-${seq}-${node}`;
}

/** A version 4 (random) UUID. */
export function randomUuid(): string {
  return crypto.randomUUID();
}

const UUID_KINDS: Record<string, () => string> = { g: randomUuid, r: randomUuid, t: timeUuid, s: timeUuid };

/** $uuid(name): Kamailio reads only the first letter, any case (g generated, r
 * random, t time, s time-safe); a name starting with another letter is refused
 * here, where Kamailio would take it as g. */
export function uuidPv(spec: string, inner: string): Pv {
  const first = inner[0]?.toLowerCase() ?? "";
  const make = Object.hasOwn(UUID_KINDS, first) ? UUID_KINDS[first] : undefined;
  if (!make) throw new PvError(`unknown $uuid name ${quote(inner)} in ${quote(spec)}: g (generated), r (random), t (time-based) or s (time-based, safe)`);
  return { spec, get: () => make() };
}

/** KSR.uuid: Kamailio's KEMI exports of the uuid module. */
export class KsrUuid implements KsrUuidApi {
  /** uuid_generate: a random UUID */
  get(): string {
    return randomUuid();
  }
  /** uuid_generate_random: a random UUID */
  rget(): string {
    return randomUuid();
  }
  /** uuid_generate_time_safe: a time-based UUID */
  tget(): string {
    return timeUuid();
  }
}
