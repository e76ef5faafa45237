// Benchmark route: read three headers and the client IP.
export default function ksr_microhttpd_event(_evname: string, KSR: any) {
  const a = KSR.pv.get("$mhttpd(h:X-Bench-A)");
  const b = KSR.pv.get("$mhttpd(h:X-Bench-B)");
  const ua = KSR.pv.get("$mhttpd(h:User-Agent)");
  const ip = KSR.pv.get("$mhttpd(srcip)");
  KSR.microhttpd.mhttpd_reply(200, "OK", "text/plain", `${a}${b}${ua} ${ip}`);
}
