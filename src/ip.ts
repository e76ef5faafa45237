// Address helpers shared by the parameter schemas and the request context.
import * as v from "valibot";

const ipSchema = v.pipe(v.string(), v.ip());
const ipv4Schema = v.pipe(v.string(), v.ipv4());

/** "::ffff:127.0.0.1" -> "127.0.0.1": every runtime reports an IPv4 client on a
 * dual-stack socket in mapped form; Kamailio users compare srcip with plain IPv4. */
export function normalizeIp(addr: string): string {
  return addr.length > 7 && addr.charCodeAt(0) === 58 /* : */ && addr.startsWith("::ffff:") && addr.includes(".")
    ? addr.slice(7)
    : addr;
}

function maskToPrefix(mask: string): number {
  let bits = 0;
  for (const octet of mask.split(".")) bits = bits * 256 + Number(octet);
  const inverted = ~bits >>> 0;
  // a valid netmask is ones followed by zeros: its inverse plus one is a power of two
  if ((inverted & (inverted + 1)) !== 0) throw new Error(`netmask "${mask}" is not contiguous`);
  return 32 - Math.log2(inverted + 1);
}

/** The `allowed_ips` list: IPs, CIDR ranges and Kamailio's ip/netmask form,
 * normalized to what Hono's ip-restriction middleware takes. */
export function parseAllowedIps(list: string): string[] {
  return list
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")
    .map((entry) => {
      const [addr, suffix, extra] = entry.split("/");
      if (extra !== undefined || !v.is(ipSchema, addr)) throw new Error(`"${entry}" is not an IP address or CIDR range`);
      if (suffix === undefined) return addr;
      const v4 = v.is(ipv4Schema, addr);
      if (v4 && v.is(ipv4Schema, suffix)) return `${addr}/${maskToPrefix(suffix)}`;
      const max = v4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(suffix) || Number(suffix) > max) {
        throw new Error(`"${entry}" has a bad prefix length (0..${max}${v4 ? " or a netmask" : ""})`);
      }
      return `${addr}/${Number(suffix)}`;
    });
}
