// .cfg routes on live servers, on every runtime: the reference configurations
// that ran on Kamailio's C module, compared case by case with what it answered
// (results/*.json), and a realistic service from test/fixtures/cfg/app.cfg.
// The recording is test data (test/fixtures/reference/README.md says where it came from).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FIXTURES, httpRequest, rawRequest, RUNTIMES, runToExit, sleep, startServer, type Runtime, type Server } from "./_harness.ts";
import { mhdUnescapeLatin1 } from "./_reference.ts";

const REF = path.join(FIXTURES, "reference");
const CFG = path.join(FIXTURES, "cfg");

interface RecordedResponse {
  code: number;
  interim: boolean;
  body?: string;
}
interface RecordedCase {
  name: string;
  request: { raw: string };
  responses: RecordedResponse[];
  closedBy: string;
  logLineCount?: number;
  log?: string[];
}

/** Cases whose answer differs on purpose (the core's fixes) or belongs to the runtime's HTTP parser. */
const DEVIATIONS: Record<string, string> = {
  "put-binary": "binary-safe data: the C module cuts at NUL and appends heap garbage",
  "put-highbytes": "data is UTF-8 text: invalid bytes become U+FFFD (KSR.microhttpd.body_bytes() has the bytes)",
  "post-1mib": "no 32 KiB PV buffer: the C module failed the first run and answered an empty second run",
  "dup-header": "a repeated header is seen joined (a, b), the C module sees the first",
  "dup-host": "a repeated header is seen joined, the C module sees the first",
  "get-lowercase-method": "the Fetch API upper-cases standard method names",
  "header-space-before-colon": "the runtime's HTTP parser decides",
  "header-obs-fold": "the runtime's HTTP parser decides",
  "version-http12": "the runtime's HTTP parser decides",
  "bare-lf": "the runtime's HTTP parser decides",
  interleaved: "two connections: covered by the core suite",
  "get-absolute-uri": "absolute-form targets are the runtime's",
  "options-star": "OPTIONS * is the runtime's",
  "get-utf8-path": "raw non-ASCII bytes in the request line are the runtime's",
  "post-chunked-trailer": "trailer handling is the runtime's",
  "expect-100": "100-continue is the runtime's",
  "noreply-then-other": "needs a keep-alive connection that stays open after no reply",
  "http11-nohost": "the runtime's HTTP parser decides (Node answers 400)",
  "cl-and-te": "the runtime's HTTP parser decides (Node answers 400)",
  "header-case": "the Fetch API trims trailing whitespace of header values",
};

type Expectation = { kind: "responses"; codes: number[]; bodies: (string | undefined)[] } | { kind: "500" } | { kind: "closed" } | { kind: "skip"; why: string };

/** What mhttpd must answer for a case the C module answered as recorded. */
function expectation(c: RecordedCase): Expectation {
  if (DEVIATIONS[c.name]) return { kind: "skip", why: DEVIATIONS[c.name] };
  if (scriptLines(c).length === 0 && (!c.logLineCount || !c.responses.some((r) => !r.interim && r.code >= 200))) return { kind: "skip", why: "the route did not run for this request under the C module (rejected or aborted): the core's matter" };
  if ((c.request as { truncated?: boolean }).truncated) return { kind: "skip", why: "the recorded request is truncated" };
  const finals = c.responses.filter((r) => !r.interim && r.code >= 200);
  // deliberate fixes: 1xx and 6xx replies are refused (-1), so no reply -> 500
  if (c.responses.some((r) => r.code >= 600 || (r.code < 200 && r.code !== 100) || (r.code === 100 && finals.length === 0))) return { kind: "500" };
  if (finals.length === 0) return c.closedBy.startsWith("server") ? { kind: "closed" } : { kind: "500" };
  return { kind: "responses", codes: finals.map((r) => r.code), bodies: finals.map((r) => r.body) };
}

function methodsOf(raw: string): string[] {
  return [...raw.matchAll(/(?:^|\r?\n\r?\n)([A-Za-z]+) \S+ HTTP/g)].map((m) => m[1].toUpperCase());
}

/** The decoded path of the case's first request as the C module logged it: its
 * library's unescape of the raw path (test/_reference.ts, not the code under test),
 * bytes as latin1 like the recorded logs. */
