// The modules a .cfg may load and the global settings it may set, as data.
// microhttpd's parameters come from src/params.ts (one table for every route
// style); the others are declared here with Kamailio's types.
//
// Nothing is dropped in silence. A module either runs, or is accepted as a no-op
// because its absence changes nothing for an HTTP route (its functions act on SIP
// messages and are unknown here, so calling one stops start-up; the one start-up
// warning names these modules). A parameter either acts, or is listed as inert
// with the reason, or is an error; an inert parameter whose value would have
// changed something (htable's db_url, enable_dmq) is an error too. A module that
// is not in the table is an error naming the nearest module that runs.
import { PARAMS, type KamailioType } from "../params.ts";
import { NDB_REDIS_PARAMS } from "../modules/ndb_redis/params.ts";
import { HTTP_CLIENT_PARAMS } from "../modules/http-client-config.ts";

/** A parameter (or global setting) accepted without effect. */
export interface Inert {
  /** why it changes nothing here */
  why: string;
  /** for the values that would change something: why they are refused */
  refuse?: (value: string | number) => string | undefined;
}

export interface ModuleSpec {
  doc: string;
  /** parameter name -> Kamailio type: the parameters that act here */
  params: Record<string, KamailioType>;
  /** parameters accepted without effect; one in neither table is a start-up error */
  inert?: Record<string, Inert>;
  /** set for a module accepted but not run: why that changes nothing for an HTTP route */
  noop?: string;
}

/** The same reason for several parameters, named in one string. */
function inert(names: string, why: string): Record<string, Inert> {
  return Object.fromEntries(names.split(/\s+/).filter(Boolean).map((n) => [n, { why }]));
}

/** An inert parameter whose other values would have changed something. */
function onlyWhen(harmless: (v: string | number) => boolean, why: string, refusal: string): Inert {
  return { why, refuse: (v) => (harmless(v) ? undefined : refusal) };
}
const empty = (v: string | number) => v === "" || v === 0;
const zero = (v: string | number) => v === 0 || v === "0";

const microhttpdParams = Object.fromEntries(Object.entries(PARAMS).filter(([n]) => n !== "debug").map(([n, p]) => [n, p.type])) as Record<string, KamailioType>;

const LOG_FORMAT = "mhttpd writes its own log format, one line per entry, to stderr (docs/limits-and-security.md#logs)";

/** SIP modules a kamailio.cfg commonly loads, with their parameters (param_export_t,
 * Kamailio 6.2): every one of them configures SIP processing, which never happens here. */
