// Addresses without a server: the allowed_ips / trusted_proxies lists, the one
// matcher both use (property-tested against a plain 128-bit reference), the
// X-Forwarded-For rules, and the same answers from both lists through the fetch
// handler. The property tests are seeded: MHTTPD_FC_SEED=<seed> replays a run
// (fast-check prints the seed and the counterexample when one fails).
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import fc from "fast-check";
import { clientAddress, forwardedAddress } from "../src/client-ip.ts";
import { createFetchHandler } from "../src/edge.ts";
import { AddressMatcher, parseAddress, parseAllowedIps } from "../src/ip.ts";
import { escapeLogLine } from "../src/log.ts";
import "./_libraries.ts";

const SEED = Number(process.env.MHTTPD_FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = { seed: SEED, numRuns: 3000 };

const MAPPED = 0xffffn << 32n;
/** the reference: every address as 128 bits, IPv4 as ::ffff:a.b.c.d */
const contains = (base: bigint, prefix: number, addr: bigint) => prefix === 0 || base >> BigInt(128 - prefix) === addr >> BigInt(128 - prefix);

const v4Text = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join(".");
const groups = (n: bigint) => Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));

/** An IPv6 address as people and proxies write it: full or with the longest run of
 * zero groups as "::", any case, the last 32 bits dotted when asked. */
function v6Text(n: bigint, style: { compress: boolean; upper: boolean; dotted: boolean }): string {
  const g = groups(n).map((x) => x.toString(16));
  let tail: string[] = [];
  if (style.dotted) tail = [v4Text(n & 0xffffffffn)];
  const head = style.dotted ? g.slice(0, 6) : g;
  let text: string;
  let best = [-1, 0];
  if (style.compress) {
    for (let i = 0; i < head.length; ) {
      let j = i;
      while (j < head.length && head[j] === "0") j++;
      if (j - i > best[1]) best = [i, j - i];
      i = j === i ? i + 1 : j;
    }
  }
  if (best[1] >= 2) {
    const before = head.slice(0, best[0]).join(":");
    const after = [...head.slice(best[0] + best[1]), ...tail].join(":");
    text = `${before}::${after}`;
  } else text = [...head, ...tail].join(":");
  return style.upper ? text.toUpperCase() : text;
}

const style = fc.record({ compress: fc.boolean(), upper: fc.boolean(), dotted: fc.boolean() });
const v4 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
const v6 = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }) },
  // the corners where IPv4 and IPv6 meet: the mapped block, ::/96, and small numbers
  { weight: 2, arbitrary: v4.map((n) => MAPPED | n) },
  { weight: 1, arbitrary: v4 },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 80n }) },
);

type Written = { text: string; wide: bigint; ipv4: boolean };
const address: fc.Arbitrary<Written> = fc.oneof(
  v4.map((n) => ({ text: v4Text(n), wide: MAPPED | n, ipv4: true })),
  fc.tuple(v6, style).map(([n, s]) => ({ text: v6Text(n, s), wide: n, ipv4: false })),
);

/** a range and an address near it (its base with some bits flipped), so that both answers come up */
const rangeAndAddress = fc
  .tuple(address, fc.nat(128), fc.array(fc.nat(127), { maxLength: 3 }), style)
  .map(([base, rawPrefix, flips, s]) => {
    const prefix = base.ipv4 ? rawPrefix % 33 : rawPrefix;
    const prefix128 = base.ipv4 ? prefix + 96 : prefix;
    let near = base.wide;
    for (const bit of flips) near ^= 1n << BigInt(base.ipv4 ? bit % 32 : bit);
    const nearIpv4 = near >> 32n === 0xffffn;
    const nearText = nearIpv4 && base.ipv4 ? v4Text(near & 0xffffffffn) : v6Text(near, s);
    return { entry: `${base.text}/${prefix}`, base, prefix128, near, nearText };
  });

