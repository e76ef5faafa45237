// http_client without a server: the header lines a route hands over (a property
// test: whatever the text, nothing with CR, LF or NUL reaches fetch), cURL's error
// words and how each runtime's fetch errors map to them, the modparams and httpcon
// connections with their start-up errors, and the cfg functions run in-process
// against a loopback upstream (the compiler that awaits them is another branch's;
// these call the functions as it will). fast-check is seeded: MHTTPD_FC_SEED=N
// replays a run, and a failure prints its seed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { compileCfg, CfgSyntaxError } from "../src/cfg/index.ts";
import { HTTP_CLIENT_FUNCTIONS } from "../src/cfg/http-client.ts";
import type { Compiled } from "../src/cfg/function-spec.ts";
import { newExec, type Exec } from "../src/cfg/runtime.ts";
import type { Arg } from "../src/cfg/syntax-tree.ts";
import { RequestContext } from "../src/context.ts";
import { Logger } from "../src/log.ts";
import { lookupPv } from "../src/pv.ts";
import { fieldValueProblem } from "../src/reply.ts";
import { classifyBodyError, classifyFetchError, curlErrorText } from "../src/modules/curl-errors.ts";
import { FETCH_OWNED, parseHeaderLines, perform, queryCall } from "../src/modules/http-client.ts";
import { httpClientSettings } from "../src/modules/http-client-state.ts";
import { startUpstream, type Upstream } from "./_upstream.ts";

const SEED = Number(process.env.MHTTPD_FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = { seed: SEED, numRuns: 2000 };
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

describe("http_client: header lines from the route", () => {
  it("never yields a field with CR, LF, NUL or a bad name, whatever the text", () => {
    const chars = fc.constantFrom("a", "Z", "-", ":", " ", "\t", "\r", "\n", "\0", "\x7f", "é", "\u2028", "\u0100", ";", "\"");
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 60 }).map((a) => a.join("")), (hdrs) => {
        const out = parseHeaderLines(hdrs);
        if (typeof out === "string") return;
        for (const [name, value] of out) {
          assert.match(name, TOKEN);
          assert.equal(fieldValueProblem(value), undefined, JSON.stringify(value));
        }
      }),
      RUNS,
    );
  });

  it("gives back well-formed lines as they were, with or without a final CRLF", () => {
    // the headers fetch owns (Host, TE, ...) are refused on purpose: another test says so
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((n) => !FETCH_OWNED.has(n.toLowerCase()));
    const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 6 }), fc.constantFrom("", "\r\n", "\n"), fc.constantFrom("\r\n", "\n"), (fields, tail, sep) => {
        assert.deepEqual(parseHeaderLines(fields.map(([n, v]) => `${n}: ${v}`).join(sep) + tail), fields);
      }),
      RUNS,
    );
  });

  it("says what is wrong: an empty line inside, a line without a colon, a control character", () => {
    assert.deepEqual(parseHeaderLines(""), []);
    assert.match(parseHeaderLines("A: 1\r\n\r\nB: 2") as string, /^header line 2 is empty: an empty line would end the request's head/);
    assert.match(parseHeaderLines("A 1") as string, /^header line 1 "A 1" is not "Name: value"$/);
    assert.match(parseHeaderLines("A: x\x01y") as string, /^header A: the value contains a control character \(0x01\) at offset 1/);
    for (const name of ["Host", "content-length", "Transfer-Encoding", "Connection", "Upgrade", "Expect", "TE", "Trailer", "Keep-Alive"]) {
      assert.equal(parseHeaderLines(`X-A: 1\r\n${name}: x`), `header ${name} is set by fetch from the URL and the body: it cannot come from the route`);
    }
  });
});