const SIP_ONLY: Record<string, { noop: string; params: string }> = {
  sl: { noop: "stateless SIP replies (an HTTP route replies with mhttpd_reply)", params: "default_code default_reason bind_tm rich_redirect event_callback_fl_ack event_callback_lres_sent" },
  tm: {
    noop: "SIP transactions",
    params:
      "reply_matching ruri_matching via1_matching callid_matching callid_cseq_matching fr_timer fr_inv_timer wt_timer retr_timer1 retr_timer2 max_inv_lifetime max_noninv_lifetime noisy_ctimer auto_inv_100 auto_inv_100_reason unix_tx_timeout restart_fr_on_each_reply fr_timer_avp fr_inv_timer_avp tw_append pass_provisional_replies aggregate_challenges unmatched_cancel default_code default_reason reparse_invite ac_extra_hdrs blst_503 blst_503_def_timeout blst_503_min_timeout blst_503_max_timeout blst_methods_add blst_methods_lookup cancel_b_method reparse_on_dns_failover on_sl_reply contacts_avp contact_flows_avp disable_6xx_block local_ack_mode local_ack_branch_mode failure_reply_mode faked_reply_prio remap_503_500 failure_exec_mode dns_reuse_rcv_socket local_cancel_reason e2e_cancel_reason e2e_cancel_hop_by_hop headers_mode xavp_contact event_callback evcb_local_ack_sent relay_100 rich_redirect event_callback_lres_sent exec_time_check reply_relay_mode enable_uac_fr failover_reply_codes reply_408_code reply_408_reason delayed_reply evlreq_mode",
  },
  tmx: { noop: "SIP transaction extras", params: "precheck_trans" },
  rr: { noop: "SIP Record-Route", params: "append_fromtag enable_double_rr enable_full_lr add_username enable_socket_mismatch_warning custom_user_avp force_send_socket ignore_sips sockname_mode loose_route_mode" },
  maxfwd: { noop: "the SIP Max-Forwards header", params: "max_limit" },
  textops: { noop: "text operations on the SIP message (search, append_hf, ...); an HTTP request is read through $mhttpd(...) and transformations", params: "" },
  siputils: { noop: "SIP URI and header helpers", params: "options_accept options_accept_encoding options_accept_language options_support contact_flds_separator rpid_prefix rpid_suffix rpid_avp e164_max_len" },
  sanity: {
    noop: "SIP message checks (the HTTP parser and max_header_size / max_body_size check requests here)",
    params: "default_checks uri_checks size_checks size_message size_method size_ruri size_from_uri size_to_uri size_contact_uri size_route_uri size_path_uri size_pai_uri size_header size_headers size_body proxy_require autodrop noreply",
  },
  ctl: { noop: "the binrpc control socket of kamcmd: mhttpd has no RPC interface", params: "fifo binrpc mode user group autoconversion binrpc_max_body_size binrpc_struct_max_body_size binrpc_buffer_size" },
  kex: { noop: "core extensions for SIP (flags, branches)", params: "" },
  corex: { noop: "core extensions for SIP (aliases, sockets, network I/O hooks)", params: "alias_subdomains dns_cache dns_file nio_intercept nio_min_msg_len nio_msg_avp evcb_reply_out" },
  jsonrpcs: {
    noop: "the JSON-RPC control interface (FIFO, datagram socket) of kamcmd and kamctl: mhttpd has no RPC interface",
    params: "pretty_format transport fifo_name fifo_mode fifo_group fifo_user fifo_reply_dir dgram_socket dgram_workers dgram_timeout dgram_mode dgram_group dgram_user tcp_socket",
  },
  usrloc: {
    noop: "SIP registrations (the location table)",
    params:
      "ruid_column user_column domain_column contact_column expires_column q_column callid_column cseq_column flags_column cflags_column db_url timer_interval db_mode db_load db_insert_update use_domain desc_time_order user_agent_column received_column path_column socket_column methods_column instance_column reg_id_column server_id_column connection_id_column keepalive_column partition_column matching_mode cseq_delay fetch_rows hash_size nat_bflag handle_lost_tcp close_expired_tcp skip_remote_socket preload db_update_as_insert timer_procs db_check_update xavp_contact db_ops_ruid expires_type db_raw_fetch_type db_insert_null server_id_filter db_timer_clean rm_expired_delay version_table ka_mode ka_from ka_domain ka_method ka_filter ka_interval ka_randomize ka_timeout ka_loglevel ka_logmsg ka_reply_codes load_rank db_clean_tcp",
  },
  registrar: {
    noop: "SIP REGISTER handling",
    params:
      "default_expires default_expires_range expires_range default_q append_branches case_sensitive tcp_persistent_flag realm_prefix min_expires max_expires received_param received_avp max_contacts retry_after sock_mode sock_flag sock_hdr_name method_filtering use_path path_mode path_use_received path_check_local xavp_cfg xavp_rcd xavp_rcd_mask gruu_enabled outbound_mode regid_mode flow_timer contact_max_size event_callback lookup_filter_mode min_expires_mode use_expired_contacts",
  },
  nathelper: {
    noop: "SIP NAT traversal (contact fixing, keepalive pings to registered SIP clients)",
    params: "natping_interval ping_nated_only nortpproxy_str received_avp force_socket sipping_from sipping_method sipping_bflag natping_disable_bflag natping_processes natping_socket keepalive_timeout udpping_from_path ignore_path append_sdp_oldmediaip filter_server_id nat_addr_mode alias_name",
  },
};

