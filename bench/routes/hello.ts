// Benchmark route: the hello reply, without the documented route's per-request log line.
export default function ksr_microhttpd_event(_evname: string, KSR: any) {
  KSR.microhttpd.mhttpd_reply(200, "OK", "text/plain", "Hello");
}
