// The property-based fuzz suite (issue 13): generated hostile requests over raw
// sockets, on Bun, Deno and Node, to a TypeScript and a .cfg route that copy every
// $mhttpd(...) value into reply headers, the content type, the reason, the body and
// log lines. For every request: the server answers with a well-formed HTTP/1.x
// response or closes the connection deliberately; no byte outside RFC 9110's
// field-value set reaches a response head; when the route answered, url and query
// are what an independent reference (test/_reference.ts) derives from the target;
// and the server is still there after each batch. Each log event is one line.
//
// MHTTPD_FUZZ_SEED (or `npm run fuzz -- --seed N`) replays a run; MHTTPD_FUZZ_PATH
// with it replays the failing case fast-check reported. MHTTPD_FUZZ_RUNS sets the
// number of connections per runtime (2000 by default; `npm run fuzz -- --runs N`).
// MHTTPD_FUZZ_SURVEY=1 (--survey) goes on after a failure and lists every kind of
// problem; MHTTPD_FUZZ_SHRINK=0 reports the first failure without shrinking it.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { FIXTURES, RUNTIMES, rawRequest, startServer, type Runtime, type Server } from "./_harness.ts";
import { bodyBytes, describeCase, exchange, fuzzCase, FORGED_EVENT, type Exchange, type FuzzCase, type FuzzRequest, type ParsedResponse } from "./_fuzz.ts";
import { mhdUnescapeLatin1, referenceUrlAndQuery } from "./_reference.ts";

const SEED = process.env.MHTTPD_FUZZ_SEED ? Number(process.env.MHTTPD_FUZZ_SEED) : (Math.random() * 2 ** 31) | 0;
const REPLAY_PATH = process.env.MHTTPD_FUZZ_PATH || undefined;
const CASES = Number(process.env.MHTTPD_FUZZ_RUNS ?? 2000);
/** connections at a time: a few, far under max_connections */
const BATCH = 4;
/** longer than any deliberate close: Bun closes an unfinished first head at its own
 * 10 s (at about 12 s), Node at header_timeout (2 s here) */
const EXCHANGE_TIMEOUT_MS = 15000;
const PROGRESS = process.env.MHTTPD_FUZZ_PROGRESS === "1";
/** MHTTPD_FUZZ_SURVEY=1: go on after a failure and list each kind of problem found,
 * with its shortest example, instead of stopping at the first and shrinking it */
const SURVEY = process.env.MHTTPD_FUZZ_SURVEY === "1";

const ROUTES = { ts: path.join(FIXTURES, "fuzz", "route.ts"), cfg: path.join(FIXTURES, "fuzz", "route.cfg") };
const ARGS = [
  ...["--listen-addr", "127.0.0.1", "--listen-port", "0"],
  // small limits, so that generated heads and bodies reach past them
  ...["--max-header-size", "8k", "--max-body-size", "16k", "--header-timeout", "2", "--body-timeout", "2", "--debug", "3"],
];

/** A log event as src/log.ts writes it, or a start-up line of an adapter. */
const LOG_EVENT = /^\S+Z (?:ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG): /;
const STARTUP_LINE = /^mhttpd: WARNING: /;
/** the start of a Common Log Format line: client, identities, time, the quoted request
 * (the client may be empty: Bun cannot tell the address of a client that has gone) */
const ACCESS_LINE = /^\S* - - \[[^\]]+\] "/;

/** A route's server, started again if it dies, so that fast-check can go on
 * shrinking the request that killed it; every death is reported. */
