// Which address a request is from. By default the socket's peer address alone:
// X-Forwarded-For is written by the client and proves nothing. With
// trusted_proxies set, a request whose peer is one of those proxies is taken to
// be from the address the proxies recorded: X-Forwarded-For read right to left,
// skipping our own proxies, the first address that is not one of them.
//
// It fails closed: when the entry we must read is not an address, the client is
// unknown (null), never the proxy. The proxy wrote that entry, so it is all we
// know of the client; taking the proxy instead would let anyone behind it pass
// an allowed_ips that admits the proxy.
import { normalizeIp, parseAddress, type Address, type AddressMatcher } from "./ip.ts";
import { quote } from "./log.ts";

export interface Client {
  /** the peer as the runtime reports it, or the forwarded address in canonical
   * text; null when a trusted proxy forwarded something that is not an address */
  address: string | null;
  /** why the address is null, for the log */
  unknown?: string;
}

/** Optional whitespace around an entry: spaces and tabs, as HTTP's OWS (String.trim
 * would also eat NBSP and other bytes a header may hold). */
const OWS = /^[ \t]+|[ \t]+$/g;
/** IPv4 or [IPv6] followed by a port, as Azure Application Gateway writes them */
const WITH_PORT = /^(?:([\d.]+)|\[([^\]]*)\]):(\d{1,5})$/;

/** One X-Forwarded-For entry as proxies write it: a bare address, an IPv6 address
 * in brackets, or an IPv4 or bracketed IPv6 address followed by :port (the port
 * dropped). An IPv6 address with a port and no brackets cannot be told from an
 * address; it is read as written. */
export function forwardedAddress(entry: string): Address | undefined {
  const text = entry.replace(OWS, "");
  if (text.charCodeAt(0) === 91 /* [ */ && text.endsWith("]")) {
    const inner = text.slice(1, -1);
    return inner.includes(":") ? parseAddress(inner) : undefined;
  }
  const m = WITH_PORT.exec(text);
  if (!m) return parseAddress(text);
  if (Number(m[3]) > 65535) return undefined;
  if (m[1] !== undefined) return m[1].includes(".") ? parseAddress(m[1]) : undefined;
  return m[2].includes(":") ? parseAddress(m[2]) : undefined;
}

/** The client: the peer, or, when the peer is a trusted proxy, the nearest
 * address in X-Forwarded-For that is not a trusted proxy (the peer when every
 * entry is one); unknown when the entry to read is not an address. */
export function clientAddress(peer: string, forwardedFor: string | null, trusted: AddressMatcher | undefined): Client {
  if (!trusted || forwardedFor === null || !trusted.includes(peer)) return { address: peer };
  const entries = forwardedFor.split(",");
  for (let i = entries.length - 1; i >= 0; i--) {
    const hop = forwardedAddress(entries[i]);
    if (!hop) {
      return {
        address: null,
        unknown: `X-Forwarded-For entry ${quote(entries[i].replace(OWS, ""))} from trusted proxy ${normalizeIp(peer)} is not an address`,
      };
    }
    if (!trusted.has(hop)) return { address: hop.toString() };
  }
  return { address: peer };
}