describe("allowed_ips / trusted_proxies lists", () => {
  it("takes IPs, CIDR and ip/netmask, v4 and v6, whitespace trimmed, in canonical text", () => {
    assert.deepEqual(parseAllowedIps(" 10.0.0.0/255.0.0.0 ,::1, 2001:DB8::/32,192.0.2.1/32 , ,::ffff:10.0.0.0/104, ::ffff:192.0.2.9"), [
      "10.0.0.0/8",
      "::1",
      "2001:db8::/32",
      "192.0.2.1/32",
      "10.0.0.0/8",
      "192.0.2.9",
    ]);
  });

  it("names the bad entry", () => {
    const bad: [string, RegExp][] = [
      ["10.0.0.0/33", /^"10\.0\.0\.0\/33" has a bad prefix length \(0\.\.32 or a netmask\)$/],
      ["::1/129", /^"::1\/129" has a bad prefix length \(0\.\.128\)$/],
      ["10.0.0.0/255.0.255.0", /^netmask "255\.0\.255\.0" is not contiguous$/],
      ["10.0.0.1, nope", /^"nope" is not an IP address or CIDR range$/],
      ["127.1", /^"127\.1" is not an IP address/],
      ["010.0.0.1", /^"010\.0\.0\.1" is not an IP address/],
      ["fe80::1%eth0", /^"fe80::1%eth0" is not an IP address/],
      ["10.0.0.0\n/8", /^"10\.0\.0\.0\n\/8" is not an IP address/],
      ["::ffff:10.0.0.0/8", /^"::ffff:10\.0\.0\.0\/8": an IPv4-mapped range needs a prefix from 96 to 128 \(::ffff:10\.0\.0\.0\/104 is 10\.0\.0\.0\/8\)$/],
    ];
    for (const [list, re] of bad) assert.throws(() => parseAllowedIps(list), (e: Error) => re.test(e.message), list);
  });

  it("::ffff:10.0.0.0/104 is 10.0.0.0/8 in allowed_ips and in trusted_proxies", async () => {
    const mapped = new AddressMatcher(parseAllowedIps("::ffff:10.0.0.0/104"));
    const plain = new AddressMatcher(parseAllowedIps("10.0.0.0/8"));
    for (const [ip, inside] of [["10.1.2.3", true], ["11.0.0.1", false], ["::ffff:10.1.2.3", true], ["::ffff:a01:203", true], ["::a01:203", false]] as const) {
      assert.equal(mapped.includes(ip), inside, ip);
      assert.equal(plain.includes(ip), inside, ip);
    }
    // the same two answers from both lists of a fetch handler
    const route = (_e: string, ksr: import("../src/ksr-api.ts").KsrApi) => ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", String(ksr.pv.get("$mhttpd(srcip)")));
    const allowed = createFetchHandler({ route, params: { allowed_ips: "::ffff:10.0.0.0/104" } });
    const behind = createFetchHandler({ route, params: { trusted_proxies: "::ffff:10.0.0.0/104" } });
    const from = (h: typeof allowed, peer: string, xff?: string) =>
      h.fetch(new Request("http://x/", { headers: xff ? { "x-forwarded-for": xff } : {} }), { remoteAddr: { hostname: peer, port: 1 } }).then(async (r) => [r.status, await r.text()]);
    assert.deepEqual(await from(allowed, "10.1.2.3"), [200, "10.1.2.3"]);
    assert.deepEqual(await from(allowed, "11.0.0.1"), [403, "Forbidden\n"]);
    assert.deepEqual(await from(behind, "10.1.2.3", "192.0.2.1"), [200, "192.0.2.1"], "10.1.2.3 is a trusted proxy");
    assert.deepEqual(await from(behind, "11.0.0.1", "192.0.2.1"), [200, "11.0.0.1"], "11.0.0.1 is not");
  });

  it("matches as the 128-bit reference does, for IPv4 and IPv6 addresses and ranges", () => {
    fc.assert(
      fc.property(rangeAndAddress, ({ entry, base, prefix128, near, nearText }) => {
        if (!base.ipv4 && base.wide >> 32n === 0xffffn && prefix128 < 96) {
          assert.throws(() => parseAllowedIps(entry), /an IPv4-mapped range needs a prefix from 96 to 128/);
          return;
        }
        const matcher = new AddressMatcher(parseAllowedIps(entry));
        assert.equal(matcher.includes(nearText), contains(base.wide, prefix128, near), `${nearText} in ${entry}`);
      }),
      RUNS,
    );
  });

  it("an IPv4 address and its mapped forms get the same answer, as do an IPv4 range and its mapped form", () => {
    fc.assert(
      fc.property(v4, fc.nat(32), v4, fc.boolean(), (base, prefix, addr, upper) => {
        const forms = [v4Text(addr), `::ffff:${v4Text(addr)}`, v6Text(MAPPED | addr, { compress: true, upper, dotted: false }), `0:0:0:0:0:ffff:${v4Text(addr)}`];
        const want = contains(MAPPED | base, prefix + 96, MAPPED | addr);
        for (const entry of [`${v4Text(base)}/${prefix}`, `::ffff:${v4Text(base)}/${prefix + 96}`, `${v6Text(MAPPED | base, { compress: true, upper, dotted: false })}/${prefix + 96}`]) {
          const matcher = new AddressMatcher(parseAllowedIps(entry));
          for (const form of forms) assert.equal(matcher.includes(form), want, `${form} in ${entry}`);
        }
      }),
      RUNS,
    );
  });

  it("reads exactly what inet_pton reads (Node's net.isIP without zone ids)", () => {
    const chars = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.:::..%x "), maxLength: 46 });
    fc.assert(
      fc.property(fc.oneof(chars, address.map((a) => a.text)), (text) => {
        const ours = parseAddress(text) !== undefined;
        assert.equal(ours, net.isIP(text) !== 0 && !text.includes("%"), JSON.stringify(text));
      }),
      RUNS,
    );
  });
});

