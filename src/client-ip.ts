// Which address a request is from. By default the socket's peer address alone:
// X-Forwarded-For is written by the client and proves nothing. With
// trusted_proxies set, a request whose peer is one of those proxies is taken to
// be from the address the proxies recorded: X-Forwarded-For read right to left,
// skipping our own proxies, the first address that is not one of them.
import { isIP } from "./params.ts";
import { normalizeIp } from "./ip.ts";

type Range = { v6: boolean; base: bigint; bits: number };

function toBig(ip: string): { v6: boolean; n: bigint } | undefined {
  ip = normalizeIp(ip);
  if (!isIP(ip)) return undefined;
  if (!ip.includes(":")) return { v6: false, n: ip.split(".").reduce((a, o) => (a << 8n) + BigInt(o), 0n) };
  let [head, tail = ""] = ip.split("::");
  if (!ip.includes("::")) tail = "";
  const expand = (s: string) => (s === "" ? [] : s.split(":")).flatMap((g) => {
    if (!g.includes(".")) return [parseInt(g, 16)];
    const o = g.split(".").map(Number);
    return [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
  });
  const h = expand(head);
  const t = expand(tail);
  const groups = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return { v6: true, n: groups.reduce((a, g) => (a << 16n) + BigInt(g), 0n) };
}

/** Compile a list from parseAllowedIps ("a.b.c.d", "x::/64", ...) into a matcher. */
export function ipMatcher(list: string[]): (ip: string) => boolean {
  const ranges: Range[] = list.map((entry) => {
    const [addr, prefix] = entry.split("/");
    const a = toBig(addr)!;
    const width = a.v6 ? 128 : 32;
    const bits = prefix === undefined ? width : Number(prefix);
    return { v6: a.v6, bits, base: a.n >> BigInt(width - bits) };
  });
  return (ip) => {
    const a = toBig(ip);
    if (!a) return false;
    return ranges.some((r) => r.v6 === a.v6 && a.n >> BigInt((a.v6 ? 128 : 32) - r.bits) === r.base);
  };
}

/** The client's address: the peer, or, when the peer is a trusted proxy, the
 * nearest untrusted address in X-Forwarded-For (the peer when there is none). */
export function clientAddress(peer: string, forwardedFor: string | null, trusted: ((ip: string) => boolean) | undefined): string {
  if (!trusted || forwardedFor === null || !trusted(peer)) return peer;
  const hops = forwardedFor.split(",").map((s) => s.trim().replace(/^\[(.*)\]$/, "$1"));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (!isIP(normalizeIp(hop))) return peer; // garbage in the chain: believe nothing
    if (!trusted(hop)) return hop;
  }
  return peer;
}