export const MODULES: Record<string, ModuleSpec> = {
  microhttpd: { doc: "the HTTP server: mhttpd_reply(), $mhttpd(...), its parameters", params: microhttpdParams },
  xlog: {
    doc: "xlog(), xdbg() ... xalert()",
    params: {},
    inert: {
      ...inert("buf_size", "no 4 KiB limit on a log message here"),
      ...inert("force_color long_format prefix prefix_mode log_facility log_colors auto_newline", LOG_FORMAT),
      ...inert("methods_filter", "it filters by SIP method; an HTTP route has no SIP message"),
    },
  },
  pv: {
    doc: "$var, $vn, $shv, $stat(name) (the statistics module's variables), pv_isset(), pv_unset(), is_int(); $TS $Ts $Tf $TF $Tb $TV(...) $time(...) $utime(...) $timef(...) $utimef(...)",
    params: { shvset: "str", varset: "str" },
    inert: inert("avp_aliases", "$avp is not available here"),
  },
  cfgutils: {
    doc: "check_route_exists(), route_if_exists(), sleep(), usleep(); $RANDOM; KSR.cfgutils.sleep/usleep",
    params: {},
    inert: {
      ...inert("initial_probability", "rand_event() and rand_set_prob() are not available here"),
      ...inert("initial_gflags", "the global flag functions are not available here"),
      ...inert("hash_file", "it serves an RPC command; mhttpd has no RPC interface"),
      ...inert("lock_set_size", "lock() and unlock() are not available here"),
    },
  },
  jansson: { doc: "jansson_get(), jansson_get_field(), jansson_set(), jansson_append(), jansson_array_size(); KSR.jansson.get", params: {} },
  crypto: {
    doc: "crypto_hmac_sha256(); KSR.crypto.hmac_sha256",
    params: {},
    inert: {
      ...inert("salt key_derivation init_vector", "they configure crypto_aes_encrypt/decrypt, which are not available here"),
      ...inert("register_callid", "it generates SIP Call-IDs"),
      ...inert("register_evcb kevcb_netio netio_key", "they encrypt SIP network traffic"),
    },
  },
  uuid: { doc: "$uuid(g|r|t|s); KSR.uuid.get/rget/tget", params: {} },
  htable: {
    doc: "$sht(table=>key), sht_rm(), sht_reset(); size, autoexpire, initval, updateexpire, timer_interval",
    params: { htable: "str", timer_interval: "int" },
    inert: {
      db_url: onlyWhen(empty, "tables are not loaded from or saved to a database here", 'htables are not loaded from or saved to a database here: keep the data in SQL with sqlops (db_sqlite, db_postgres) or in Redis with ndb_redis, or leave db_url ""'),
      ...inert("key_name_column key_type_column value_type_column key_value_column expires_column array_size_suffix fetch_rows db_expires", "database columns: htables use no database here (db_url)"),
      enable_dmq: onlyWhen(zero, "tables are not replicated here", "htables are not replicated between nodes here (DMQ): share the data through Redis with ndb_redis, or set enable_dmq 0"),
      ...inert("dmq_init_sync dmq_peer_id", "DMQ replication is not run (enable_dmq)"),
      ...inert("timer_procs", "expired items are swept by a timer in each worker"),
      event_callback: onlyWhen(empty, "no htable event is run", "the htable events (mod-init, expired) are not run here: initialise values with initval, or with $sht sets in the route"),
      ...inert("event_callback_mode", "no htable event is run (event_callback)"),
    },
  },
  http_client: {
    doc: "http_client_query(), http_client_get(), http_client_request(), http_connect(), http_connect_raw(), http_get_redirect(), http_client_response_headers_set(), $curlerror, $httprhdr(name): HTTP requests over the runtime's fetch, awaited by the route",
    params: HTTP_CLIENT_PARAMS,
  },
  rtimer: {
    doc: 'routes run at an interval: modparam("rtimer", "timer", "name=t1;interval=10;mode=1;") and modparam("rtimer", "exec", "timer=t1;route=PURGE"); $rtimer_worker',
    params: { default_interval: "int", timer: "str", exec: "str" },
  },
  sqlops: {
    doc: "sql_query(), sql_query_bind() (mhttpd: bound values), sql_xquery(), sql_pvquery(), sql_result_free(), sql_query_async(); $dbr, $sqlrows, $xavp (sql_xquery's rows); {sql.val}",
    params: { sqlcon: "str", sqlres: "str", tr_buf_size: "int", log_buf_size: "int", connect_mode: "int", results_maxsize: "int" },
  },
  db_sqlite: {
    doc: "sqlops on SQLite (sqlite:///path/file.db): bun:sqlite on Bun, node:sqlite on Deno, better-sqlite3 on Node; db_set_readonly, db_set_busy_timeout, db_set_journal_mode",
    params: { db_set_readonly: "str", db_set_busy_timeout: "str", db_set_journal_mode: "str" },
  },
  db_postgres: {
    doc: "sqlops on PostgreSQL (postgres://user:pass@host:port/db), the postgres package; timeout (the others are refused by name)",
    // all of Kamailio's, so that the ones not run here are refused by name, not as unknown
    params: { timeout: "int", retries: "int", lockset: "int", tcp_keepalive: "int", bytea_output_escape: "int", con_param: "str" },
  },
  ndb_redis: {
    doc: "redis_cmd(), redis_pipe_cmd(), redis_execute(), redis_free(), $redis(reply=>key), $redisd(...); servers, timeouts, allowed_timeouts/disable_time (cluster and sentinel refused)",
    params: NDB_REDIS_PARAMS,
  },
  statistics: {
    doc: 'update_stat(), reset_stat(), read as $stat(name), on variables declared with modparam("statistics", "variable", "name") or "name/no_reset"; KSR.statistics.update_stat/reset_stat; exported at the metrics path as mhttpd_stat{name="..."}',
    params: { variable: "str" },
  },
  app_jsdt: {
    doc: 'KEMI in JavaScript: modparam("app_jsdt", "load", "file.js") with microhttpd event_callback',
    params: { load: "str" },
    inert: {
      ...inert("mode", "it sets up Duktape's module loader; mhttpd imports ES modules and plain scripts its own way"),
      loaddir: onlyWhen(empty, "no directory is loaded", 'a directory of scripts is not loaded here: name one file with modparam("app_jsdt", "load", "file.js") (an ES module may import the others)'),
    },
  },
  ...Object.fromEntries(Object.entries(SIP_ONLY).map(([m, s]) => [m, { doc: `SIP only: ${s.noop}`, noop: s.noop, params: {}, inert: inert(s.params, `${m} is not run: ${s.noop}`) }])),
};

