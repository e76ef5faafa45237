// Benchmark route: read the request body and answer its length.
export default function ksr_microhttpd_event(_evname: string, KSR: any) {
  const data = KSR.pv.get("$mhttpd(data)") as string;
  KSR.microhttpd.mhttpd_reply(200, "OK", "text/plain", String(data.length));
}