function firstPath(raw: string): string {
  return mhdUnescapeLatin1((/^[A-Za-z]+ (\S+)/.exec(raw)?.[1] ?? "/").replace(/^https?:\/\/[^/]+/, "").split("?")[0]);
}

/** The script's lines the C module logged for the case's own first run
 * ("INFO: <script>: text"), from the first line that shows the request's path. */
function scriptLines(c: RecordedCase): string[] {
  const all: string[] = [];
  for (const l of c.log ?? []) {
    // cfg scripts log as <script>; KSR.info() as <core> [core/kemi.c:N]: sr_kemi_core_info()
    const m = /^\s*\d+\(\d+\) (\w+): (?:<script>|<core> \[core\/kemi\.c:\d+\]: sr_kemi_core_\w+\(\)): (.*)$/.exec(l);
    if (m) all.push(`${m[1]}: <script>: ${m[2]}`);
  }
  const path = firstPath(c.request.raw).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const start = all.findIndex((l) => new RegExp(`(^|[\\s\\[])${path}($|[\\s\\]])`).test(l));
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of all.slice(start)) {
    if (out.includes(l)) break; // the loop of surprise 1 repeats the run
    out.push(l);
  }
  const looped = !c.responses.some((r) => !r.interim && r.code >= 200) && !c.closedBy.startsWith("server");
  // a looping run's later lines (size=0, data=[]) come from the re-runs
  return looped ? out.slice(0, 1) : out;
}

/** Bun and Deno do not expose the HTTP version: the version= line is HTTP/1.1 there
 * (the response's own version line, and whether an HTTP/1.0 connection stays open,
 * are the runtime's and not compared at all). */
function normalizeBody(body: string, runtime: Runtime): string {
  return runtime === "node" ? body : body.replace(/^version=.*$/m, "version=HTTP/1.1");
}

/** A recorded log line as our server writes it: the recording holds the C module's
 * bytes as latin1, our stderr is read as UTF-8; version as in normalizeBody. */
function expectedLogLine(recorded: string, runtime: Runtime): string {
  const line = Buffer.from(recorded, "latin1").toString("utf8");
  return runtime === "node" ? line : line.replace(/version=\[HTTP\/1\.0\]/, "version=[HTTP/1.1]");
}

const ADJUST: Record<string, Record<string, (r: RecordedCase) => Expectation>> = {
  // the core refuses a ctype with CR/LF (-1) instead of dropping the header
  "badreply.cfg": { "GET /ctype-crlf": () => ({ kind: "500" }) },
};

const REFERENCE = [
  { cfg: "seed.cfg", results: "seed.json" },
  { cfg: "echo.cfg", results: "echo.json" },
  { cfg: "badreply.cfg", results: "badreply.json" },
  { cfg: "drop.cfg", results: "drop.json" },
  { cfg: "noreply.cfg", results: "noreply.json" },
  { cfg: "kemi.cfg", results: "kemi.json" },
];