/** Modules mhttpd does not provide, with the nearest one that runs (or what to do instead). */
export const ALTERNATIVES: Record<string, { use?: string; why: string }> = {
  http_async_client: { use: "http_client", why: "http_client_query() awaits the upstream holding only its request, not the server" },
  xhttp: { use: "microhttpd", why: "event_route[microhttpd:request] is the HTTP route" },
  nghttp2: { use: "microhttpd", why: "event_route[microhttpd:request] is the HTTP route and serves HTTP/2 over TLS (tls_cert and tls_key) by ALPN on Node and Deno" },
  xhttp_rpc: { why: "mhttpd has no RPC interface" },
  xhttp_prom: { use: "microhttpd", why: 'the metrics parameter serves the server\'s figures in Prometheus format; the route counts its own with the statistics module (mhttpd_stat{name="..."})' },
  json: { use: "jansson", why: "jansson_get_field() reads one field, jansson_get() a path" },
  app_lua: { use: "app_jsdt", why: "KEMI runs in JavaScript or TypeScript here" },
  app_python: { use: "app_jsdt", why: "KEMI runs in JavaScript or TypeScript here" },
  app_python3: { use: "app_jsdt", why: "KEMI runs in JavaScript or TypeScript here" },
  app_python3s: { use: "app_jsdt", why: "KEMI runs in JavaScript or TypeScript here" },
  app_ruby: { use: "app_jsdt", why: "KEMI runs in JavaScript or TypeScript here" },
  app_sqlang: { use: "app_jsdt", why: "KEMI runs in JavaScript or TypeScript here" },
  timer: { use: "rtimer", why: "rtimer runs route blocks at an interval" },
  db_mysql: { use: "db_postgres", why: "a SQL server through sqlops (or db_sqlite for an embedded file)" },
  db_text: { use: "db_sqlite", why: "an embedded database file through sqlops" },
  db_unixodbc: { use: "db_postgres", why: "a SQL server through sqlops" },
  db_redis: { use: "ndb_redis", why: "redis_cmd() and $redis(...)" },
  ndb_mongodb: { use: "ndb_redis", why: "the NoSQL store mhttpd runs" },
  dmq: { use: "ndb_redis", why: "share state between nodes through Redis" },
  permissions: { use: "microhttpd", why: "allowed_ips and trusted_proxies filter clients by address" },
  auth: { why: "HTTP Basic authentication: see examples/basic-auth.cfg" },
  auth_db: { why: "HTTP Basic authentication: see examples/basic-auth.cfg" },
  pike: { use: "ndb_redis", why: "count requests per client in Redis" },
  rtjson: { use: "jansson", why: "build JSON with jansson_set()" },
};

