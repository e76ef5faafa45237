// Start-up behaviour on each runtime: parameter sources and precedence, every kind
// of bad configuration, the default route, allowed_ips and listen_socket.
import assert from "node:assert/strict";
import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { FIXTURES, RUNTIMES, httpRequest, runToExit, startServer, waitForLog, fields } from "./_harness.ts";

const ROUTE = path.join(FIXTURES, "kemi-route.ts");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];


function refused(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.on("connect", () => (s.destroy(), resolve(false)));
    s.on("error", () => resolve(true));
  });
}

for (const runtime of RUNTIMES) {
  describe(`configuration on ${runtime}`, () => {
    it("stops with one line naming the parameter, the value and what is allowed", async () => {
      const cases: [string[], Record<string, string> | undefined, RegExp][] = [
        [["--listen-port", "abc"], undefined, /^mhttpd: invalid listen_port "abc" \(from --listen-port\): expected an integer from 0 to 65535/],
        [["--listen-port=70000"], undefined, /^mhttpd: invalid listen_port "70000" \(from --listen-port\)/],
        [["--listen-addr", "999.1.1.1"], undefined, /^mhttpd: invalid listen_addr "999.1.1.1" \(from --listen-addr\): expected an IPv4 or IPv6 address/],
        [["--listen-socket", "127.0.0.1"], undefined, /^mhttpd: invalid listen_socket \["127.0.0.1"\] \(from --listen-socket\): "127.0.0.1" is not addr:port/],
        [["--allowed-ips", "10.0.0.0/33"], undefined, /^mhttpd: invalid allowed_ips "10.0.0.0\/33" \(from --allowed-ips\): "10.0.0.0\/33" has a bad prefix length/],
        [["--allowed-ips", "10.0.0.1, nope"], undefined, /^mhttpd: invalid allowed_ips .*"nope" is not an IP address or CIDR range/],
        [["--debug", "loud"], undefined, /^mhttpd: invalid debug "loud" \(from --debug\): expected -5..3 or one of/],
        [["--listen-prot", "1"], undefined, /^mhttpd: unknown option --listen-prot/],
        [[], { MHTTPD_LISTEN_PORT: "eighty" }, /^mhttpd: invalid listen_port "eighty" \(from MHTTPD_LISTEN_PORT\)/],
        [[ROUTE, "--event-callback", "nosuch"], undefined, /^mhttpd: route module .*kemi-route.ts has no function for event_callback "nosuch" \(exported functions: default, extras, ksr_microhttpd_event\)/],
        [[ROUTE, "--event-callback", "no-such"], undefined, /^mhttpd: invalid event_callback "no-such"/],
        [[path.join(FIXTURES, "missing.ts")], undefined, /^mhttpd: cannot load route module .*missing.ts/],
        [[path.join(FIXTURES, "syntax-error.ts")], undefined, /^mhttpd: cannot load route module .*syntax-error.ts/],
        [[path.join(FIXTURES, "bad-config.ts")], undefined, /^mhttpd: invalid listen_port "not-a-port" \(from the config export of .*bad-config.ts\)/],
        [[path.join(FIXTURES, "unknown-param.ts")], undefined, /^mhttpd: unknown parameter "listen_prot" in the config export of .*unknown-param.ts/],
      ];
      // every case fails before binding; none may reach the default port
      const results = await Promise.all(cases.map(([args, env]) => runToExit(runtime, args, env)));
      results.forEach((r, i) => {
        const [args, , re] = cases[i];
        assert.equal(r.code, 78, `exit code (EX_CONFIG) for ${args.join(" ")}: ${r.stderr}`);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
        assert.match(lines[0], re);
      });
    });

    it("refuses a port in use with one line and exit 1 (not a configuration error: a restart may cure it)", async () => {
      const srv = await startServer(runtime, LOCAL);
      try {
        const r = await runToExit(runtime, ["--listen-addr", "127.0.0.1", "--listen-port", String(srv.port)]);
        assert.equal(r.code, 1);
        assert.match(r.stderr.trim(), new RegExp(`^mhttpd: cannot listen on http://127.0.0.1:${srv.port}: address already in use$`));
      } finally {
        await srv.stop();
      }
    });

    it("prints --help and exits 0", async () => {
      const r = await runToExit(runtime, ["--help"]);
      assert.equal(r.code, 0);
      for (const flag of ["--listen-addr", "--listen-port", "--listen-socket", "--event-callback", "--allowed-ips", "--debug"]) {
        assert.ok(r.stdout.includes(flag), flag);
      }
    });

    it("runs a JavaScript route that imports TypeScript (Node compiles it when the plain import fails)", async () => {
      const srv = await startServer(runtime, [path.join(FIXTURES, "js-imports-ts.mjs"), ...LOCAL]);
      try {
        const r = await httpRequest(srv.port, "GET", "/typed");
        assert.equal(r.responses[0]?.status, 200);
        assert.equal(r.responses[0].body.toString(), "typed /typed");
      } finally {
        await srv.stop();
      }
    });

    it("runs a .cfg whose KEMI script is TypeScript (app_jsdt load kemi-route.ts)", async () => {
      const srv = await startServer(runtime, [path.join(FIXTURES, "cfg", "kemi-ts.cfg"), ...LOCAL]);
      try {
        const r = await httpRequest(srv.port, "GET", "/kemi");
        assert.equal(r.responses[0]?.status, 200);
        assert.equal(r.responses[0].body.toString(), "microhttpd:request /kemi");
      } finally {
        await srv.stop();
      }
    });

    it("gives a TypeScript route and the files it imports their own import.meta and stack trace lines", async () => {
      const dir = path.join(FIXTURES, "meta");
      const srv = await startServer(runtime, [path.join(dir, "route.ts"), ...LOCAL]);
      try {
        const r = await httpRequest(srv.port, "GET", "/meta");
        assert.equal(r.responses[0]?.status, 200);
        const meta = JSON.parse(r.responses[0].body.toString());
        assert.deepEqual(meta.route, { url: pathToFileURL(path.join(dir, "route.ts")).href, filename: path.join(dir, "route.ts"), dirname: dir });
        assert.deepEqual(meta.helper, { url: pathToFileURL(path.join(dir, "lib", "helper.ts")).href, filename: path.join(dir, "lib", "helper.ts"), dirname: path.join(dir, "lib") });
        const fail = await httpRequest(srv.port, "GET", "/fail");
        assert.equal(fail.responses[0]?.status, 500);
        const logged = await waitForLog(srv, /route failed on GET \/fail: Error: helper failed on purpose[^]*helper\.ts:9:\d+/);
        assert.doesNotMatch(logged, /mhttpd\.mjs/, "no trace of a compiled module in the stack");
        if (runtime === "node") assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith(".mhttpd.mjs")), [], "the compiled module is removed once imported");
      } finally {
        await srv.stop();
      }
    });

    it("runs a TypeScript route outside any package, and one whose directory cannot take the compiled module (Node)", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "mhttpd-ts-"));
      try {
        // no package.json above it: not a "type": "module" package
        cpSync(path.join(FIXTURES, "meta"), dir, { recursive: true });
        // a file name at the file system's limit (255 bytes) leaves no room beside it
        // for the compiled module's longer name, as a read-only directory would (and
        // this way even for root): Node writes it to a temporary directory instead
        const long = path.join(dir, `${"r".repeat(250)}.ts`);
        copyFileSync(path.join(dir, "route.ts"), long);
        for (const route of [path.join(dir, "route.ts"), long]) {
          const srv = await startServer(runtime, [route, ...LOCAL]);
          try {
            const r = await httpRequest(srv.port, "GET", "/meta");
            assert.equal(r.responses[0]?.status, 200);
            const meta = JSON.parse(r.responses[0].body.toString());
            assert.equal(meta.route.filename, route);
            assert.equal(meta.helper.filename, path.join(dir, "lib", "helper.ts"));
          } finally {
            await srv.stop();
          }
        }
        assert.deepEqual(readdirSync(dir).sort(), ["lib", "route.ts", path.basename(long)].sort(), "nothing is left beside the route");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it(
      "stops at a TypeScript route that does not compile with file:line:column, and names the route for a missing import (Node)",
      { skip: runtime !== "node" && "Bun and Deno compile TypeScript themselves, with their own messages (the case list above)" },
      async () => {
        const bad = await runToExit(runtime, [path.join(FIXTURES, "syntax-error.ts"), ...LOCAL]);
        assert.equal(bad.code, 78);
        assert.match(bad.stderr.trim(), /^mhttpd: cannot load route module .*syntax-error\.ts: SyntaxError: .*syntax-error\.ts:2:1: Expected identifier but found end of file$/);
        const dir = mkdtempSync(path.join(tmpdir(), "mhttpd-ts-"));
        try {
          writeFileSync(path.join(dir, "route.ts"), 'import { x } from "./nope.ts";\nimport "no-such-package";\nexport default () => x;\n');
          const missing = await runToExit(runtime, [path.join(dir, "route.ts"), ...LOCAL]);
          assert.equal(missing.code, 78);
          assert.match(missing.stderr.trim(), /^mhttpd: cannot load route module .*route\.ts: .*route\.ts:1:19: Could not resolve "\.\/nope\.ts"$/);
          writeFileSync(path.join(dir, "route.ts"), 'import "no-such-package";\nexport default () => 1;\n');
          const pkg = await runToExit(runtime, [path.join(dir, "route.ts"), ...LOCAL]);
          assert.equal(pkg.code, 78);
          // Node's own words, about the route rather than the compiled module
          assert.match(pkg.stderr.trim(), /^mhttpd: cannot load route module .*route\.ts: Cannot find package 'no-such-package' imported from .*\/route\.ts$/);
          assert.deepEqual(readdirSync(dir), ["route.ts"], "nothing is left beside the route");
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    it("runs the documented example by default, on all local IPv4 addresses", async () => {
      const srv = await startServer(runtime, ["--listen-port", "0"]);
      try {
        assert.match(srv.stdout(), new RegExp(`mhttpd listening on http://0.0.0.0:${srv.port} \\(${runtime}\\)`));
        const r = await httpRequest(srv.port, "POST", "/some/path?q=1", { body: "hi there" });
        assert.equal(r.responses[0].status, 200);
        assert.equal(r.responses[0].headers["content-type"], "text/html");
        assert.equal(r.responses[0].body.toString(), "<html><body>OK</body></html>");
        await waitForLog(srv, /INFO: <script>: request: POST - url: \/some\/path - data: \[hi there\]/);
        assert.ok(await refused(srv.port, "::1"), "an empty listen_addr is IPv4 only");
      } finally {
        assert.equal((await srv.stop("SIGINT")).code, 0, "SIGINT exits 0");
      }
    });

    it("takes parameters from CLI over environment over the route's config export", async () => {
      const route = path.join(FIXTURES, "with-config.ts");
      const fromModule = await startServer(runtime, [route]);
      const fromEnv = await startServer(runtime, [route], { env: { MHTTPD_DEBUG: "1" } });
      const fromCli = await startServer(runtime, [route, "--debug", "info"], { env: { MHTTPD_DEBUG: "1" } });
      try {
        for (const [srv, want] of [
          [fromModule, "debug=3"],
          [fromEnv, "debug=1"],
          [fromCli, "debug=2"],
        ] as const) {
          assert.match(srv.stdout(), /listening on http:\/\/127.0.0.1:/, "listen_addr from the config export");
          const r = await httpRequest(srv.port, "GET", "/");
          assert.equal(r.responses[0].body.toString(), `${want}\n`);
        }
      } finally {
        await Promise.all([fromModule.stop(), fromEnv.stop(), fromCli.stop()]);
      }
    });

    it("runs the export named by event_callback", async () => {
      const srv = await startServer(runtime, [ROUTE, ...LOCAL, "--event-callback", "ksr_microhttpd_event"]);
      try {
        const r = await httpRequest(srv.port, "GET", "/");
        assert.equal(r.responses[0].body.toString(), "callback microhttpd:request\n");
      } finally {
        await srv.stop();
      }
    });

    it("allowed_ips: refuses with 403 and Connection: close before the route runs", async () => {
      const srv = await startServer(runtime, [...LOCAL, "--allowed-ips", "10.0.0.0/8, 192.168.0.0/16"]);
      try {
        const r = await httpRequest(srv.port, "GET", "/secret");
        assert.equal(r.responses[0].status, 403);
        assert.equal(r.responses[0].headers.connection, "close");
        await new Promise((res) => setTimeout(res, 200));
        assert.doesNotMatch(srv.stderr(), /request: GET/, "the route never ran");
      } finally {
        await srv.stop();
      }
    });

    it("allowed_ips: admits listed IPv4 (CIDR and netmask forms), IPv6, and IPv4 seen as ::ffff:", async () => {
      const v4 = await startServer(runtime, [ROUTE, ...LOCAL, "--allowed-ips", "10.0.0.0/8, 127.0.0.0/255.0.0.0"]);
      const v6 = await startServer(runtime, [ROUTE, "--listen-addr", "::1", "--listen-port", "0", "--allowed-ips", "::1/128"]);
      const v6deny = await startServer(runtime, [ROUTE, "--listen-addr", "::1", "--listen-port", "0", "--allowed-ips", "127.0.0.1"]);
      const dual = await startServer(runtime, [ROUTE, "--listen-addr", "::", "--listen-port", "0", "--allowed-ips", "127.0.0.1"]);
      try {
        const a = await httpRequest(v4.port, "GET", "/");
        assert.equal(fields(a.responses[0].body).srcip, "127.0.0.1 (string)");
        const b = await httpRequest(v6.port, "GET", "/", { host: "::1" });
        assert.equal(fields(b.responses[0].body).srcip, "::1 (string)");
        const c = await httpRequest(v6deny.port, "GET", "/", { host: "::1" });
        assert.equal(c.responses[0].status, 403);
        const d = await httpRequest(dual.port, "GET", "/", { host: "127.0.0.1" });
        assert.equal(d.responses[0].status, 200, "mapped IPv4 matches an IPv4 entry");
        assert.equal(fields(d.responses[0].body).srcip, "127.0.0.1 (string)", "srcip without ::ffff:");
        const e = await httpRequest(dual.port, "GET", "/", { host: "::1" });
        assert.equal(e.responses[0].status, 403);
      } finally {
        await Promise.all([v4.stop(), v6.stop(), v6deny.stop(), dual.stop()]);
      }
    });

    it("listen_socket: an IPv4 and an IPv6 socket under concurrent load, no cross-talk", async () => {
      const srv = await startServer(runtime, [ROUTE, "--listen-socket", "127.0.0.1:0", "--listen-socket", "[::1]:0", "--listen-port", "1"], { sockets: 2 });
      try {
        assert.match(srv.stdout(), /listening on http:\/\/127.0.0.1:\d+ /);
        assert.match(srv.stdout(), /listening on http:\/\/\[::1\]:\d+ /);
        const [p4, p6] = srv.ports;
        const jobs = [];
        for (let i = 0; i < 200; i++) {
          jobs.push(httpRequest(p4, "POST", `/v4/${i}`, { body: `v4-${i}` }).then((r) => ["127.0.0.1", `/v4/${i}`, `v4-${i}`, r] as const));
          jobs.push(httpRequest(p6, "POST", `/v6/${i}`, { body: `v6-${i}`, host: "::1" }).then((r) => ["::1", `/v6/${i}`, `v6-${i}`, r] as const));
        }
        for (const [ip, url, data, r] of await Promise.all(jobs)) {
          const f = fields(r.responses[0].body);
          assert.equal(f.srcip, `${ip} (string)`);
          assert.equal(f.url, `${url} (string)`);
          assert.equal(f.data, `[${data}]`);
        }
      } finally {
        await srv.stop();
      }
    });
  });
}
