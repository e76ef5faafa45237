// The routes of examples/ as the README links them: each as a .cfg and as a .ts,
// on every runtime, with the same requests and the same answers.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import path from "node:path";
import { describe, it } from "node:test";
import { ROOT, RUNTIMES, httpRequest, startServer, waitForLog, type Server } from "./_harness.ts";
import { startUpstream } from "./_upstream.ts";

const EXAMPLES = path.join(ROOT, "examples");
const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];

interface Exchange {
  method: string;
  target: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  /** the body, exactly */
  text?: string;
  /** the body as JSON */
  json?: unknown;
  /** response headers that must be there, with these values */
  has?: Record<string, string>;
  /** anything else to check on the response */
  check?: (res: { headers: Record<string, string | string[] | undefined>; body: Buffer }) => void;
}

const basic = (credentials: string) => ({ Authorization: `Basic ${Buffer.from(credentials).toString("base64")}` });
const json = (value: unknown) => ({ headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) });

/** signed-api: the key the example falls back to, and a request signed with it */
const SIGNING_KEY = "example-signing-key";
const hmac = (text: string | Buffer) => createHmac("sha256", SIGNING_KEY).update(text).digest("base64url");
const signed = (body: string) => ({ headers: { "Content-Type": "application/json", "X-Signature": hmac(body) }, body });
/** a 201 with the order as given, a fresh random id, the time it was received, and the answer signed */
const order = (item: string, qty: number) => (res: { headers: Record<string, string | string[] | undefined>; body: Buffer }) => {
  const got = JSON.parse(res.body.toString("utf8"));
  assert.deepEqual(Object.keys(got), ["id", "item", "qty", "received"]);
  assert.match(got.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(got.item, item);
  assert.equal(got.qty, qty);
  assert.ok(Math.abs(got.received - Date.now() / 1000) < 30, `received ${got.received}`);
  assert.equal(res.headers["x-signature"], hmac(res.body), "the answer is signed");
};

/** examples/webhook.*: the sender's headers for a body (the .cfg checks the secret, the .ts the HMAC) */
const WEBHOOK_SECRET = "test-secret";
const webhook = (event: unknown, secret = WEBHOOK_SECRET) => {
  const body = JSON.stringify(event);
  return { method: "POST", target: "/webhook", body, headers: { "Content-Type": "application/json", "X-Webhook-Secret": secret, "X-Signature": createHmac("sha256", secret).update(body).digest("hex") } };
};

/** What each example answers, in order (the counters and the store carry over).
 * `upstream`: the example calls the test's upstream (test/_upstream.ts), at CRM_URL. */
const CASES: Record<string, { exchanges: Exchange[]; log?: RegExp; upstream?: true }> = {
  health: {
    exchanges: [
      { method: "GET", target: "/health", status: 200, json: { status: "ok", checks: 1 }, has: { "content-type": "application/json", "cache-control": "no-store" } },
      { method: "GET", target: "/health", status: 200, json: { status: "ok", checks: 2 } },
      { method: "HEAD", target: "/health", status: 200, text: "" },
      { method: "POST", target: "/health", body: "x", status: 405, has: { allow: "GET, HEAD" } },
      { method: "GET", target: "/healthz", status: 404, text: "no such endpoint\n" },
    ],
  },
  "json-api": {
    exchanges: [
      { method: "POST", target: "/api/greet", ...json({ name: "alice" }), status: 200, json: { greeting: "hello alice", bytes: 16 } },
      { method: "POST", target: "/api/greet", headers: { "Content-Type": "application/json; charset=utf-8" }, body: '{"name":"Bob Smith-2"}', status: 200, json: { greeting: "hello Bob Smith-2", bytes: 22 } },
      // jansson_get gives a number as its text
      { method: "POST", target: "/api/greet", ...json({ name: 5 }), status: 200, json: { greeting: "hello 5", bytes: 10 } },
      // what could break the JSON answer never reaches it
      { method: "POST", target: "/api/greet", ...json({ name: 'a"b' }), status: 400, json: { error: "name: 1 to 64 letters, digits, spaces, dots, dashes or underscores" } },
      { method: "POST", target: "/api/greet", ...json({ name: "bob\n" }), status: 400 },
      { method: "POST", target: "/api/greet", ...json({ name: "x".repeat(65) }), status: 400 },
      { method: "POST", target: "/api/greet", headers: { "Content-Type": "application/json" }, body: Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400 },
      { method: "POST", target: "/api/greet", ...json({ nom: "x" }), status: 400, json: { error: "expected a JSON object with a name" } },
      { method: "POST", target: "/api/greet", headers: { "Content-Type": "application/json" }, body: "not json", status: 400, json: { error: "expected a JSON object with a name" } },
      { method: "POST", target: "/api/greet", headers: { "Content-Type": "text/plain" }, body: '{"name":"x"}', status: 415, json: { error: "send application/json" } },
      { method: "GET", target: "/api/greet", status: 405, json: { error: "POST only" }, has: { allow: "POST" } },
      { method: "GET", target: "/api/other", status: 404, json: { error: "not found" } },
    ],
    log: /INFO: <script>: json-api: greeted alice/,
  },
  "basic-auth": {
    exchanges: [
      { method: "GET", target: "/", status: 200, text: "public\n" },
      { method: "GET", target: "/private", status: 401, text: "authentication required\n", has: { "www-authenticate": 'Basic realm="mhttpd example", charset="UTF-8"' } },
      { method: "GET", target: "/private", headers: basic("alice:wonderland"), status: 200, text: "hello alice\n" },
      { method: "GET", target: "/private", headers: basic("alice:nope"), status: 401 },
      { method: "GET", target: "/private", headers: basic("bob:wonderland"), status: 401 },
      { method: "GET", target: "/private", headers: basic("alice:wonder:land"), status: 401 },
      { method: "GET", target: "/private", headers: basic("alice"), status: 401 },
      { method: "GET", target: "/private", headers: { Authorization: "Basic !!!" }, status: 401 },
      { method: "GET", target: "/private", headers: { Authorization: "Bearer abc" }, status: 401 },
      { method: "GET", target: "/other", status: 404, text: "no such page\n" },
    ],
    log: /WARNING: <script>: basic-auth: refused credentials from 127\.0\.0\.1/,
  },
  "kv-store": {
    exchanges: [
      { method: "GET", target: "/kv/color", status: 404, text: "no such key\n" },
      { method: "PUT", target: "/kv/color", body: "blue", status: 201, text: "stored color\n" },
      { method: "GET", target: "/kv/color", status: 200, text: "blue", has: { "content-type": "text/plain; charset=utf-8" } },
      { method: "HEAD", target: "/kv/color", status: 200, text: "" },
      { method: "PUT", target: "/kv/Greeting.v1", body: "héllo wörld", status: 201 },
      { method: "GET", target: "/kv/Greeting.v1", status: 200, text: "héllo wörld" },
      { method: "DELETE", target: "/kv/color", status: 204, text: "" },
      { method: "GET", target: "/kv/color", status: 404 },
      { method: "PUT", target: "/kv/bad%20key", body: "x", status: 400, text: "a key is 1 to 128 letters, digits, dots, dashes or underscores\n" },
      { method: "PUT", target: "/kv/a%2Fb", body: "x", status: 400 },
      { method: "GET", target: "/kv/", status: 400 },
      { method: "GET", target: `/kv/${"k".repeat(129)}`, status: 400 },
      { method: "POST", target: "/kv/color", body: "x", status: 405, has: { allow: "GET, HEAD, PUT, DELETE" } },
      { method: "GET", target: "/other", status: 404, text: "no such endpoint\n" },
    ],
  },
  "signed-api": {
    exchanges: [
      { method: "POST", target: "/api/orders", ...signed('{"item":"widget","qty":2}'), status: 201, has: { "content-type": "application/json" }, check: order("widget", 2) },
      // whatever the item holds is escaped by jansson_set (JSON.stringify in TypeScript)
      { method: "POST", target: "/api/orders", ...signed(JSON.stringify({ item: 'a "quoted"\n\\widget\u0001 ✓ </script>', qty: "7" })), status: 201, check: order('a "quoted"\n\\widget\u0001 ✓ </script>', 7) },
      { method: "POST", target: "/api/orders", headers: { "X-Signature": hmac("other") }, body: '{"item":"widget","qty":2}', status: 401, json: { error: "bad signature" } },
      { method: "POST", target: "/api/orders", body: '{"item":"widget","qty":2}', status: 401, json: { error: "bad signature" } },
      { method: "POST", target: "/api/orders", headers: { "X-Signature": hmac('{"item":"widget","qty":2}') + "=" }, body: '{"item":"widget","qty":2}', status: 401 },
      { method: "POST", target: "/api/orders", ...signed("not json"), status: 400, json: { error: 'expected {"item": up to 200 bytes, "qty": 1 to 1000}' } },
      { method: "POST", target: "/api/orders", ...signed('{"item":"a","item":"b","qty":1}'), status: 400 },
      { method: "POST", target: "/api/orders", ...signed('{"item":"a","qty":0}'), status: 400 },
      { method: "POST", target: "/api/orders", ...signed('{"item":"a","qty":2.5}'), status: 400 },
      { method: "POST", target: "/api/orders", ...signed('{"item":"a","qty":99999999999999999999}'), status: 400 },
      { method: "POST", target: "/api/orders", ...signed(JSON.stringify({ item: "x".repeat(201), qty: 1 })), status: 400 },
      { method: "POST", target: "/api/orders", ...signed('{"qty":1}'), status: 400 },
      { method: "GET", target: "/api/orders", status: 405, json: { error: "POST only" }, has: { allow: "POST" } },
      { method: "GET", target: "/api/other", status: 404, json: { error: "not found" } },
    ],
    log: /WARNING: <script>: signed-api: bad signature from 127\.0\.0\.1/,
  },
  webhook: {
    upstream: true,
    exchanges: [
      { ...webhook({ event: "call.ended", call_id: "c-1", caller: "+441234567890" }), status: 202, json: { call_id: "c-1", customer: "ACME Corp" } },
      { method: "GET", target: "/calls/c-1", status: 200, json: { call_id: "c-1", customer: "ACME Corp" } },
      { ...webhook({ event: "call.ended", call_id: "c-2", caller: "+15550000000" }), status: 202, json: { call_id: "c-2", customer: "unknown" } },
      { ...webhook({ event: "call.ended", call_id: "c-3", caller: "+19990000000" }), status: 502, json: { error: "the CRM did not answer" } },
      { method: "GET", target: "/calls/c-3", status: 404, json: { error: "no such call" } },
      { ...webhook({ event: "call.ended", call_id: "c-4", caller: "+441234567890" }, "wrong-secret"), status: 401, json: { error: "bad credentials" } },
      { ...webhook({ event: "call.ended", call_id: "c-5", caller: "+44 12\r\nX: y" }), status: 400, json: { error: "expected call_id and caller" } },
      { ...webhook({ event: "call.ended", call_id: "../etc", caller: "+441234567890" }), status: 400 },
      { ...webhook({ event: "call.ended" }), status: 400 },
      { method: "GET", target: "/webhook", status: 405, has: { allow: "POST" } },
      { method: "GET", target: "/other", status: 404, json: { error: "not found" } },
    ],
    log: /INFO: <script>: webhook: call c-1 from \+441234567890 is ACME Corp/,
  },
  rest: {
    exchanges: [
      { method: "GET", target: "/api/users", status: 200, json: [{ id: 1, name: "alice" }, { id: 2, name: "bob" }], has: { "content-type": "application/json" } },
      { method: "GET", target: "/api/users/", status: 200, json: [{ id: 1, name: "alice" }, { id: 2, name: "bob" }] },
      { method: "HEAD", target: "/api/users", status: 200, text: "" },
      { method: "GET", target: "/api/users/2", status: 200, json: { id: 2, name: "bob" } },
      { method: "GET", target: "/api/users/9", status: 404, json: { error: "no such user" } },
      { method: "GET", target: "/api/users/01", status: 404, json: { error: "no such user" } },
      { method: "GET", target: "/api/users/1/x", status: 404, json: { error: "not found" } },
      { method: "POST", target: "/api/users", body: "{}", status: 405, json: { error: "method not allowed" }, has: { allow: "GET, HEAD" } },
      { method: "DELETE", target: "/api/users/1", status: 405, has: { allow: "GET, HEAD" } },
      { method: "GET", target: "/api/status", status: 200, json: { status: "ok" } },
      { method: "GET", target: "/api/status/", status: 404 },
      { method: "GET", target: "/api/nothing", status: 404, json: { error: "not found" } },
      { method: "GET", target: "/API/users", status: 404 },
      { method: "GET", target: "/", status: 404 },
    ],
  },
};

async function exchange(srv: Server, x: Exchange, label: string): Promise<void> {
  const r = await httpRequest(srv.port, x.method, x.target, { headers: x.headers, body: x.body });
  const res = r.responses[0];
  assert.ok(res, `${label}: a response to ${x.method} ${x.target}`);
  const what = `${label}: ${x.method} ${x.target}`;
  assert.equal(res.status, x.status, `${what}: ${res.body.toString()}`);
  if (x.text !== undefined) assert.equal(res.body.toString("utf8"), x.text, what);
  if (x.json !== undefined) assert.deepEqual(JSON.parse(res.body.toString("utf8")), x.json, what);
  for (const [name, value] of Object.entries(x.has ?? {})) assert.equal(res.headers[name], value, `${what}: ${name}`);
  x.check?.(res);
}

/** The window number throttle's GET /throttle/window gives. */
async function windowOf(srv: Server): Promise<number> {
  const res = (await httpRequest(srv.port, "GET", "/throttle/window")).responses[0];
  assert.ok(res, "a response to GET /throttle/window");
  return Number(/^window (\d+)\n$/.exec(res.body.toString())?.[1]);
}

/** Wait (bounded) until the timer has opened a window after `after`. */
async function nextWindow(srv: Server, after: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const w = await windowOf(srv);
    if (w > after) return w;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the window timer never ran after window ${after}`);
}

/** throttle: 5 requests per window, then 429 until the rtimer route opens the next window. */
async function throttleCase(srv: Server, label: string): Promise<void> {
  // just after a new window begins: its 2 s are ahead of the requests
  const w = await nextWindow(srv, await windowOf(srv));
  for (let n = 1; n <= 5; n++) await exchange(srv, { method: "GET", target: "/", status: 200, text: `request ${n} of 5 in window ${w}\n` }, label);
  await exchange(srv, { method: "GET", target: "/", status: 429, text: "slow down: 5 requests per window\n", has: { "retry-after": "2" } }, label);
  const next = await nextWindow(srv, w);
  await exchange(srv, { method: "GET", target: "/", status: 200, text: `request 1 of 5 in window ${next}\n` }, label);
}

for (const runtime of RUNTIMES) {
  describe(`examples/ on ${runtime}`, () => {
    for (const ext of ["cfg", "ts"]) {
      it(`throttle.${ext}`, async () => {
        const srv = await startServer(runtime, [path.join(EXAMPLES, `throttle.${ext}`), ...LOCAL]);
        try {
          await throttleCase(srv, `throttle.${ext}`);
        } finally {
          await srv.stop();
        }
      });
    }
    for (const [name, { exchanges, log, upstream }] of Object.entries(CASES)) {
      for (const ext of ["cfg", "ts"]) {
        it(`${name}.${ext}`, async (t) => {
          const up = upstream ? await startUpstream() : undefined;
          const env = up ? { CRM_URL: `${up.base}/crm`, WEBHOOK_SECRET } : undefined;
          let srv: Server;
          try {
            srv = await startServer(runtime, [path.join(EXAMPLES, `${name}.${ext}`), ...LOCAL], { env });
          } catch (e) {
            await up?.close();
            // http_client in a .cfg needs the compiler that awaits (branch i18async)
            if (/this build runs cfg routes synchronously/.test(String(e))) return t.skip("waiting for the async cfg compiler");
            throw e;
          }
          try {
            for (const x of exchanges) await exchange(srv, x, `${name}.${ext}`);
            if (log) await waitForLog(srv, log);
          } finally {
            await srv.stop();
            await up?.close();
          }
        });
      }
    }
  });
}
