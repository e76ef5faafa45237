// The client's address on live servers under each runtime: X-Forwarded-For from a
// trusted proxy fails closed (an entry that is not an address makes the client
// unknown, never the proxy), one matcher for allowed_ips and trusted_proxies
// (IPv4-mapped ranges included), and pseudo-variable names that are JavaScript's
// own property names.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { FIXTURES, RUNTIMES, httpRequest, rawRequest, startServer, waitForLog, type Server } from "./_harness.ts";

const ROUTE = path.join(FIXTURES, "addresses", "route.ts");
const SRCIP_CFG = path.join(FIXTURES, "addresses", "srcip.cfg");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];

/** GET with an X-Forwarded-For written byte for byte (latin1), over a raw socket. */
async function forwarded(srv: Server, xff: string, target = "/") {
  const r = await rawRequest(srv.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: ${xff}\r\n\r\n`);
  const res = r.responses[0];
  assert.ok(res, `${srv.runtime}: a response to X-Forwarded-For ${JSON.stringify(xff)}`);
  return { status: res.status, body: res.body.toString("latin1"), headers: res.headers };
}

async function withServer(runtime: (typeof RUNTIMES)[number], args: string[], fn: (srv: Server) => Promise<void>) {
  const srv = await startServer(runtime, args);
  try {
    await fn(srv);
  } finally {
    assert.equal((await srv.stop()).code, 0, `${runtime} exits cleanly`);
  }
}

for (const runtime of RUNTIMES) {
  describe(`client address on ${runtime}`, () => {
    it("X-Forwarded-For that is not an address makes the client unknown: allowed_ips covering the proxy refuses it", async () => {
      await withServer(runtime, [ROUTE, ...LOCAL, "--trusted-proxies", "127.0.0.1", "--allowed-ips", "127.0.0.1", "--debug", "3"], async (srv) => {
        const unknown = await forwarded(srv, "unknown");
        assert.equal(unknown.status, 403, "the proxy is not the client");
        assert.equal(unknown.body, "Forbidden\n");
        assert.equal(unknown.headers.connection, "close");
        await waitForLog(srv, /refused client: X-Forwarded-For entry "unknown" from trusted proxy 127\.0\.0\.1 is not an address/);
        assert.equal((await forwarded(srv, "198.51.100.1, unknown, 127.0.0.1")).status, 403, "the first entry that is not ours decides");
        assert.equal((await forwarded(srv, "203.0.113.9:99999")).status, 403, "a port out of range");
        // bytes outside printable ASCII reach the log escaped, on one line
        assert.equal((await forwarded(srv, "caf\xe9\xff")).status, 403);
        await waitForLog(srv, /X-Forwarded-For entry "caf\u00e9\u00ff" from trusted proxy/);
        assert.equal((await forwarded(srv, "127.0.0.1")).status, 200, "only our proxies in the list: the peer");
        const none = await httpRequest(srv.port, "GET", "/");
        assert.equal(none.responses[0]?.status, 200, "without X-Forwarded-For the proxy is the client");
      });
    });

    it("srcip is null for an unknown client, the access log shows -, a cfg route prints <null>", async () => {
      await withServer(runtime, [ROUTE, ...LOCAL, "--trusted-proxies", "127.0.0.0/8", "--access-log", "common"], async (srv) => {
        const garbage = await forwarded(srv, "not-an-address");
        assert.equal(garbage.status, 200, "no allowed_ips: the route runs");
        assert.equal(garbage.body, "srcip=null (object) is_null=true getw=<null>\n");
        const empty = await forwarded(srv, "198.51.100.7,");
        assert.equal(empty.body, "srcip=null (object) is_null=true getw=<null>\n", "an empty last entry is not an address");
        // what proxies write: bare addresses, IPv6 in brackets, IPv4 or [IPv6] with a port
        const cases: [string, string][] = [
          ["198.51.100.7", "198.51.100.7"],
          ["203.0.113.9:4711", "203.0.113.9"],
          ["[2001:db8::1]", "2001:db8::1"],
          ["[2001:DB8:0::1]:4711", "2001:db8::1"],
          ["::ffff:198.51.100.8", "198.51.100.8"],
          ["192.0.2.1,\t198.51.100.9 ", "198.51.100.9"],
        ];
        for (const [xff, want] of cases) {
          const r = await forwarded(srv, xff);
          assert.equal(r.body, `srcip=${want} (string) is_null=false getw=${want}\n`, `X-Forwarded-For: ${xff}`);
        }
        const deadline = Date.now() + 3000;
        while (!/^- - - \[/m.test(srv.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.match(srv.stdout(), /^- - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 /m, "the unknown client is - in the access log");
        assert.match(srv.stdout(), /^198\.51\.100\.7 - - \[/m);
      });
      await withServer(runtime, [SRCIP_CFG, ...LOCAL, "--trusted-proxies", "127.0.0.1"], async (srv) => {
        const r = await forwarded(srv, "unknown");
        assert.equal(r.body, "unknown client: <null>\n");
        await waitForLog(srv, /INFO: <script>: srcip is <null>/);
        assert.equal((await forwarded(srv, "192.0.2.44")).body, "client 192.0.2.44\n");
      });
    });

    it("an IPv4-mapped range is the IPv4 range in trusted_proxies and in allowed_ips alike", async () => {
      const args = [ROUTE, ...LOCAL, "--trusted-proxies", "::ffff:127.0.0.0/104", "--allowed-ips", "::ffff:10.0.0.0/104"];
      await withServer(runtime, args, async (srv) => {
        const inside = await forwarded(srv, "10.1.2.3");
        assert.equal(inside.status, 200, "127.0.0.1 is a trusted proxy and 10.1.2.3 is allowed");
        assert.equal(inside.body, "srcip=10.1.2.3 (string) is_null=false getw=10.1.2.3\n");
        assert.equal((await forwarded(srv, "11.0.0.1")).status, 403, "11.0.0.1 is outside 10.0.0.0/8");
        assert.equal((await forwarded(srv, "::ffff:10.200.0.1")).status, 200, "a mapped client is the IPv4 client");
      });
    });

    it("pseudo-variable names that are JavaScript property names are unknown: null and one error line each", async () => {
      await withServer(runtime, [ROUTE, ...LOCAL], async (srv) => {
        const r = await httpRequest(srv.port, "GET", "/names");
        assert.equal(r.responses[0]?.status, 200, "the route did not fail");
        assert.equal(r.responses[0].headers["constructor"], "c", "a reply header named constructor");
        assert.equal(r.responses[0].headers["tostring"], "t");
        const { seen, fine } = JSON.parse(r.responses[0].body.toString()) as { seen: unknown[][]; fine: unknown[][] };
        for (const [name, ...values] of seen) assert.deepEqual(values, [null, "", "<null>", 0, true], `get, gete, getw, geti, is_null of ${JSON.stringify(name)}`);
        assert.deepEqual(fine, [
          ["$mhttpd(h:__proto__)", null],
          ["$mhttpd(h:constructor)", null],
          ["$var(__proto__)", 0],
          ["$shv(constructor)", null],
          ["$vn(toString)", null],
        ]);
        await waitForLog(srv, /unknown \$mhttpd attribute "nosuch\\x0aname\\x1b\[31m"/);
        const errors = srv.stderr().split("\n").filter((l) => / ERROR: <script>: pv: /.test(l));
        assert.equal(errors.length, seen.length * 5, `one line per call:\n${errors.join("\n")}`);
        assert.equal(errors.filter((l) => l.includes('"constructor"')).length, 5);
      });
    });
  });
}
