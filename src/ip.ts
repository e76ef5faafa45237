// Addresses: one parser and one matcher for allowed_ips, trusted_proxies and the
// entries of X-Forwarded-For, on ipaddr.js. The text is checked here before
// ipaddr.js reads it, because ipaddr.js also takes forms inet_pton refuses
// (0x7f.1, 127.1, octal 010.0.0.1, zone ids) and reads ::1.2.3.4 as ::ffff:1.2.3.4.
//
// One address space: every address and range is matched as 128 bits, an IPv4
// address a.b.c.d being ::ffff:a.b.c.d, which is how every runtime reports an IPv4
// client on a dual-stack socket. So a client ::ffff:10.1.2.3 is 10.1.2.3, and a
// range ::ffff:10.0.0.0/104 is 10.0.0.0/8, wherever either is written.
//
// ipaddr.js is loaded on demand (src/on-demand.ts), when allowed_ips or
// trusted_proxies is given: on Deno, as the first CommonJS package of the
// process, it costs ≈ 6 MiB of RSS. normalizeIp, which every request may use,
// needs none of it.
import type ipaddr from "ipaddr.js";
import { quote } from "./log.ts";
import { OnDemand } from "./on-demand.ts";

export type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** ipaddr.js, once loaded */
export const addressLibrary = new OnDemand<typeof ipaddr>("ipaddr.js", async () => (await import("ipaddr.js")).default);

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** hex groups and colons, optionally ending in a dotted IPv4 address */
const IPV6_TEXT = /^([0-9A-Fa-f:]*:)([0-9A-Fa-f]{0,4}|[\d.]+)$/;
/** the longest text of an address: eight groups of four, or six and a dotted quad */
const MAX_TEXT = 45;

/** "::ffff:127.0.0.1" -> "127.0.0.1": every runtime reports an IPv4 client on a
 * dual-stack socket in mapped form; Kamailio users compare srcip with plain IPv4. */
export function normalizeIp(addr: string): string {
  return addr.length > 7 && addr.charCodeAt(0) === 58 /* : */ && addr.startsWith("::ffff:") && addr.includes(".")
    ? addr.slice(7)
    : addr;
}

/** An IPv4 or IPv6 address written as inet_pton takes it (dotted decimal IPv4,
 * RFC 4291 IPv6, no zone id), IPv4-mapped IPv6 as IPv4; undefined for anything else. */