describe("http_client: cURL's error words", () => {
  it("$curlerror(N) is curl_easy_strerror(N); above 99 an HTTP code, below 0 not a cURL code", () => {
    assert.equal(curlErrorText(0), "No error");
    assert.equal(curlErrorText(7), "Couldn't connect to server");
    assert.equal(curlErrorText(28), "Timeout was reached");
    assert.equal(curlErrorText(20), "Unknown error", "an obsolete code");
    assert.equal(curlErrorText(200), "HTTP result code");
    assert.equal(curlErrorText(1000), "HTTP result code", "as pv_get_curlerror orders its checks");
    assert.equal(curlErrorText(-1), "Bad CURL error code");
  });

  it("maps each runtime's fetch errors to cURL's codes (messages as Node 20, Bun 1.4 and Deno 2.9 give them)", () => {
    const node = (message: string, code?: string) => Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(message), { code }) });
    const bun = (message: string, code: string) => Object.assign(new TypeError(message), { code });
    const deno = (message: string) => Object.assign(new TypeError("fetch failed"), { cause: new Error(message) });
    const cases: [unknown, number][] = [
      [node("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"), 7],
      [bun("ECONNREFUSED: Unable to connect. Is the computer able to access the url?", "ECONNREFUSED"), 7],
      [deno("error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)"), 7],
      [node("getaddrinfo ENOTFOUND nonexistent.invalid", "ENOTFOUND"), 6],
      [deno("client error (Connect): dns error: failed to lookup address information: Name or service not known"), 6],
      [node("self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT"), 60],
      [deno("client error (Connect): invalid peer certificate: UnknownIssuer"), 60],
      [node("ssl3_get_record:wrong version number", "ERR_SSL_WRONG_VERSION_NUMBER"), 35],
      [bun("EPROTO: The TLS handshake failed. Does the server speak TLS on this port?", "EPROTO"), 35],
      [deno("client error (Connect): received corrupt message of type InvalidContentType"), 35],
      [node("redirect count exceeded"), 47],
      [bun("TooManyRedirects: The response redirected too many times.", "TooManyRedirects"), 47],
      [new TypeError("Fetch failed: Maximum number of redirects (20) reached"), 47],
      [node("other side closed", "UND_ERR_SOCKET"), 52],
      [deno("client error (SendRequest): connection closed before message completed"), 52],
      [node("Response does not match the HTTP/1.1 protocol (Expected HTTP/)", "HPE_INVALID_CONSTANT"), 8],
      [bun('Malformed_HTTP_Response fetching "http://x/".', "Malformed_HTTP_Response"), 8],
      [new TypeError("something nobody said before"), 56],
    ];
    for (const [e, code] of cases) assert.equal(classifyFetchError(e).code, code, String((e as Error).cause ?? (e as Error).message));
    assert.equal(classifyBodyError(node("other side closed", "UND_ERR_SOCKET")).code, 56, "a body cut short is a receive error");
    assert.equal(classifyFetchError(deno("connection refused")).detail, "connection refused", "the innermost message is kept for the log");
  });
});