for (const runtime of RUNTIMES) {
  describe(`reference configurations on ${runtime}`, () => {
    for (const ref of REFERENCE) {
      describe(ref.cfg, () => {
        let server: Server;
        const file = path.join(REF, "configs", ref.cfg);
        const cases: RecordedCase[] = JSON.parse(readFileSync(path.join(REF, "results", ref.results), "utf8")).cases;
        before(async () => {
          server = await startServer(runtime, [file, "--listen-addr", "127.0.0.1", "--listen-port", "0"]);
        });
        after(async () => {
          await server?.stop();
        });
        for (const c of cases) {
          const exp = ADJUST[ref.cfg]?.[c.name]?.(c) ?? expectation(c);
          const label = `${c.name}: ${exp.kind === "responses" ? exp.codes.join(",") : exp.kind}`;
          it(label, { skip: exp.kind === "skip" ? exp.why : false }, async () => {
            const methods = methodsOf(c.request.raw);
            const before = server.stderr().length;
            const expect = exp.kind === "responses" ? exp.codes.length : 1;
            const r = await rawRequest(server.port, Buffer.from(c.request.raw, "latin1"), { expect, methods, timeoutMs: 3000 });
            if (exp.kind === "closed") {
              assert.equal(r.responses.length, 0, "drop: no response");
              assert.ok(r.serverClosed, "drop: the server closes the connection");
            } else if (exp.kind === "500") {
              // no reply: 500 for every request of the case (the C module loops on the first)
              assert.ok(r.responses.length >= 1, "a response");
              assert.deepEqual(r.responses.map((x) => x.status), r.responses.map(() => 500));
            } else if (exp.kind === "responses") {
              assert.deepEqual(r.responses.map((x) => x.status), exp.codes);
              exp.bodies.forEach((b, i) => {
                if (b !== undefined && methods[i] !== "HEAD") assert.equal(normalizeBody(r.responses[i].body.toString("utf8"), runtime), normalizeBody(Buffer.from(b, "latin1").toString("utf8"), runtime));
              });
            }
            // the script logged what the C module's script logged (first run); stderr
            // arrives through a pipe, so give it a moment
            for (const recorded of scriptLines(c)) {
              // a refused reply returns -1 here where the C module queued it (1)
              const line = expectedLogLine(exp.kind === "500" ? recorded.replace(/rc=1$/, "rc=-1") : recorded, runtime);
              const deadline = Date.now() + 2000;
              while (!server.stderr().slice(before).includes(line) && Date.now() < deadline) await sleep(20);
              assert.ok(server.stderr().slice(before).includes(line), `log line ${JSON.stringify(line)} in:\n${server.stderr().slice(before)}`);
            }
          });
        }
      });
    }
  });

  describe(`allowed_ips and listen_socket configurations on ${runtime}`, () => {
    const cfg = (name: string) => path.join(REF, "configs", name);
    it("allowed_allow.cfg answers 127.0.0.1 as the C module did", async () => {
      const srv = await startServer(runtime, [cfg("allowed_allow.cfg"), "--listen-port", "0"]);
      try {
        const r = await httpRequest(srv.port, "GET", "/");
        assert.equal(r.responses[0]?.status, 200);
        assert.equal(r.responses[0].body.toString(), "allowed from 127.0.0.1\n");
      } finally {
        await srv.stop();
      }
    });
    it("allowed_deny.cfg never runs the route for 127.0.0.1", async () => {
      const srv = await startServer(runtime, [cfg("allowed_deny.cfg"), "--listen-port", "0"]);
      try {
        const r = await httpRequest(srv.port, "GET", "/");
        // the C module closes the connection; the core refuses before the route (see its docs)
        assert.ok(r.responses.every((x) => x.status !== 200), "no 200");
        await sleep(100);
        assert.doesNotMatch(srv.stderr(), /allowed_deny: GET/);
      } finally {
        await srv.stop();
      }
    });
    it("listen_socket.cfg loads; its sockets can be replaced from the command line", async () => {
      const srv = await startServer(runtime, [cfg("listen_socket.cfg"), "--listen-socket", "127.0.0.1:0"]);
      try {
        const r = await httpRequest(srv.port, "GET", "/x");
        assert.equal(r.responses[0]?.body.toString(), "srcip=127.0.0.1\nurl=/x\n");
      } finally {
        await srv.stop();
      }
    });
  });

  describe(`realistic cfg service on ${runtime} (test/fixtures/cfg/app.cfg)`, () => {
    let server: Server;
    before(async () => {
      server = await startServer(runtime, ["-f", path.join(CFG, "app.cfg"), "--listen-addr", "127.0.0.1", "--listen-port", "0"]);
    });
    after(async () => {
      await server?.stop();
    });
    const get = async (target: string, headers?: Record<string, string>, method = "GET", body?: string) => {
      const r = await httpRequest(server.port, method, target, { headers, body });
      assert.equal(r.responses.length, 1, `one response for ${method} ${target}`);
      const res = r.responses[0];
      return { status: res.status, ctype: res.headers["content-type"], body: res.body.toString("utf8") };
    };
    it("health check, with a $var counter kept across requests", async () => {
      const a = await get("/health");
      assert.equal(a.status, 200);
      assert.equal(a.ctype, "application/json");
      const hits = JSON.parse(a.body).hits as number;
      assert.deepEqual(JSON.parse((await get("/health")).body), { service: "mhttpd-demo", status: "ok", hits: hits + 1 });
    });
    it("REST API: list, item, unknown item, 405 by switch default, 404 fallback", async () => {
      assert.deepEqual(JSON.parse((await get("/api/users")).body), [{ id: 1, name: "alice" }, { id: 2, name: "bob" }]);
      assert.deepEqual(JSON.parse((await get("/api/users/2")).body), { id: 2, name: "bob" });
      const missing = await get("/api/users/9");
      assert.equal(missing.status, 404);
      assert.deepEqual(JSON.parse(missing.body), { error: "no such user", id: "9" });
      assert.equal((await get("/api/users/1", {}, "DELETE")).status, 204);
      const put = await get("/api/users/1", {}, "PUT", "x");
      assert.equal(put.status, 405);
      assert.equal(put.body, "method PUT not allowed\n");
      const fallback = await get("/api/things");
      assert.equal(fallback.status, 404);
      assert.deepEqual(JSON.parse(fallback.body), { error: "not found", path: "/api/things" });
      assert.equal((await get("/nowhere")).status, 404);
    });
    it("key-value store in an htable, kept across requests", async () => {
      assert.equal((await get("/kv/color")).status, 404);
      const put = await get("/kv/color", {}, "PUT", "blue");
      assert.equal(put.status, 201);
      assert.equal(put.body, "stored color\n");
      assert.equal((await get("/kv/color")).body, "blue");
      assert.equal((await get("/kv/color", {}, "DELETE")).status, 204);
      assert.equal((await get("/kv/color")).status, 404);
      assert.equal((await get("/kv/")).status, 400);
    });
    it("bearer token", async () => {
      assert.equal((await get("/admin")).status, 401);
      assert.equal((await get("/admin", { Authorization: "Bearer wrong" })).status, 401);
      const ok = await get("/admin", { Authorization: "Bearer s3cret-token" });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, "welcome, admin\n");
      assert.match(server.stderr(), /WARNING: <script>: app: bad bearer token from 127\.0\.0\.1/);
    });
    it("HTTP basic auth through s.select, s.decode.base64 and s.md5", async () => {
      const basic = (u: string) => ({ Authorization: "Basic " + Buffer.from(u).toString("base64") });
      assert.equal((await get("/private")).status, 401);
      const ok = await get("/private", basic("alice:wonderland"));
      assert.equal(ok.status, 200);
      assert.equal(ok.body, "hello alice\n");
      assert.equal((await get("/private", basic("alice:nope"))).status, 403);
    });
    it("JSON body echoed back", async () => {
      const payload = JSON.stringify({ msg: "héllo", n: [1, 2, 3] });
      const r = await get("/echo", { "Content-Type": "application/json" }, "POST", payload);
      assert.equal(r.status, 200);
      const back = JSON.parse(r.body);
      assert.deepEqual(back.data, JSON.parse(payload));
      assert.equal(back.size, Buffer.byteLength(payload));
      assert.equal(back.md5, createHash("md5").update(payload).digest("hex"));
      assert.equal(back.msg_len, Buffer.byteLength("héllo"));
      assert.equal((await get("/echo", { "Content-Type": "application/json" }, "POST", "[1,2]")).status, 400);
      assert.equal((await get("/echo", { "Content-Type": "text/plain" }, "POST", "x")).status, 415);
      assert.equal((await get("/echo")).status, 405);
    });
  });

  describe(`cfg start-up on ${runtime}`, () => {
    it("a syntax error exits non-zero naming file:line:col", async () => {
      const r = await runToExit(runtime, [path.join(CFG, "bad-syntax.cfg")]);
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /mhttpd: .*bad-syntax\.cfg:7:\d+: expected ";"/);
      assert.doesNotMatch(r.stdout, /listening/);
    });
    it("listen_port given as a string is refused, as in Kamailio", async () => {
      const r = await runToExit(runtime, [path.join(CFG, "bad-port-type.cfg")]);
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /bad-port-type\.cfg:4:1: modparam\("microhttpd", "listen_port", \.\.\.\): the parameter is an integer, got a string "8280"/);
    });
    it("an unknown module is named", async () => {
      const r = await runToExit(runtime, [path.join(CFG, "bad-module.cfg")]);
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /bad-module\.cfg:2:12: unknown module "tls\.so"/);
    });
    it("a missing event_callback function is a start-up error", async () => {
      const r = await runToExit(runtime, [path.join(REF, "configs", "kemi.cfg"), "--event-callback", "no_such_fn", "--listen-port", "0"]);
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /event_callback "no_such_fn": no such function in .*kemi\.js \(functions: .*ksr_microhttpd_event/);
    });
  });
}
