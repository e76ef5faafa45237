// Kamailio's command line and the exit statuses, on each runtime: -c, -A, -d, -V,
// -E/-D, --modparam, the Kamailio options refused by name, 78 (EX_CONFIG) for a
// configuration error against 1 for other start-up failures, and SIGHUP ignored.
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { describe, it } from "node:test";
import { FIXTURES, ROOT, RUNTIMES, httpRequest, runToExit, runtimeCommand, sleep, startServer, waitForLog } from "./_harness.ts";

const CFG = path.join(FIXTURES, "cfg");
const DEFINES = path.join(CFG, "defines.cfg");
const TS_ROUTE = path.join(FIXTURES, "with-config.ts"); // answers debug=<level>
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];

/** a port something else holds for the duration of `body` */
async function withBusyPort<T>(body: (port: number) => Promise<T>): Promise<T> {
  const blocker = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => blocker.once("listening", r));
  try {
    return await body((blocker.address() as net.AddressInfo).port);
  } finally {
    blocker.close();
  }
}

for (const runtime of RUNTIMES) {
  describe(`Kamailio's command line on ${runtime}`, () => {
    it("exits 78 (EX_CONFIG) for a configuration error, with one line naming it", async () => {
      const cases: [string[], RegExp][] = [
        [["--no-such-option", "1"], /^mhttpd: unknown option --no-such-option \(see --help\)$/],
        [["-z"], /^mhttpd: unknown option -z \(see --help\)$/],
        [["--listen-port", "abc"], /^mhttpd: invalid listen_port "abc" \(from --listen-port\)/],
        [[path.join(CFG, "bad-syntax.cfg")], /^mhttpd: .*bad-syntax\.cfg:7:\d+: expected ";"/],
        [[path.join(FIXTURES, "no-such-route.cfg")], /^mhttpd: .*no-such-route\.cfg: cannot read the configuration file: ENOENT$/],
        [["-f", path.join(FIXTURES, "no-such-route.ts")], /^mhttpd: cannot load route module .*no-such-route\.ts/],
        [["-f"], /^mhttpd: option -f needs a value$/],
      ];
      // LOCAL first: a later --listen-port would replace the bad one
      const results = await Promise.all(cases.map(([args]) => runToExit(runtime, [...LOCAL, ...args])));
      results.forEach((r, i) => {
        const [args, re] = cases[i];
        assert.equal(r.code, 78, `exit status for ${args.join(" ")}: ${r.stderr}`);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
        assert.match(lines[0], re);
        assert.doesNotMatch(r.stdout, /listening/);
      });
    });

    it("exits 1 when the start-up fails otherwise (a port in use), and 0 after a clean stop", async () => {
      await withBusyPort(async (port) => {
        const r = await runToExit(runtime, [DEFINES, "--listen-addr", "127.0.0.1", "--listen-port", String(port)]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /address already in use/);
      });
      const srv = await startServer(runtime, [DEFINES, ...LOCAL]);
      assert.equal((await srv.stop("SIGTERM")).code, 0);
    });

    it("-c checks the route and the parameters, says so as Kamailio does and exits 0 without listening", async () => {
      await withBusyPort(async (port) => {
        // the port is taken: a start would fail, a check does not bind
        for (const route of [DEFINES, TS_ROUTE]) {
          const r = await runToExit(runtime, ["-c", route, "--listen-port", String(port)]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stderr, "config file ok, exiting...\n");
          assert.equal(r.stdout, "");
        }
        const grouped = await runToExit(runtime, ["-cE", "-f", DEFINES, "--listen-port", String(port)]);
        assert.equal(grouped.code, 0, grouped.stderr);
        // "--" ends the options, as getopt has it (npx passes it on)
        const ended = await runToExit(runtime, ["-c", "--listen-port", String(port), "--", DEFINES]);
        assert.equal(ended.code, 0, ended.stderr);
      });
    });

    it("-c stops at what a start would stop at, with exit 78 and file:line:column", async () => {
      const cases: [string[], RegExp][] = [
        [["-c", path.join(CFG, "bad-syntax.cfg")], /^mhttpd: .*bad-syntax\.cfg:7:2: expected ";", found "mhttpd_reply"$/],
        [["-c", path.join(CFG, "bad-port-type.cfg")], /^mhttpd: .*bad-port-type\.cfg:4:1: modparam\("microhttpd", "listen_port", \.\.\.\)/],
        [["-c", DEFINES, "--max-body-size", "0"], /^mhttpd: invalid max_body_size "0" \(from --max-body-size\)/],
        [["-c", TS_ROUTE, "--event-callback", "nosuch"], /^mhttpd: route module .*with-config\.ts has no function for event_callback "nosuch"/],
        [["-c", DEFINES, "--tls-cert", path.join(FIXTURES, "no-such.crt"), "--tls-key", path.join(FIXTURES, "no-such.key")], /^mhttpd: cannot read tls_cert .*no-such\.crt: no such file$/],
      ];
      const results = await Promise.all(cases.map(([args]) => runToExit(runtime, args)));
      results.forEach((r, i) => {
        assert.equal(r.code, 78, `${cases[i][0].join(" ")}: ${r.stderr}`);
        assert.match(r.stderr.trim(), cases[i][1]);
        assert.doesNotMatch(r.stderr, /config file ok/);
      });
    });

    it("-A NAME and -A NAME=VALUE are #!define lines of a .cfg route", async () => {
      const answers: string[] = [];
      for (const defines of [[], ["-A", "WITH_SHOUT"], ["-AWITH_SHOUT", "-A", 'GREETING="hi"']]) {
        const srv = await startServer(runtime, [DEFINES, ...defines, ...LOCAL]);
        try {
          const r = await httpRequest(srv.port, "GET", "/");
          assert.equal(r.responses[0]?.status, 200);
          answers.push(r.responses[0].body.toString());
        } finally {
          await srv.stop();
        }
      }
      // #!trydef GREETING in the file gives way to -A GREETING, as in Kamailio
      assert.deepEqual(answers, ["hello\n", "hello, shouting\n", "hi, shouting\n"]);
    });

    it("-A refuses a name the file defines again, a bad name, a repeat and a module route, with exit 78", async () => {
      const cases: [string[], RegExp][] = [
        [[path.join(CFG, "define-twice.cfg"), "-A", "WITH_SHOUT"], /^mhttpd: .*define-twice\.cfg:2:1: #!define WITH_SHOUT: already defined by -A on the command line/],
        [[DEFINES, "-A", "1X"], /^mhttpd: -A "1X": the name must be letters, digits and _/],
        [[DEFINES, "-A", "X", "-A", "X=2"], /^mhttpd: -A X: already defined by an earlier -A$/],
        [[TS_ROUTE, "-A", "X"], /^mhttpd: -A X: -A defines a #!define for a \.cfg route's preprocessor; .*with-config\.ts is a module/],
      ];
      const results = await Promise.all(cases.map(([args]) => runToExit(runtime, [...args, ...LOCAL])));
      results.forEach((r, i) => {
        assert.equal(r.code, 78, `${cases[i][0].join(" ")}: ${r.stderr}`);
        assert.match(r.stderr.trim(), cases[i][1]);
      });
    });

    it("-V, -v and --version print the version and the runtime", async () => {
      for (const flag of ["-V", "-v", "--version"]) {
        const r = await runToExit(runtime, [flag]);
        assert.equal(r.code, 0);
        assert.equal(r.stdout, `mhttpd 0.1.0 (${runtime})\n`);
      }
    });

    it("-d counts from 0 as in Kamailio (-dd info, -ddd debug) and overrides the route's debug", async () => {
      const levels: Record<string, string> = {};
      // the route's config export says debug L_DBG (3)
      for (const args of [["-d"], ["-dd"], ["-d", "-d", "-d"], ["-dddd"], ["--debug", "1", "-d"], ["-d", "--debug=0"]]) {
        const srv = await startServer(runtime, [TS_ROUTE, ...args]);
        try {
          levels[args.join(" ")] = (await httpRequest(srv.port, "GET", "/")).responses[0]?.body.toString().trim() ?? "no response";
        } finally {
          await srv.stop();
        }
      }
      assert.deepEqual(levels, {
        "-d": "debug=1",
        "-dd": "debug=2",
        "-d -d -d": "debug=3",
        "-dddd": "debug=3",
        "--debug 1 -d": "debug=2",
        "-d --debug=0": "debug=0",
      });
      // a .cfg's debug=0 hides its xinfo line; -dd shows it
      const quiet = await startServer(runtime, [DEFINES, ...LOCAL]);
      const raised = await startServer(runtime, [DEFINES, "-dd", ...LOCAL]);
      try {
        await httpRequest(quiet.port, "GET", "/quiet");
        await httpRequest(raised.port, "GET", "/raised");
        await waitForLog(raised, /INFO: <script>: defines: request for \/raised/);
        await sleep(100);
        assert.doesNotMatch(quiet.stderr(), /defines: request/);
      } finally {
        await Promise.all([quiet.stop(), raised.stop()]);
      }
    });

    it("-E, -D, -DD and -DDD are accepted; the debug log says once that they change nothing", async () => {
      const srv = await startServer(runtime, [DEFINES, "-E", "-DD", "-D", "-DDD", "-ddd", ...LOCAL]);
      try {
        assert.equal((await httpRequest(srv.port, "GET", "/")).responses[0]?.status, 200);
        const lines = srv.stderr().split("\n").filter((l) => /accepted and changes nothing/.test(l));
        assert.equal(lines.length, 1, srv.stderr());
        assert.match(lines[0], /DEBUG: <core>: -E -D accepted and changes nothing: mhttpd always logs to stderr and stays in the foreground$/);
      } finally {
        await srv.stop();
      }
      const quiet = await startServer(runtime, [DEFINES, "-E", "-DD", ...LOCAL]);
      try {
        assert.doesNotMatch(quiet.stderr(), /accepted and changes nothing/, "a debug line, not shown at the route's debug=0");
      } finally {
        await quiet.stop();
      }
    });

    it("--modparam=microhttpd:NAME:TYPE:VALUE sets a parameter as its flag does", async () => {
      const srv = await startServer(runtime, [DEFINES, "--modparam=microhttpd:listen_addr:s:127.0.0.1", "--modparam", "microhttpd:listen_port:i:0"]);
      try {
        assert.match(srv.stdout(), /mhttpd listening on http:\/\/127\.0\.0\.1:\d+ /);
        assert.equal((await httpRequest(srv.port, "GET", "/")).responses[0]?.status, 200);
      } finally {
        await srv.stop();
      }
      const cases: [string, RegExp][] = [
        ["microhttpd:listen_port:s:8284", /^mhttpd: --modparam=microhttpd:listen_port:s:8284: listen_port is an integer parameter: give it as i \(microhttpd:listen_port:i:8284\)$/],
        ["microhttpd:listen_port:i:99999", /^mhttpd: invalid listen_port 99999 \(from --modparam=microhttpd:listen_port:i:99999\): expected an integer from 0 to 65535/],
        ["microhttpd:listen_port:i:80a", /^mhttpd: --modparam=microhttpd:listen_port:i:80a: "80a" is not an integer$/],
        ["microhttpd:no_such:i:1", /^mhttpd: --modparam=microhttpd:no_such:i:1: microhttpd has no parameter "no_such" \(known: listen_addr, /],
        ["pv:shvset:s:x=s:1", /^mhttpd: --modparam=pv:shvset:s:x=s:1: module "pv": only microhttpd's parameters can be set on the command line/],
        ["microhttpd:listen_port:x:1", /^mhttpd: --modparam=microhttpd:listen_port:x:1: type "x": expected i \(integer\) or s \(string\)$/],
        ["listen_port=1", /^mhttpd: --modparam=listen_port=1: expected modname:paramname:type:value/],
      ];
      const results = await Promise.all(cases.map(([spec]) => runToExit(runtime, [DEFINES, `--modparam=${spec}`])));
      results.forEach((r, i) => {
        assert.equal(r.code, 78, `${cases[i][0]}: ${r.stderr}`);
        assert.match(r.stderr.trim(), cases[i][1]);
      });
    });

    it("refuses Kamailio's options that mean nothing here by name, with the reason, exit 78", async () => {
      const cases: [string[], RegExp][] = [
        [["-m", "64"], /^mhttpd: -m is a Kamailio option with no meaning here: the runtime manages memory/],
        [["-M", "8"], /^mhttpd: -M is a Kamailio option with no meaning here: the runtime manages memory/],
        [["-u", "kamailio"], /^mhttpd: -u is a Kamailio option with no meaning here: mhttpd does not change its user/],
        [["-P", "/run/kamailio.pid"], /^mhttpd: -P is a Kamailio option with no meaning here: .*writes no pid file/],
        [["-L", "/usr/lib/kamailio/modules"], /^mhttpd: -L is a Kamailio option with no meaning here: mhttpd's modules are built in/],
        [["-l", "udp:127.0.0.1:5060"], /^mhttpd: -l is a Kamailio option with no meaning here: SIP listen addresses; .*--listen-socket/],
        [["-DDe"], /^mhttpd: -e is a Kamailio option with no meaning here: /],
        [["--loadmodule=xlog.so"], /^mhttpd: --loadmodule is a Kamailio option with no meaning here: /],
      ];
      const results = await Promise.all(cases.map(([args]) => runToExit(runtime, [DEFINES, ...args, ...LOCAL])));
      results.forEach((r, i) => {
        assert.equal(r.code, 78, `${cases[i][0].join(" ")}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.match(r.stderr.trim(), cases[i][1]);
      });
    });

    // Deno's supervisor needs --allow-run to start the workers
    const withWorkers = runtime === "deno" ? { command: [...runtimeCommand("deno").slice(0, -1), "--allow-run", path.join(ROOT, "adapters/deno.ts")] } : {};

    it("with workers, a configuration error the workers would meet (a TLS file) stops the supervisor first, exit 78", async () => {
      const r = await runToExit(runtime, [DEFINES, "--workers", "2", ...LOCAL, "--tls-cert", path.join(FIXTURES, "no-such.crt"), "--tls-key", path.join(FIXTURES, "no-such.key")], undefined, 20000, withWorkers);
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr.trim(), /^mhttpd: cannot read tls_cert .*no-such\.crt: no such file$/, "one line, from the supervisor");
    });

    it("with workers, the supervisor and the workers ignore SIGHUP and keep serving", async () => {
      const srv = await startServer(runtime, [DEFINES, "--workers", "2", "--debug", "2", ...LOCAL], withWorkers);
      try {
        srv.proc.kill("SIGHUP");
        await waitForLog(srv, /INFO: <core>: SIGHUP received: ignored, as Kamailio does/);
        await sleep(200);
        for (let i = 0; i < 4; i++) assert.equal((await httpRequest(srv.port, "GET", "/", { headers: { Connection: "close" } })).responses[0]?.status, 200);
        assert.doesNotMatch(srv.stderr(), /worker \d \(pid \d+\) (exited|killed)/, "no worker stopped");
      } finally {
        assert.equal((await srv.stop("SIGTERM")).code, 0);
      }
    });

    it("ignores SIGHUP with a log line, as Kamailio does, and keeps serving", async () => {
      // the route's debug=0 would hide the INFO line
      const srv = await startServer(runtime, [DEFINES, "--debug", "2", ...LOCAL]);
      try {
        srv.proc.kill("SIGHUP");
        await waitForLog(srv, /INFO: <core>: SIGHUP received: ignored, as Kamailio does/);
        const r = await httpRequest(srv.port, "GET", "/after-hup");
        assert.equal(r.responses[0]?.status, 200);
        assert.equal(r.responses[0].body.toString(), "hello\n");
      } finally {
        assert.deepEqual(await srv.stop("SIGTERM"), { code: 0, signal: null }, "still a clean stop after the SIGHUP");
      }
    });
  });
}
