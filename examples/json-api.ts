// A JSON API: POST /api/greet with {"name": "..."} answers
// {"greeting":"hello NAME","bytes":SIZE}, as examples/json-api.cfg does: the name
// is held to the same pattern (a value from a request can hold any byte), and a
// name that is not a string is taken as its JSON text, as jansson_get() gives it.
//   npx mhttpd examples/json-api.ts
//   curl -H 'Content-Type: application/json' -d '{"name":"alice"}' http://127.0.0.1:8280/api/greet
import type { KsrApi } from "mhttpd";

const NAME = /^[a-z0-9 ._-]{1,64}$/i;

function reply(KSR: KsrApi, code: number, reason: string, body: unknown): void {
  KSR.microhttpd.mhttpd_reply(code, reason, "application/json", JSON.stringify(body));
}

export default function jsonApi(_evname: string, KSR: KsrApi): void {
  if (KSR.pv.get("$mhttpd(url)") !== "/api/greet") return reply(KSR, 404, "Not Found", { error: "not found" });
  if (KSR.pv.get("$mhttpd(method)") !== "POST") {
    KSR.microhttpd.mhttpd_reply_header("Allow", "POST");
    return reply(KSR, 405, "Method Not Allowed", { error: "POST only" });
  }
  if (!/^application\/json *(;|$)/i.test(String(KSR.pv.get("$mhttpd(h:Content-Type)") ?? ""))) {
    return reply(KSR, 415, "Unsupported Media Type", { error: "send application/json" });
  }
  let name: unknown;
  try {
    const body: unknown = JSON.parse(String(KSR.pv.get("$mhttpd(data)")));
    name = body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>).name : undefined;
  } catch {
    name = undefined;
  }
  if (name === undefined) return reply(KSR, 400, "Bad Request", { error: "expected a JSON object with a name" });
  const text = typeof name === "string" ? name : JSON.stringify(name);
  if (!NAME.test(text)) return reply(KSR, 400, "Bad Request", { error: "name: 1 to 64 letters, digits, spaces, dots, dashes or underscores" });
  KSR.info(`json-api: greeted ${text}\n`);
  reply(KSR, 200, "OK", { greeting: `hello ${text}`, bytes: KSR.pv.get("$mhttpd(size)") });
}
