// mhttpd's version: --version, and the mhttpd_info series of the metrics.
export const VERSION = "0.1.0";
