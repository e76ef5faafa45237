// Health check for a load balancer or a Kubernetes probe: GET (or HEAD) /health
// answers 200 with a small JSON document. The counter is per process (with
// workers > 1, per worker), as $var is in examples/health.cfg.
//   npx mhttpd examples/health.ts
//   curl http://127.0.0.1:8280/health   -> {"status":"ok","checks":1}
import type { KsrApi } from "mhttpd";

let checks = 0;

export default function health(_evname: string, KSR: KsrApi): void {
  if (KSR.pv.get("$mhttpd(url)") !== "/health") {
    KSR.microhttpd.mhttpd_reply(404, "Not Found", "text/plain", "no such endpoint\n");
    return;
  }
  const method = KSR.pv.get("$mhttpd(method)");
  if (method !== "GET" && method !== "HEAD") {
    KSR.microhttpd.mhttpd_reply_header("Allow", "GET, HEAD");
    KSR.microhttpd.mhttpd_reply(405, "Method Not Allowed", "text/plain", "GET or HEAD only\n");
    return;
  }
  checks++;
  // a probe must see the state of now, never a cached answer
  KSR.microhttpd.mhttpd_reply_header("Cache-Control", "no-store");
  KSR.microhttpd.mhttpd_reply(200, "OK", "application/json", JSON.stringify({ status: "ok", checks }));
}
