// A webhook, as examples/webhook.cfg: a telephony platform POSTs
// {"event":"call.ended","call_id":"...","caller":"+441234567890"} to /webhook; the
// route checks the sender, asks the CRM who the caller is (KSR.http_client, awaited:
// other requests run meanwhile), keeps the answer per call and answers 202 with it.
// GET /calls/CALL_ID reads it back. The sender signs the body: X-Signature is the
// hex HMAC-SHA256 of the body with the shared secret, checked with Web Crypto
// (crypto.subtle.verify compares in constant time). The calls are kept in a Map
// (per process, as the cfg's htable; an hour each).
//   WEBHOOK_SECRET=s3cret CRM_URL=http://127.0.0.1:9000 npx mhttpd examples/webhook.ts
// The CRM's URL is the operator's: a URL built from request data could reach any
// internal address (docs/limits-and-security.md), so only the caller, checked,
// goes into it, percent-encoded.
import type { KsrApi } from "mhttpd";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const SECRET = env.WEBHOOK_SECRET ?? "change-me";
const CRM_URL = env.CRM_URL ?? "http://127.0.0.1:9000";
const CALL_ID = /^[a-z0-9-]{1,64}$/i;
const CALLER = /^\+?[0-9]{6,15}$/;
const CUSTOMER = /^[a-z0-9 .,&-]{1,80}$/i;
const KEEP_MS = 3600_000;

const calls = new Map<string, { customer: string; until: number }>();
let lookups = 0;
const key = crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);

function reply(KSR: KsrApi, code: number, reason: string, body: unknown): void {
  KSR.microhttpd.mhttpd_reply(code, reason, "application/json", JSON.stringify(body));
}

/** X-Signature is the body's HMAC-SHA256 in hex. */
async function signedBySender(KSR: KsrApi): Promise<boolean> {
  const hex = String(KSR.pv.get("$mhttpd(h:X-Signature)") ?? "");
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  const signature = new Uint8Array(hex.match(/../g)!.map((b) => parseInt(b, 16)));
  return crypto.subtle.verify("HMAC", await key, signature, new Uint8Array(KSR.microhttpd.body_bytes()));
}

/** The event's call_id and caller, when both are there and well-formed. */
function eventOf(data: string): { callId: string; caller: string } | undefined {
  try {
    const e: unknown = JSON.parse(data);
    if (e === null || typeof e !== "object") return undefined;
    const { call_id: callId, caller } = e as Record<string, unknown>;
    return typeof callId === "string" && CALL_ID.test(callId) && typeof caller === "string" && CALLER.test(caller) ? { callId, caller } : undefined;
  } catch {
    return undefined;
  }
}

export default async function webhook(_evname: string, KSR: KsrApi): Promise<void> {
  const url = String(KSR.pv.get("$mhttpd(url)"));
  if (url.startsWith("/calls/")) {
    const id = url.slice(7);
    const call = calls.get(id);
    if (!call || call.until < Date.now()) return reply(KSR, 404, "Not Found", { error: "no such call" });
    return reply(KSR, 200, "OK", { call_id: id, customer: call.customer });
  }
  if (url !== "/webhook") return reply(KSR, 404, "Not Found", { error: "not found" });
  if (KSR.pv.get("$mhttpd(method)") !== "POST") {
    KSR.microhttpd.mhttpd_reply_header("Allow", "POST");
    return reply(KSR, 405, "Method Not Allowed", { error: "POST only" });
  }
  if (!(await signedBySender(KSR))) {
    KSR.warn(`webhook: refused a sender from ${KSR.pv.get("$mhttpd(srcip)")}\n`);
    return reply(KSR, 401, "Unauthorized", { error: "bad credentials" });
  }
  const event = eventOf(String(KSR.pv.get("$mhttpd(data)")));
  if (!event) return reply(KSR, 400, "Bad Request", { error: "expected call_id and caller" });
  // the result goes to a variable, and variables are per process: a name of its
  // own keeps this request's answer from another's arriving meanwhile
  const answer = `$vn(webhook_${++lookups})`;
  const status = await KSR.http_client.query(`${CRM_URL}/lookup?caller=${encodeURIComponent(event.caller)}`, answer);
  const text = String(KSR.pv.get(answer));
  KSR.pv.unset(answer);
  let customer = "unknown";
  if (status !== 404) {
    if (status !== 200) {
      KSR.err(`webhook: CRM lookup for call ${event.callId} failed: ${status} ${KSR.pv.get("$curlerror")}\n`);
      return reply(KSR, 502, "Bad Gateway", { error: "the CRM did not answer" });
    }
    try {
      customer = (JSON.parse(text) as { customer?: unknown }).customer as string;
    } catch {
      customer = "";
    }
    if (typeof customer !== "string" || !CUSTOMER.test(customer)) {
      KSR.err(`webhook: unexpected CRM answer for call ${event.callId}\n`);
      return reply(KSR, 502, "Bad Gateway", { error: "unexpected CRM answer" });
    }
  }
  const now = Date.now();
  if (calls.size >= 10_000) for (const [id, c] of calls) if (c.until < now) calls.delete(id);
  calls.set(event.callId, { customer, until: now + KEEP_MS });
  KSR.info(`webhook: call ${event.callId} from ${event.caller} is ${customer}\n`);
  reply(KSR, 202, "Accepted", { call_id: event.callId, customer });
}