class FuzzServer {
  srv!: Server;
  /** stderr of servers that died, with why */
  deaths: string[] = [];
  /** stderr of every server this one has been, for the log check */
  #earlierStderr = "";
  #earlierStdout = "";
  constructor(
    readonly runtime: Runtime,
    readonly route: string,
    readonly extraArgs: string[] = [],
  ) {}
  async start() {
    this.srv = await startServer(this.runtime, [this.route, ...ARGS, ...this.extraArgs]);
  }
  get port() {
    return this.srv.port;
  }
  alive() {
    return this.srv.proc.exitCode === null && this.srv.proc.signalCode === null;
  }
  /** a dead server is recorded and replaced */
  async ensure(): Promise<string | undefined> {
    if (this.alive()) return undefined;
    const why = `the ${this.runtime} server of ${path.basename(this.route)} exited (${this.srv.proc.exitCode ?? this.srv.proc.signalCode}); its stderr ends:\n${this.srv.stderr().slice(-2000)}`;
    this.deaths.push(why);
    this.#earlierStderr += this.srv.stderr();
    this.#earlierStdout += this.srv.stdout();
    await this.start();
    return why;
  }
  stderr() {
    return this.#earlierStderr + this.srv.stderr();
  }
  stdout() {
    return this.#earlierStdout + this.srv.stdout();
  }
  async stop() {
    await this.srv?.stop();
  }
}

/** What the route read, from its body: JSON (route.ts) or percent-encoded lines (route.cfg). */
function routeFields(route: FuzzCase["route"], body: Buffer): Record<string, unknown> {
  if (route === "ts") return JSON.parse(body.toString("utf8"));
  const out: Record<string, unknown> = {};
  for (const line of body.toString("latin1").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = decodeURIComponent(line.slice(eq + 1));
  }
  return out;
}

/** a reply header value as it was sent: latin1 bytes, optional whitespace around it dropped */
const trimOws = (v: string) => v.replace(/^[\t ]+|[\t ]+$/g, "");

interface Tally {
  cases: number;
  requests: number;
  byRoute: number;
  /** answers of the route on the .cfg route's server (the one with the access log) */
  byCfgRoute: number;
  urlChecked: number;
  statuses: Map<string, number>;
}

/** Everything wrong with one connection's exchange. */
function problemsOf(c: FuzzCase, x: Exchange, tally: Tally, runtime: Runtime): string[] {
  const problems: string[] = [];
  tally.cases++;
  tally.requests += x.sent;
  if (x.refused) return ["connection refused: the server is not listening"];
  if (x.error) problems.push(`not a well-formed response: ${x.error}; received ${JSON.stringify(x.raw.toString("latin1").slice(0, 600))}`);
  // after a request whose CR or LF ended its head early, the rest of its bytes may be
  // answered as a request of their own: more than the responses waited for
  else if (x.leftover.length > 0 && !(x.responses.length >= x.sent && c.requests.slice(0, x.sent).some(breaksFraming))) {
    const how = x.closed ? `then the server closed (${x.closed})` : x.timedOut ? `then nothing for ${EXCHANGE_TIMEOUT_MS} ms` : "";
    problems.push(`a partial response, ${how}: ${JSON.stringify(x.leftover.toString("latin1").slice(0, 600))}`);
  } else if (x.timedOut && x.responses.length < x.sent) {
    problems.push(`no response to request ${x.responses.length + 1} for ${EXCHANGE_TIMEOUT_MS} ms, and the connection still open`);
  }
  x.responses.forEach((res, i) => {
    const key = `${res.status}${isRoute(res) ? " route" : ""}`;
    tally.statuses.set(key, (tally.statuses.get(key) ?? 0) + 1);
    problems.push(...responseProblems(c, i, res, tally, runtime).map((p) => `response ${i + 1} (${res.statusLine}): ${p}`));
  });
  return problems;
}

const isRoute = (res: ParsedResponse) => res.headers.get("x-fuzz-route")?.[0] === "1";
/** RFC 9112 §3: whitespace a recipient may take as the request line's separator
 * (SP, HTAB, VT, FF, bare CR) or its end (LF). A target holding one is not one
 * word on the wire, and a lenient parser may take its first word as the target. */
