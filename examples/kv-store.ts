// A key-value store: PUT /kv/KEY stores the body, GET /kv/KEY reads it back,
// DELETE /kv/KEY removes it, as examples/kv-store.cfg does. A key is 1 to 128
// letters, digits, dots, dashes or underscores. The store is this module's Map,
// per process (with workers > 1 each worker has its own: keep shared state in a
// database, docs/deploy.md). Values are the body as text, as $mhttpd(data) is in
// the .cfg; KSR.microhttpd.body_bytes() has the exact bytes.
//   npx mhttpd examples/kv-store.ts
//   curl -X PUT -d blue http://127.0.0.1:8280/kv/color && curl http://127.0.0.1:8280/kv/color
import type { KsrApi } from "mhttpd";

const KEY = /^[a-z0-9._-]{1,128}$/i;
const store = new Map<string, string>();

export default function kvStore(_evname: string, KSR: KsrApi): void {
  const reply = (code: number, reason: string, ctype: string, body: string) => KSR.microhttpd.mhttpd_reply(code, reason, ctype, body);
  const url = String(KSR.pv.get("$mhttpd(url)"));
  if (!url.startsWith("/kv/")) return void reply(404, "Not Found", "text/plain", "no such endpoint\n");
  const key = url.slice("/kv/".length);
  if (!KEY.test(key)) return void reply(400, "Bad Request", "text/plain", "a key is 1 to 128 letters, digits, dots, dashes or underscores\n");
  switch (KSR.pv.get("$mhttpd(method)")) {
    case "PUT":
      store.set(key, String(KSR.pv.get("$mhttpd(data)")));
      return void reply(201, "Created", "text/plain", `stored ${key}\n`);
    case "DELETE":
      store.delete(key);
      return void reply(204, "No Content", "", "");
    case "GET":
    case "HEAD": {
      const value = store.get(key);
      if (value === undefined) return void reply(404, "Not Found", "text/plain", "no such key\n");
      return void reply(200, "OK", "text/plain; charset=utf-8", value);
    }
  }
  KSR.microhttpd.mhttpd_reply_header("Allow", "GET, HEAD, PUT, DELETE");
  reply(405, "Method Not Allowed", "text/plain", "GET, HEAD, PUT or DELETE\n");
}