/** Modules that do nothing without one of some others loaded beside them (Kamailio
 * fails at their mod_init): module -> the ones it needs, and why. */
export const NEEDS_ONE_OF: Record<string, { modules: string[]; why: string }> = {
  sqlops: { modules: ["db_sqlite", "db_postgres"], why: "sqlops runs its queries through a database module" },
};

/** The error for a module not in the table: what it is, and what runs. */
export function unknownModuleMessage(file: string, name: string): string {
  const alt = Object.hasOwn(ALTERNATIVES, name) ? ALTERNATIVES[name] : undefined;
  const running = Object.keys(MODULES).filter((m) => !MODULES[m].noop);
  const noops = Object.keys(MODULES).filter((m) => MODULES[m].noop);
  const hint = !alt ? "" : !alt.use ? `: ${alt.why}` : Object.hasOwn(MODULES, alt.use) ? `: use ${alt.use} (${alt.why})` : `: the nearest module would be ${alt.use}, which this version does not provide`;
  return `unknown module "${file}": not provided by mhttpd${hint}. It runs ${running.join(", ")}; it accepts as no-ops (SIP only) ${noops.join(", ")}`;
}

/** shm_mem_size and its aliases (cfg.lex SHM_MEM_SZ): the memory of the htables, in MiB */
export const SHM_GLOBALS = new Set(["shm", "shm_mem", "shm_mem_size"]);

/** Global settings that mean something here. */
export const USED_GLOBALS = new Set(["debug", "max_while_loops", "cfgengine"]);

const SIP_GLOBAL = "it configures SIP listening or processing, which mhttpd does not do (its own sockets are microhttpd's parameters)";

/** Core settings accepted without effect, with why; a value that would change something is refused. */
export const INERT_GLOBALS: Record<string, Inert> = {
  ...inert("log_stderror", "mhttpd always logs to stderr (-E is accepted for the same reason)"),
  ...inert("log_facility log_name log_prefix log_color log_engine_type log_engine_data corelog latency_log latency_cfg_log latency_limit_action", LOG_FORMAT),
  ...inert(
    "children disable_tcp disable_sctp disable_tls enable_tls enable_sctp auto_aliases listen alias port advertised_address advertised_port mhomed socket_workers auto_bind_ipv6 tos pmtu_discovery maxbuffer udp_children tcp_children tcp_connection_lifetime tcp_accept_no_cl tcp_max_connections dns rev_dns use_dns_cache dns_try_ipv6 server_header user_agent_header server_signature sip_warning onsend_route_reply http_reply_parse stun_refresh_interval async_workers",
    SIP_GLOBAL,
  ),
  ...inert("fork", "mhttpd stays in the foreground; workers is its process count"),
  ...inert("memdbg memlog mlock_pages shm_force_alloc debugger", "Kamailio's memory and debugger settings have no counterpart here"),
  ...inert("loadpath mpath", "mhttpd's modules are built in"),
  ...inert("pv_buffer_size pv_buffer_slots", "there is no pseudo-variable buffer limit here"),
  return_mode: onlyWhen(zero, "0 is Kamailio's default, which mhttpd follows", "return_mode other than 0 is not supported: a route's return values follow Kamailio's default rules"),
  user: onlyWhen(() => false, "", "mhttpd does not switch users: start it as that user (systemd User=)"),
  group: onlyWhen(() => false, "", "mhttpd does not switch groups: start it with that group (systemd Group=)"),
  workdir: onlyWhen(() => false, "", "mhttpd does not change its working directory: start it there (systemd WorkingDirectory=)"),
};

/** "modules/xlog.so" -> "xlog" */
export function moduleName(file: string): string {
  return file.replace(/^.*\//, "").replace(/\.so$/, "");
}