const LINE_WHITESPACE = /[ \t\x0b\x0c\r\n]/;
/** CR or LF in a head value: a lenient parser may end the line (or the head) there,
 * so what follows is not framed as the generator wrote it */
const breaksFraming = (r: FuzzRequest) => /[\r\n]/.test(r.target + r.hosts.join("") + r.headers.map(([, v]) => v).join(""));

/** url and query the route may see for a request: the reference's for its target;
 * for a target with whitespace in it, also the reference's for the first word */
function referencesFor(req: FuzzRequest): { url: string; query: string }[] {
  const whole = referenceUrlAndQuery(Buffer.from(req.target, "latin1"));
  if (!LINE_WHITESPACE.test(req.target)) return whole ? [whole] : [];
  const firstWord = referenceUrlAndQuery(Buffer.from(req.target.split(LINE_WHITESPACE)[0], "latin1"));
  return [whole, firstWord].filter((r) => r !== undefined);
}

/** methods whose body the Fetch API or the core does not read (the core reads none for
 * GET and HEAD; Fetch forbids TRACE and CONNECT) */
const BODILESS = new Set(["GET", "HEAD", "TRACE", "CONNECT"]);

function responseProblems(c: FuzzCase, i: number, res: ParsedResponse, tally: Tally, runtime: Runtime): string[] {
  const req = c.requests[i];
  if (!isRoute(res)) {
    // a refusal by the runtime or the core; never the route's 500, never a success
    return (res.status >= 400 && res.status < 500) || res.status === 501 || res.status === 505 ? [] : [`status ${res.status} not from the route`];
  }
  tally.byRoute++;
  if (c.route === "cfg") tally.byCfgRoute++;
  // after a request whose framing a lenient parser may read otherwise, the next
  // response may answer bytes that were meant as its body: nothing to compare
  if (c.requests.slice(0, i).some(breaksFraming)) return [];
  const problems: string[] = [];
  if (res.status !== 200) problems.push(`the route's reply has status ${res.status}`);
  const sentHeader = (name: string) => res.headers.get(name.toLowerCase())?.[0];
  let fields: Record<string, unknown> | undefined;
  if (req.method.toUpperCase() !== "HEAD") {
    try {
      fields = routeFields(c.route, res.body);
    } catch (e) {
      problems.push(`the route's body cannot be read: ${(e as Error).message}`);
    }
  }
  // what the route saw, from its body, or from the reply headers it copied it to (HEAD)
  const seen = { url: fields?.url ?? sentHeader("X-Fuzz-url"), query: fields?.query ?? sentHeader("X-Fuzz-query") } as { url?: string; query?: string };
  const refs = referencesFor(req);
  if (refs.length > 0 && fields) {
    tally.urlChecked++;
    if (!refs.some((ref) => ref.url === seen.url && ref.query === seen.query)) {
      problems.push(`url ${JSON.stringify(seen.url)} and query ${JSON.stringify(seen.query)}, the reference says ${refs.map((r) => `url ${JSON.stringify(r.url)} and query ${JSON.stringify(r.query)}`).join(", or ")}`);
    }
  }
  // a value copied into a reply header reaches the wire as it is, or not at all
  for (const field of ["url", "query"] as const) {
    const onWire = sentHeader(`X-Fuzz-${field}`);
    const value = seen[field];
    if (onWire !== undefined && value !== undefined && onWire !== trimOws(value)) problems.push(`X-Fuzz-${field}: ${JSON.stringify(onWire)} on the wire for ${field} ${JSON.stringify(value)}`);
  }
  // the route runs for HTTP/1.0 and 1.1 only (Node tells the version as sent)
  const version = (fields?.version as string | undefined) ?? sentHeader("X-Fuzz-version");
  if (version !== undefined && version !== "HTTP/1.0" && version !== "HTTP/1.1") problems.push(`the route ran for a request of version ${JSON.stringify(version)}`);
  if (runtime === "node" && version !== undefined && !LINE_WHITESPACE.test(req.target) && version !== req.version) problems.push(`version ${version}, sent ${req.version}`);
  if (fields && !BODILESS.has(req.method.toUpperCase()) && !breaksFraming(req) && Number(fields.size) !== Buffer.byteLength(bodyBytes(req), "latin1")) {
    problems.push(`size ${fields.size}, sent ${Buffer.byteLength(bodyBytes(req), "latin1")} body bytes`);
  }
  return problems;
}