describe("X-Forwarded-For", () => {
  const trusted = new AddressMatcher(parseAllowedIps("127.0.0.0/8, 10.0.0.0/255.0.0.0, fd00::/8"));

  it("reads bare addresses, [IPv6], and a port after IPv4 or [IPv6]", () => {
    const cases: [string, string | undefined][] = [
      ["192.0.2.7", "192.0.2.7"],
      [" \t192.0.2.7 ", "192.0.2.7"],
      ["192.0.2.7:4711", "192.0.2.7"],
      ["192.0.2.7:65535", "192.0.2.7"],
      ["192.0.2.7:65536", undefined],
      ["192.0.2.7:", undefined],
      ["[2001:db8::1]", "2001:db8::1"],
      ["[2001:db8::1]:4711", "2001:db8::1"],
      ["2001:db8::1", "2001:db8::1"],
      ["::ffff:192.0.2.7", "192.0.2.7"],
      ["[::ffff:192.0.2.7]:80", "192.0.2.7"],
      ["[192.0.2.7]", undefined],
      ["[192.0.2.7]:80", undefined],
      ["unknown", undefined],
      ["_hidden", undefined],
      ["", undefined],
      ["\u00a0192.0.2.7", undefined],
      ["127.1", undefined],
      ["0x7f.0.0.1", undefined],
      ["2130706433", undefined],
      ["fe80::1%eth0", undefined],
      ['"[2001:db8::1]:4711"', undefined],
    ];
    for (const [entry, want] of cases) assert.equal(forwardedAddress(entry)?.toString(), want, JSON.stringify(entry));
  });

  it("is the peer unless the peer is a trusted proxy; the nearest untrusted entry otherwise", () => {
    assert.deepEqual(clientAddress("192.0.2.1", "10.9.9.9", undefined), { address: "192.0.2.1" });
    assert.deepEqual(clientAddress("192.0.2.1", "10.9.9.9", trusted), { address: "192.0.2.1" }, "an untrusted peer's header is ignored");
    assert.deepEqual(clientAddress("127.0.0.1", null, trusted), { address: "127.0.0.1" });
    assert.deepEqual(clientAddress("::ffff:127.0.0.1", "6.6.6.6, 192.0.2.7, 10.1.1.1", trusted), { address: "192.0.2.7" }, "nearest untrusted hop");
    assert.deepEqual(clientAddress("127.0.0.1", "10.1.1.1, 10.2.2.2", trusted), { address: "127.0.0.1" }, "all hops trusted: the peer");
    assert.deepEqual(clientAddress("::1", "[2001:db8::5]", new AddressMatcher(["::1"])), { address: "2001:db8::5" });
    assert.deepEqual(clientAddress("127.0.0.1", "garbage, 192.0.2.7", trusted), { address: "192.0.2.7" }, "entries left of the client are never read");
  });

  it("fails closed: an entry to read that is not an address makes the client unknown, never the proxy", () => {
    assert.deepEqual(clientAddress("127.0.0.1", "192.0.2.7, garbage", trusted), {
      address: null,
      unknown: 'X-Forwarded-For entry "garbage" from trusted proxy 127.0.0.1 is not an address',
    });
    assert.equal(clientAddress("127.0.0.1", "unknown, 10.0.0.1", trusted).address, null, "behind our own proxy");
    assert.equal(clientAddress("127.0.0.1", "", trusted).address, null, "an empty header");
    // quoted here, escaped where the log line leaves (escapeLogLine)
    assert.match(escapeLogLine(clientAddress("127.0.0.1", "x\u0001y", trusted).unknown!), /entry "x\\x01y" from/);
  });

  it("never throws and never takes the proxy for the client, whatever the header holds", () => {
    const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 60 });
    const entry = fc.oneof(latin1, address.map((a) => a.text), fc.constantFrom("127.0.0.1", "10.0.0.1", "[fd00::1]:80", "unknown", ""));
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), (entries) => {
        const header = entries.join(",");
        const got = clientAddress("127.0.0.1", header, trusted);
        const parts = header.split(",");
        // the reference: right to left, our proxies skipped, the first other entry decides
        let want: string | null = "127.0.0.1";
        for (let i = parts.length - 1; i >= 0; i--) {
          const hop = forwardedAddress(parts[i]);
          if (!hop) {
            want = null;
            break;
          }
          if (!trusted.has(hop)) {
            want = hop.toString();
            break;
          }
        }
        assert.equal(got.address, want);
        if (want === null) assert.match(escapeLogLine(got.unknown!), /^X-Forwarded-For entry "[^\x00-\x1f\x7f-\x9f]*" from trusted proxy 127\.0\.0\.1 is not an address$/);
      }),
      RUNS,
    );
  });
});
