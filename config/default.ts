// The documented example of Kamailio's microhttpd module, as a KEMI route:
//
//   event_route[microhttpd:request] {
//       xinfo("request: $mhttpd(method) - url: $mhttpd(url) - data: [$mhttpd(data)]\n");
//       mhttpd_reply("200", "OK", "text/html", "<html><body>OK</body></html>");
//   }
import type { KsrApi } from "../src/index.ts";

export default function ksr_microhttpd_event(_evname: string, KSR: KsrApi) {
  KSR.info(`request: ${KSR.pv.get("$mhttpd(method)")} - url: ${KSR.pv.get("$mhttpd(url)")} - data: [${KSR.pv.get("$mhttpd(data)")}]\n`);
  KSR.microhttpd.mhttpd_reply(200, "OK", "text/html", "<html><body>OK</body></html>");
}