/** Count a problem under its kind (its text without the values in it), keeping the shortest example. */
function survey(kinds: Map<string, { count: number; example: string }>, problem: string, example: string) {
  const kind = problem.replace(/"(?:[^"\\]|\\.)*"/g, "…").replace(/\d+/g, "N");
  const k = kinds.get(kind);
  if (!k) kinds.set(kind, { count: 1, example: `${example}\n    ${problem}` });
  else {
    k.count++;
    if (example.length < k.example.indexOf("\n    ")) k.example = `${example}\n    ${problem}`;
  }
}

/** The stderr lines that are not one whole log event each: a line that is not an
 * event, or an event a request forged (it looks like one, so it is named apart). */
function brokenLogLines(stderr: string): string[] {
  return stderr
    .split(/\r\n|\r|\n/)
    .filter((line, i, all) => !(i === all.length - 1 && line === ""))
    .filter((line) => line.startsWith(FORGED_EVENT) || (!LOG_EVENT.test(line) && !STARTUP_LINE.test(line)));
}

async function controlRequest(s: FuzzServer): Promise<string | undefined> {
  const r = await rawRequest(s.port, "GET /control?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", { timeoutMs: 5000 });
  const res = r.responses[0];
  if (res?.status === 200 && res.headers["x-fuzz-route"] === "1") return undefined;
  return `the ${s.runtime} server of ${path.basename(s.route)} did not answer a control request after the batch (${JSON.stringify(r.raw.toString("latin1").slice(0, 200))})`;
}

describe("the reference the fuzz suite compares with (test/_reference.ts)", () => {
  it("unescapes a path as the C module's library did (values recorded from the C module)", () => {
    // [raw path as sent, $mhttpd(url) the C module gave], bytes as latin1
    for (const [raw, url] of [
      ["/p%20q/r%2Fs/t+u/%41%zz", "/p q/r/s/t+u/A%zz"],
      ["/x%00y", "/x"],
      ["/caf\xc3\xa9/%C3%A9", "/caf\xc3\xa9/\xc3\xa9"],
      ["/v10", "/v10"],
    ]) {
      assert.equal(mhdUnescapeLatin1(raw), url, raw);
    }
  });

  it("derives url and query from a target as the WHATWG URL parser normalizes it", () => {
    for (const [target, url, query] of [
      ["/a/../admin", "/admin", ""],
      ["/a/%2e%2E/admin", "/admin", ""],
      ["/a\\b?x=1#f", "/a/b", "x=1"],
      ["/p?a=%zz&b=\"<>", "/p", "a=%zz&b=%22%3C%3E"],
      ["/%61dmin%2Fx", "/admin/x", ""],
      ["/x%00y?q", "/x", "q"],
      ["/caf\xc3\xa9", "/caf\u00e9", ""],
      ["/\xe9", "/\ufffd", ""],
      ["http://other/abs?q", "/abs", "q"],
      // the authority ends at "#" (RFC 3986 §3.2): the rest is a fragment
      ["http://a#/b", "/", ""],
    ]) {
      assert.deepEqual(referenceUrlAndQuery(Buffer.from(target, "latin1")), { url, query }, target);
    }
    // no reference: not origin-form, or an absolute-form RFC 3986 and WHATWG read differently (an http URI with an empty host is invalid, RFC 9110 §4.2.1)
    for (const target of ["*", "", "x", "http:///x", "http://a\\b/x"]) assert.equal(referenceUrlAndQuery(Buffer.from(target, "latin1")), undefined, target);
  });
});