describe("http_client: modparams and connections", () => {
  const cfg = (modparams: string, route = 'xinfo("x");') =>
    `loadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "http_client.so"\nloadmodule "microhttpd.so"\n${modparams}\nevent_route[microhttpd:request] {\n${route}\n}\n`;
  const compile = (modparams: string, route?: string) => compileCfg("/t/hc.cfg", { text: cfg(modparams, route) });
  const refused = (modparams: string, message: RegExp, route?: string) =>
    assert.throws(() => compile(modparams, route), (e: Error) => {
      assert.ok(e instanceof CfgSyntaxError, String(e));
      assert.match(e.message, message);
      return true;
    });

  it("reads httpcon as Kamailio does: credentials, base URL, parameters, defaults in force when declared", () => {
    const p = compile(
      [
        'modparam("http_client", "maxdatasize", 100)',
        'modparam("http_client", "httpcon", "a=>https://user:p%40ss@api.example.com:8443/v1;timeout=7;httpredirect=1;failover=b")',
        'modparam("http_client", "maxdatasize", 200)',
        'modparam("http_client", "httpcon", " b => http://10.0.0.1 ;maxdatasize=5;useragent=\\"x y\\"")',
      ].join("\n"),
    );
    const { connections } = httpClientSettings();
    const a = connections.get("a")!;
    assert.deepEqual([a.schema, a.base, a.username, a.password, a.timeout, a.followRedirect, a.maxdatasize, a.failover], ["https", "api.example.com:8443/v1", "user", "p%40ss", 7, true, 100, "b"]);
    const b = connections.get("b")!;
    assert.deepEqual([b.base, b.maxdatasize, b.useragent, b.followRedirect], ["10.0.0.1", 5, "x y", false]);
    assert.ok(p.notes.some((n) => /hc\.cfg:7:1: modparam http_client\.maxdatasize: maxdatasize is set after httpcon: as in Kamailio, a keeps the value in force when declared/.test(n)), p.notes.join("\n"));
  });

  it("refuses what fetch cannot do, naming the parameter and the way to get it", () => {
    refused('modparam("http_client", "verify_peer", 0)', /^\/t\/hc\.cfg:5:1: modparam\("http_client", "verify_peer", \.\.\.\): verify_peer 0 is not supported/);
    refused('modparam("http_client", "verify_host", 0)', /verify_host 0 is not supported/);
    refused('modparam("http_client", "cacert", "/etc/ca.pem")', /cacert "\/etc\/ca\.pem" is not supported: .*NODE_EXTRA_CA_CERTS .*DENO_CERT/);
    refused('modparam("http_client", "client_cert", "/c.pem")', /client_cert .* is not supported/);
    refused('modparam("http_client", "httpproxy", "http://proxy")', /httpproxy .* is not supported/);
    refused('modparam("http_client", "tlsversion", 6)', /tlsversion 6 is not supported/);
    refused('modparam("http_client", "authmethod", 2)', /authmethod 2 is not supported: only Basic/);
    refused('modparam("http_client", "netinterface", "eth0")', /netinterface "eth0" is not supported/);
    refused('modparam("http_client", "config_file", "conns.cfg")', /config_file .* declare the connections with modparam\("http_client", "httpcon"/);
    refused('modparam("http_client", "timeout_mode", 3)', /timeout_mode must be 0 \(no timeout\), 1 \(seconds\) or 2 \(milliseconds\), got 3/);
    refused('modparam("http_client", "httpredirect", "1")', /the parameter is an integer, got a string "1"/);
    refused('modparam("http_client", "nosuch", 1)', /module http_client has no parameter "nosuch"/);
    refused('modparam("http_client", "useragent", "agent \u20ac")', /useragent "agent €": the value contains U\+20AC at offset 6/);
    refused('modparam("http_client", "httpcon", "a=>http://x;useragent=a\tb\u0001")', /httpcon "a": useragent .*: the value contains a control character \(0x01\)/);
    // the defaults are accepted: they change nothing
    compile('modparam("http_client", "verify_peer", 1)\nmodparam("http_client", "tlsversion", 0)\nmodparam("http_client", "cacert", "")\nmodparam("http_client", "authmethod", 3)\nmodparam("http_client", "keep_connections", 1)');
  });

  it("refuses a bad httpcon at its line: scheme, duplicate, unknown or bad parameter, unknown failover", () => {
    refused('modparam("http_client", "httpcon", "a=>ftp://x")', /hc\.cfg:5:1: .*httpcon "a": scheme "ftp" is not http or https/);
    refused('modparam("http_client", "httpcon", "a=>x")', /httpcon "a=>x": expected "name=>http:\/\/host\/path"/);
    refused('modparam("http_client", "httpcon", "a=>http://x")\nmodparam("http_client", "httpcon", "a=>http://y")', /hc\.cfg:6:1: .*httpcon "a" is declared twice/);
    refused('modparam("http_client", "httpcon", "a=>http://x;retries=3")', /httpcon "a": unknown parameter "retries" \(known: httpredirect, timeout/);
    refused('modparam("http_client", "httpcon", "a=>http://x;timeout=soon")', /httpcon "a": timeout "soon" is not an unsigned integer/);
    refused('modparam("http_client", "httpcon", "a=>http://x;verify_peer=0")', /httpcon "a": verify_peer 0 is not supported/);
    refused('modparam("http_client", "httpcon", "b=>http://y")\nmodparam("http_client", "httpcon", "a=>http://x;failover=c")', /hc\.cfg:6:1: .*httpcon "a": failover "c" is not a declared connection \(declared: b, a\)/);
  });

  it("checks the functions' arguments at start-up: a declared connection, a writable result, no v2pk", () => {
    const con = 'modparam("http_client", "httpcon", "api=>http://127.0.0.1:1")';
    refused(con, /hc\.cfg:7:1: http_connect: no connection "nosuch": declare it with modparam\("http_client", "httpcon", "nosuch=>http:\/\/host\/path"\) \(declared: api\)/, 'http_connect("nosuch", "/x", "$var(r)");');
    refused(con, /http_client_query: the result variable \$mhttpd\(url\) is read-only/, 'http_client_query("http://x/", "$mhttpd(url)");');
    refused(con, /http_client_request_v2pk\(\) is not supported: fetch cannot force HTTP\/2 with prior knowledge; use http_client_request\(\)/, 'http_client_request_v2pk("GET", "http://x/", "", "", "$var(r)");');
    refused("", /http_client_query\(\) takes 2 or 3 or 4 argument\(s\), got 5/, 'http_client_query("a", "b", "c", "d", "$var(r)");');
    refused("", /\$curlerror\(abc\): expected a cURL error code \(a number\) or a variable holding one/, 'xinfo("$curlerror(abc)");');
    refused("", /\$httprhdr\(Bad Name\): "Bad Name" is not a header name/, 'xinfo("$httprhdr(Bad Name)");');
  });

  it("$curlerror(N) with a cfg variable, $rc included, is read when used", () => {
    const p = compileCfg("/t/rc.cfg", {
      text: cfg("", '$var(c) = 28;\nmhttpd_reply("200", "OK", "text/plain", "$curlerror($var(c))|$curlerror(6)|$curlerror");'),
    });
    const ctx = new RequestContext(new Request("http://x/"), { remoteAddress: "127.0.0.1" }, undefined, new Logger(-5, () => {}));
    p.event!(ctx);
    assert.equal(ctx.reply?.body, "Timeout was reached|Couldn't resolve host name|<null>");
  });
});

describe("http_client: the cfg functions in-process against a loopback upstream", () => {
  let up: Upstream;
  const logs: string[] = [];
  before(async () => {
    up = await startUpstream();
    compileCfg("/t/run.cfg", {
      text: `loadmodule "http_client.so"\nloadmodule "pv.so"\nloadmodule "microhttpd.so"\nmodparam("http_client", "response_headers", 1)\nmodparam("http_client", "httpcon", "up=>${up.base};httpredirect=1")\nmodparam("http_client", "httpcon", "slash=>${up.base}/")\n`,
    });
  });
  after(() => up.close());

  const ctxOf = () => new RequestContext(new Request("http://x/"), { remoteAddress: "127.0.0.1" }, undefined, new Logger(3, (l) => logs.push(l)));
  const text = (v: string): Compiled => () => v;
  const pv = (name: string): Compiled => {
    const p = lookupPv(name) as Exclude<ReturnType<typeof lookupPv>, Error>;
    return { spec: name, get: (c) => p.get(c), set: (c, v) => p.set!(c, v) };
  };
  const pos = { file: "/t/run.cfg", line: 9, col: 3 };
  /** the argument as written in the cfg, compiled as the cfg compiler would (a format here) */
  const written = (v: string): Arg => ({ k: "str", v, pos });
  const run = async (fname: string, ctx: RequestContext, ...args: Compiled[]) => {
    const x: Exec = newExec(ctx, 100, true);
    HTTP_CLIENT_FUNCTIONS[fname].fixup?.(args, args.map((a) => (typeof a === "function" ? written(String(a(ctx))) : written((a as { spec: string }).spec))), pos);
    const r = HTTP_CLIENT_FUNCTIONS[fname].run(x, args, pos, { routes: new Map(), dynamicRoutes: false });
    assert.ok(r instanceof Promise || fname === "http_get_redirect" || fname === "http_client_response_headers_set", `${fname} returns a promise`);
    return r;
  };
  const value = (ctx: RequestContext, name: string) => lookupPv(name) instanceof Error ? undefined : (lookupPv(name) as { get(c: RequestContext): unknown }).get(ctx);

  it("http_client_query in its three forms: GET, POST, POST with headers; the first line kept (query_result 1)", async () => {
    const ctx = ctxOf();
    assert.equal(await run("http_client_query", ctx, text(`${up.base}/text`), pv("$var(q1)")), 200);
    assert.equal(value(ctx, "$var(q1)"), "first line");
    const n = up.seen.length;
    assert.equal(await run("http_client_query", ctx, text(`${up.base}/echo`), text("a=1"), pv("$var(q2)")), 200);
    assert.equal(await run("http_client_query", ctx, text(`${up.base}/echo`), text(""), text("X-A: 1"), pv("$var(q3)")), 200);
    const [post, get] = up.seen.slice(n);
    assert.deepEqual([post.method, post.body, get.method], ["POST", "a=1", "GET"], "an empty post means GET");
    assert.equal(value(ctx, "$httprhdr(X-Upstream)"), "echo");
  });

  it("header lines: the line breaks written in the argument split it; a variable holding one is refused", async () => {
    const ctx = ctxOf();
    const v = lookupPv("$var(hv)") as Exclude<ReturnType<typeof lookupPv>, Error>;
    const n = up.seen.length;
    v.set!(ctx, "fine");
    assert.equal(await run("http_client_query", ctx, text(`${up.base}/echo`), text("x"), text("X-A: $var(hv)\r\nX-B: 2"), pv("$var(q5)")), 200);
    assert.deepEqual(up.seen[n].headers.filter(([k]) => /^x-[ab]$/i.test(k)), [["X-A", "fine"], ["X-B", "2"]]);
    v.set!(ctx, "fine\r\nX-Injected: yes");
    assert.equal(await run("http_client_query", ctx, text(`${up.base}/echo`), text("x"), text("X-A: $var(hv)\r\nX-B: 2"), pv("$var(q5)")), -1);
    assert.equal(value(ctx, "$var(q5)"), "");
    assert.equal(up.seen.length, n + 1, "the refused call sent nothing");
    assert.ok(logs.some((l) => l.includes("/t/run.cfg:9: http_client_query: the value of $var(hv) in the header lines holds a line break (CR or LF): refused")), logs.join("\n"));
  });

  it("whatever the method, path, header lines and body: an answer or a cURL code, and only clean fields on the wire", async () => {
    const anyText = fc.string({ unit: fc.constantFrom("a", "Z", "/", "%", "?", "#", " ", ":", "\r", "\n", "\0", "\t", "é", "\u{1F600}", "\\", "@", ".."), maxLength: 24 });
    const method = fc.oneof(fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "CONNECT", "TRACE", "get"), anyText);
    await fc.assert(
      fc.asyncProperty(method, anyText, anyText, anyText, async (m, path, hdrs, body) => {
        const before = up.seen.length;
        const call = { ...queryCall("prop", m, `${up.base}/echo${path}`, body, hdrs), timeoutMs: 2000 };
        const out = await perform(call, undefined);
        if ("code" in out) {
          assert.ok(out.code > 0 && out.code < 100, `a cURL code: ${out.code}`);
          return;
        }
        assert.ok(out.status >= 200 && out.status < 600, `a status: ${out.status}`);
        for (const seen of up.seen.slice(before)) {
          for (const [name, value] of seen.headers) {
            assert.match(name, TOKEN);
            assert.doesNotMatch(value, /[\r\n\0]/);
          }
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("an empty URL is -1 with the file and line, before anything is sent", async () => {
    const ctx = ctxOf();
    const n = up.seen.length;
    assert.equal(await run("http_client_query", ctx, text(""), pv("$var(q4)")), -1);
    assert.equal(up.seen.length, n);
    assert.ok(logs.some((l) => /ERROR: <script>: \/t\/run\.cfg:9: http_client_query: the URL is empty/.test(l)), logs.join("\n"));
  });

  it("http_connect appends the url to the connection's base; http_get_redirect gives where it ended", async () => {
    const ctx = ctxOf();
    assert.equal(await run("http_get_redirect", ctx, text("up"), pv("$var(where)")), 1);
    assert.equal(value(ctx, "$var(where)"), "", "no call yet in this request");
    assert.equal(await run("http_connect", ctx, text("up"), text("redirect"), pv("$var(c1)")), 200);
    assert.equal(value(ctx, "$var(c1)"), "first line\nsecond line\n", "http_connect keeps the whole body");
    assert.equal(await run("http_get_redirect", ctx, text("up"), pv("$var(where)")), 1);
    assert.equal(value(ctx, "$var(where)"), `${up.base}/text`);
    const n = up.seen.length;
    assert.equal(await run("http_connect", ctx, text("up"), text("/echo"), text("application/json"), text("{}"), pv("$var(c2)")), 200);
    assert.deepEqual([up.seen[n].method, up.seen[n].url, up.seen[n].body], ["POST", "/echo", "{}"]);
    assert.equal(await run("http_connect", ctx, text("up"), text("/echo"), text("application/json"), text(""), pv("$var(c4)")), 200);
    assert.equal(up.seen.at(-1)!.method, "GET", "empty data is a GET, as in Kamailio");
    assert.equal(await run("http_connect", ctx, text("slash"), text("echo"), pv("$var(c3)")), 404);
    assert.equal(up.seen.at(-1)!.url, "//echo", "joined as Kamailio joins them: a base ending in / gets another before a url without one");
  });

  it("http_client_response_headers_set(0) forgets the stored headers for the rest of the request", async () => {
    const ctx = ctxOf();
    await run("http_client_query", ctx, text(`${up.base}/text`), pv("$var(h1)"));
    assert.equal(value(ctx, "$httprhdr(x-upstream)"), "text");
    assert.equal(await run("http_client_response_headers_set", ctx, () => 0), 1);
    assert.equal(value(ctx, "$httprhdr(x-upstream)"), null);
    await run("http_client_query", ctx, text(`${up.base}/text`), pv("$var(h1)"));
    assert.equal(value(ctx, "$httprhdr(x-upstream)"), null);
  });

  it("a request whose signal has fired sends nothing: -1", async () => {
    const ctx = ctxOf();
    ctx.timedOut = true;
    ctx.abort(new DOMException("route_timeout passed", "TimeoutError"));
    void ctx.signal;
    const n = up.seen.length;
    assert.equal(await run("http_client_query", ctx, text(`${up.base}/text`), pv("$var(late)")), -1);
    assert.equal(up.seen.length, n);
    assert.ok(logs.some((l) => /Operation was aborted by an application callback \(cURL error 42\): route_timeout passed/.test(l)));
  });
});
