// The modules a .cfg may load and the global settings it may set, as data.
// microhttpd's parameters come from src/params.ts (one table for every route
// style); the others are declared here with Kamailio's types.
import { PARAMS, type KamailioType } from "../params.ts";
import { NDB_REDIS_PARAMS } from "../modules/ndb_redis/params.ts";

export interface ModuleSpec {
  doc: string;
  /** parameter name -> Kamailio type; a parameter not listed is a start-up error */
  params: Record<string, KamailioType>;
  /** loaded for compatibility only: its parameters are accepted and ignored */
  ignored?: boolean;
}

const microhttpdParams = Object.fromEntries(Object.entries(PARAMS).filter(([n]) => n !== "debug").map(([n, p]) => [n, p.type])) as Record<string, KamailioType>;

/** SIP-only modules a kamailio.cfg commonly loads: accepted (a debug log says they are
 * ignored), their modparams accepted and ignored; their functions are not available. */
const SIP_ONLY = ["sl", "tm", "tmx", "rr", "maxfwd", "textops", "siputils", "sanity", "ctl", "kex", "corex", "jsonrpcs", "usrloc", "registrar", "nathelper", "rtimer"];

export const MODULES: Record<string, ModuleSpec> = {
  microhttpd: { doc: "the HTTP server: mhttpd_reply(), $mhttpd(...), its parameters", params: microhttpdParams },
  xlog: {
    doc: "xlog(), xdbg() ... xalert()",
    params: { buf_size: "int", force_color: "int", long_format: "int", prefix: "str", prefix_mode: "int", log_facility: "str", log_colors: "str", methods_filter: "int" },
  },
  pv: { doc: "$var, $vn, $shv, pv_isset(), pv_unset(), is_int()", params: { shvset: "str", varset: "str" } },
  cfgutils: { doc: "check_route_exists(), route_if_exists()", params: { initial_probability: "int", hash_file: "str" } },
  jansson: { doc: "jansson_get()", params: {} },
  htable: { doc: "$sht(table=>key), sht_rm(), sht_reset(); size, autoexpire, initval, updateexpire, timer_interval", params: { htable: "str", db_url: "str", enable_dmq: "int", timer_interval: "int" } },
  ndb_redis: {
    doc: "redis_cmd(), redis_pipe_cmd(), redis_execute(), redis_free(), $redis(reply=>key), $redisd(...); servers, timeouts, allowed_timeouts/disable_time (cluster and sentinel refused)",
    params: NDB_REDIS_PARAMS,
  },
  app_jsdt: { doc: 'KEMI in JavaScript: modparam("app_jsdt", "load", "file.js") with microhttpd event_callback', params: { load: "str", mode: "int" } },
  ...Object.fromEntries(SIP_ONLY.map((m) => [m, { doc: "SIP only: accepted and ignored", params: {}, ignored: true }])),
};

/** xlog parameters accepted but without effect here */
export const IGNORED_PARAMS = new Set(["xlog.buf_size", "xlog.force_color", "xlog.long_format", "xlog.prefix", "xlog.prefix_mode", "xlog.log_facility", "xlog.log_colors", "xlog.methods_filter", "cfgutils.hash_file", "app_jsdt.mode", "htable.db_url", "htable.enable_dmq"]);

/** shm_mem_size and its aliases (cfg.lex SHM_MEM_SZ): the memory of the htables, in MiB */
export const SHM_GLOBALS = new Set(["shm", "shm_mem", "shm_mem_size"]);

/** Global settings that mean something here. */
export const USED_GLOBALS = new Set(["debug", "max_while_loops", "cfgengine"]);

/** Core settings accepted and ignored (a debug log names each). */
export const IGNORED_GLOBALS = new Set([
  "log_stderror", "log_facility", "log_name", "log_prefix", "log_color", "children", "disable_tcp", "disable_sctp", "disable_tls", "enable_tls",
  "auto_aliases", "listen", "alias", "port", "fork", "memdbg", "memlog", "mlock_pages", "shm_force_alloc", "loadpath", "mpath",
  "tcp_connection_lifetime", "tcp_accept_no_cl", "tcp_max_connections", "tcp_children", "udp_children", "dns", "rev_dns", "use_dns_cache",
  "dns_try_ipv6", "server_header", "user_agent_header", "server_signature", "sip_warning", "pv_buffer_size", "pv_buffer_slots",
  "return_mode", "latency_log", "latency_limit_action", "latency_cfg_log", "async_workers", "corelog", "user", "group", "workdir",
  "pmtu_discovery", "maxbuffer", "tos", "enable_sctp", "socket_workers", "auto_bind_ipv6", "mhomed", "onsend_route_reply",
  "http_reply_parse", "advertised_address", "advertised_port", "log_engine_type", "log_engine_data", "debugger", "stun_refresh_interval",
]);

/** "modules/xlog.so" -> "xlog" */
export function moduleName(file: string): string {
  return file.replace(/^.*\//, "").replace(/\.so$/, "");
}