for (const runtime of RUNTIMES) {
  describe(`fuzz on ${runtime}`, () => {
    // the .cfg route's server writes an access log: requests take the core's other
    // path (Hono's middleware chain, which reads the target and Host for the log)
    const servers = { ts: new FuzzServer(runtime, ROUTES.ts), cfg: new FuzzServer(runtime, ROUTES.cfg, ["--access-log", "common"]) };
    const tally: Tally = { cases: 0, requests: 0, byRoute: 0, byCfgRoute: 0, urlChecked: 0, statuses: new Map() };
    before(async () => {
      await Promise.all([servers.ts.start(), servers.cfg.start()]);
    });
    after(async () => {
      await Promise.all([servers.ts.stop(), servers.cfg.stop()]);
    });

    it(`${CASES} generated connections: a well-formed response or a close, clean heads, url and query as the reference derives them, the server alive`, { timeout: Math.max(600_000, CASES * 200) }, async (t) => {
      t.diagnostic(`seed ${SEED}${REPLAY_PATH ? ` path ${REPLAY_PATH}` : ""} (replay: MHTTPD_FUZZ_SEED=${SEED}${REPLAY_PATH ? ` MHTTPD_FUZZ_PATH=${REPLAY_PATH}` : ""})`);
      const started = Date.now();
      const kinds = new Map<string, { count: number; example: string }>();
      const property = fc.asyncProperty(fc.array(fuzzCase, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const problems: string[] = [];
        // a server that died after the last batch's checks is restarted here; its
        // death stays recorded and fails the test, but not this batch, which would
        // mislead the shrinking
        for (const s of Object.values(servers)) await s.ensure();
        const results = await Promise.all(batch.map((c) => exchange(servers[c.route].port, c, EXCHANGE_TIMEOUT_MS)));
        results.forEach((x, i) => {
          const found = problemsOf(batch[i], x, tally, runtime);
          if (found.length > 0) problems.push(`${describeCase(batch[i])}\n  ${found.join("\n  ")}`);
          if (SURVEY) for (const p of found) survey(kinds, p, describeCase(batch[i]));
        });
        for (const s of Object.values(servers)) {
          const control = s.alive() ? await controlRequest(s) : "dead";
          if (control) {
            // a server on its way out may still have answered the batch: give its exit a moment
            await new Promise((res) => setTimeout(res, 200));
            const problem = s.alive() ? control : `during this batch: ${await s.ensure()}`;
            problems.push(problem);
            if (SURVEY) survey(kinds, problem.split("\n")[0], batch.map(describeCase).join("\n  "));
          }
        }
        if (PROGRESS && tally.cases % 1000 < BATCH) console.error(`fuzz ${runtime}: ${tally.cases} connections, ${Math.round((Date.now() - started) / 1000)} s`);
        if (problems.length > 0 && !SURVEY) throw new Error(problems.join("\n"));
      });
      await fc.assert(property, { seed: SEED, path: REPLAY_PATH, numRuns: Math.ceil(CASES / BATCH), includeErrorInReport: true, endOnFailure: process.env.MHTTPD_FUZZ_SHRINK === "0" });
      const statuses = [...tally.statuses].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`);
      t.diagnostic(`${tally.cases} connections, ${tally.requests} requests in ${Math.round((Date.now() - started) / 1000)} s; ${tally.byRoute} answered by the route, ${tally.urlChecked} url/query checked; ${statuses.join(", ")}`);
      for (const [kind, { count, example }] of kinds) t.diagnostic(`${count} x ${kind}\n  e.g. ${example.length > 3000 ? example.slice(0, 1500) + " ... " + example.slice(-1500) : example}`);
      assert.equal(kinds.size, 0, "the survey found problems (listed above)");
      assert.deepEqual([...servers.ts.deaths, ...servers.cfg.deaths], [], "no server died");
      assert.ok(servers.ts.alive() && servers.cfg.alive(), "both servers are alive after the run");
      // the generator must keep reaching the route, or the url check tests nothing.
      // Over 16 seeds, 365-455 of 2000 connections were checked (the rest are refused
      // on purpose: bad heads, 431, 505): a fifth, the bound this had, failed about one
      // seed in five without any change in the server (the same seed gives the same
      // counts on the code before and after); an eighth still needs hundreds of checks.
      assert.ok(tally.urlChecked >= tally.cases / 8, `only ${tally.urlChecked} of ${tally.cases} connections had url and query checked (seed ${SEED})`);
    });

    it("each log event of the fuzz run is one line: no line a request could forge", () => {
      const stderr = servers.ts.stderr() + servers.cfg.stderr();
      // each answer of a route logged a line at least
      assert.ok(tally.byRoute > 0 && stderr.split("\n").length > tally.byRoute, `the fuzz run logged (${tally.byRoute} route answers)`);
      const broken = brokenLogLines(stderr);
      const forged = broken.filter((l) => l.startsWith(FORGED_EVENT));
      // the forged ones first, then other kinds; the count says how many in all
      const shown = [...forged.slice(0, 3), ...broken.filter((l) => l !== "" && !l.startsWith(FORGED_EVENT)).slice(0, 7)];
      assert.equal(
        broken.length,
        0,
        `${broken.length} stderr lines are not a log event of their own (${forged.length} of them a forged "${FORGED_EVENT}"), e.g.:\n${shown.map((l) => JSON.stringify(l.length > 300 ? l.slice(0, 300) + "..." : l)).join("\n")}`,
      );
    });

    it("each access log line of the fuzz run is one line, with no control byte", () => {
      const lines = servers.cfg.stdout().split(/\r\n|\r|\n/).filter((l) => l !== "" && !l.startsWith("mhttpd listening on "));
      assert.ok(tally.byCfgRoute > 0 && lines.length >= tally.byCfgRoute, `the fuzz run wrote an access log (${lines.length} lines for ${tally.byCfgRoute} answers of the route)`);
      const broken = lines.filter((l) => !ACCESS_LINE.test(l) || /[\x00-\x08\x0a-\x1f\x7f]/.test(l));
      assert.deepEqual(broken.slice(0, 10), [], `${broken.length} access log lines are not one whole line each`);
    });

    it("a log event forged in the target, a header and the body stays inside its own line", async () => {
      const s = servers.cfg;
      const before = s.stderr().length;
      // the route logs arg:q last: the line that says this request's logging is done
      const id = `forged-${Date.now()}`;
      const forgedBody = `x\n${FORGED_EVENT} in the body`;
      const target = `/p%0a${encodeURIComponent(FORGED_EVENT)}?next=%0d%0a${encodeURIComponent(FORGED_EVENT)}&q=${id}`;
      const r = await rawRequest(
        s.port,
        `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r${FORGED_EVENT} in X-A\r\nContent-Length: ${forgedBody.length}\r\n\r\n${forgedBody}`,
      );
      // a bare CR in a header value: a runtime may refuse the request (400); then the target and body go alone
      const answered = r.responses[0]?.status === 200 ? r : await rawRequest(s.port, `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${forgedBody.length}\r\n\r\n${forgedBody}`);
      assert.equal(answered.responses[0]?.status, 200);
      const deadline = Date.now() + 3000;
      while (!s.stderr().slice(before).includes(`arg:q=[${id}]`) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      const lines = s.stderr().slice(before).split(/\r\n|\r|\n/);
      assert.ok(lines.some((l) => l.includes(`arg:q=[${id}]`)), "the request was logged");
      assert.ok(lines.some((l) => l.includes("in the body")), "the body was logged");
      assert.deepEqual(lines.filter((l) => l.startsWith(FORGED_EVENT)), [], "a forged line at the start of a line");
    });
  });
}