export function parseAddress(text: string): Address | undefined {
  if (text.length > MAX_TEXT) return undefined;
  const lib = addressLibrary.value;
  if (IPV4.test(text)) return new lib.IPv4(text.split(".").map(Number));
  const m = IPV6_TEXT.exec(text);
  if (!m) return undefined;
  let v6 = text;
  if (m[2].includes(".")) {
    // an embedded IPv4 address becomes its two groups, so that ::1.2.3.4 stays
    // the IPv4-compatible ::102:304 it is
    if (!IPV4.test(m[2])) return undefined;
    const [a, b, c, d] = m[2].split(".").map(Number);
    v6 = `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  let addr: ipaddr.IPv6;
  try {
    addr = lib.IPv6.parse(v6);
  } catch {
    return undefined;
  }
  return addr.isIPv4MappedAddress() ? addr.toIPv4Address() : addr;
}

/** The address a runtime reports for a socket's peer: a link-local IPv6 peer may
 * carry its zone (fe80::1%eth0), which says where it is, not who it is. */
export function parsePeerAddress(text: string): Address | undefined {
  const zone = text.indexOf("%");
  return parseAddress(zone < 0 ? text : text.slice(0, zone));
}

function maskToPrefix(mask: string): number {
  let bits = 0;
  for (const octet of mask.split(".")) bits = bits * 256 + Number(octet);
  const inverted = ~bits >>> 0;
  // a valid netmask is ones followed by zeros: its inverse plus one is a power of two
  if ((inverted & (inverted + 1)) !== 0) throw new Error(`netmask ${quote(mask)} is not contiguous`);
  return 32 - Math.log2(inverted + 1);
}

/** One entry of allowed_ips or trusted_proxies in its canonical text: the address
 * as ipaddr.js prints it, IPv4-mapped forms as IPv4 (prefix − 96). */
function canonicalEntry(entry: string): string {
  const slash = entry.indexOf("/");
  const text = slash < 0 ? entry : entry.slice(0, slash);
  const suffix = slash < 0 ? undefined : entry.slice(slash + 1);
  const addr = parseAddress(text);
  if (!addr) throw new Error(`${quote(entry)} is not an IP address or CIDR range`);
  const mapped = addr.kind() === "ipv4" && !IPV4.test(text);
  if (suffix === undefined) return addr.toString();
  if (addr.kind() === "ipv4" && !mapped && IPV4.test(suffix)) return `${addr}/${maskToPrefix(suffix)}`;
  const max = addr.kind() === "ipv4" && !mapped ? 32 : 128;
  if (!/^\d{1,3}$/.test(suffix) || Number(suffix) > max) {
    throw new Error(`${quote(entry)} has a bad prefix length (0..${max}${max === 32 ? " or a netmask" : ""})`);
  }
  const prefix = Number(suffix);
  if (mapped) {
    // "::ffff:10.0.0.0/8" would be ::/8, every IPv4 address and more: surely meant as 10.0.0.0/8
    if (prefix < 96) throw new Error(`${quote(entry)}: an IPv4-mapped range needs a prefix from 96 to 128 (::ffff:10.0.0.0/104 is 10.0.0.0/8)`);
    return `${addr}/${prefix - 96}`;
  }
  return `${addr}/${prefix}`;
}

/** The `allowed_ips` (and `trusted_proxies`) list: IPs, CIDR ranges and Kamailio's
 * ip/netmask form, v4 and v6, whitespace trimmed, each in its canonical text. */
export function parseAllowedIps(list: string): string[] {
  return list
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")
    .map(canonicalEntry);
}

/** 128 bits: IPv4 as its mapped IPv6 address (built from the octets: ipaddr.js's
 * toIPv4MappedAddress prints and parses the address again) */
function wide(addr: Address): ipaddr.IPv6 {
  if (addr.kind() === "ipv6") return addr as ipaddr.IPv6;
  const [a, b, c, d] = (addr as ipaddr.IPv4).octets;
  return new addressLibrary.value.IPv6([0, 0, 0, 0, 0, 0xffff, (a << 8) | b, (c << 8) | d]);
}

/** peer addresses remembered per matcher: a client sends many requests from one
 * address, and parsing one costs microseconds; emptied when full */
const REMEMBERED = 1024;

/** Whether an address is in a list from parseAllowedIps: the one matcher of
 * allowed_ips and trusted_proxies. */
export class AddressMatcher {
  readonly #ranges: [ipaddr.IPv6, number][];
  readonly #seen = new Map<string, boolean>();

  constructor(list: readonly string[]) {
    this.#ranges = list.map((entry) => {
      const canonical = canonicalEntry(entry);
      const slash = canonical.indexOf("/");
      const addr = parseAddress(slash < 0 ? canonical : canonical.slice(0, slash))!;
      const bits = addr.kind() === "ipv4" ? 32 : 128;
      const prefix = slash < 0 ? bits : Number(canonical.slice(slash + 1));
      return [wide(addr), prefix + 128 - bits];
    });
  }

  get size(): number {
    return this.#ranges.length;
  }

  has(addr: Address): boolean {
    const a = wide(addr);
    for (const [base, prefix] of this.#ranges) if (a.match(base, prefix)) return true;
    return false;
  }

  /** a socket peer's address as the runtime reports it; false when it is none */
  includes(peer: string): boolean {
    let known = this.#seen.get(peer);
    if (known === undefined) {
      const addr = parsePeerAddress(peer);
      known = addr !== undefined && this.has(addr);
      if (this.#seen.size >= REMEMBERED) this.#seen.clear();
      this.#seen.set(peer, known);
    }
    return known;
  }
}
