// A signed JSON API: POST /api/orders with {"item": "...", "qty": N} and the header
// X-Signature, the body's HMAC-SHA256 under a shared key in base64url without "=",
// as examples/signed-api.cfg does: KSR.crypto.hmac_sha256 computes the signatures
// and KSR.jansson.get reads the body with jansson's rules (one object or array, no
// duplicate keys), so both forms accept and refuse the same requests.
//   MHTTPD_SIGNING_KEY=s3cret npx mhttpd examples/signed-api.ts
//   (curl example in examples/signed-api.cfg)
import type { KsrApi } from "mhttpd";

const SIGNING_KEY = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.MHTTPD_SIGNING_KEY ?? "example-signing-key";

function reply(KSR: KsrApi, code: number, reason: string, body: unknown): void {
  KSR.microhttpd.mhttpd_reply(code, reason, "application/json", JSON.stringify(body));
}

export default function signedApi(_evname: string, KSR: KsrApi): void {
  if (KSR.pv.get("$mhttpd(url)") !== "/api/orders") return reply(KSR, 404, "Not Found", { error: "not found" });
  if (KSR.pv.get("$mhttpd(method)") !== "POST") {
    KSR.microhttpd.mhttpd_reply_header("Allow", "POST");
    return reply(KSR, 405, "Method Not Allowed", { error: "POST only" });
  }
  const data = String(KSR.pv.get("$mhttpd(data)"));
  KSR.crypto.hmac_sha256(data, SIGNING_KEY, "$var(expected)");
  const given = KSR.pv.get("$mhttpd(h:X-Signature)");
  if (given === null || given !== KSR.pv.get("$var(expected)")) {
    KSR.warn(`signed-api: bad signature from ${KSR.pv.get("$mhttpd(srcip)")}\n`);
    return reply(KSR, 401, "Unauthorized", { error: "bad signature" });
  }
  const ok = KSR.jansson.get("item", data, "$vn(item)") > 0 && KSR.jansson.get("qty", data, "$vn(qty)") > 0;
  const item = String(KSR.pv.get("$vn(item)"));
  const qty = KSR.pv.get("$vn(qty)");
  const count = typeof qty === "number" ? qty : /^[+-]?\d+$/.test(String(qty)) ? Number(qty) : NaN;
  if (!ok || new TextEncoder().encode(item).length > 200 || !(count >= 1 && count <= 1000)) {
    return reply(KSR, 400, "Bad Request", { error: 'expected {"item": up to 200 bytes, "qty": 1 to 1000}' });
  }
  const order = JSON.stringify({ id: KSR.uuid.rget(), item, qty: count, received: KSR.pv.get("$Ts") });
  KSR.crypto.hmac_sha256(order, SIGNING_KEY, "$var(signature)");
  KSR.microhttpd.mhttpd_reply_header("X-Signature", String(KSR.pv.get("$var(signature)")));
  KSR.info(`signed-api: order of ${count}\n`);
  KSR.microhttpd.mhttpd_reply(201, "Created", "application/json", order);
}
