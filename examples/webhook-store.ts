// A webhook receiver that keeps what it receives in SQLite (KSR.sqlops), run by
// examples/webhook-store.cfg, which declares the database (modparam sqlops sqlcon)
// and loads this file as its KEMI script:
//   POST /hooks/SOURCE   a JSON body, stored with the time it came: 202 {"id": N}
//   GET  /hooks/SOURCE/latest   the last delivery of SOURCE: 200 {id, received, payload}
// SOURCE is 1 to 32 lowercase letters, digits, dashes or underscores. What the
// request holds reaches the database as bound values only, never as SQL text.
// ksr_purge, run by rtimer (see the .cfg), deletes the deliveries older than the
// retention in $shv(webhook_keep_s).
import type { KsrApi } from "mhttpd";

const SOURCE = /^[a-z0-9_-]{1,32}$/;
let tableReady = false;

function reply(KSR: KsrApi, code: number, reason: string, body: unknown): void {
  KSR.microhttpd.mhttpd_reply(code, reason, "application/json", `${JSON.stringify(body)}\n`);
}

async function ensureTable(KSR: KsrApi): Promise<boolean> {
  if (!tableReady) {
    const code = await KSR.sqlops.sql_query("hooks", "create table if not exists hooks (id integer primary key, source text not null, received integer not null, body text not null)");
    tableReady = code === 0;
  }
  return tableReady;
}

export async function ksr_request(_evname: string, KSR: KsrApi): Promise<void> {
  const m = /^\/hooks\/([^/]*)(\/latest)?$/.exec(String(KSR.pv.get("$mhttpd(url)")));
  if (!m) return reply(KSR, 404, "Not Found", { error: "not found" });
  const [, source, latest] = m;
  if (!SOURCE.test(source)) return reply(KSR, 400, "Bad Request", { error: "a source is 1 to 32 lowercase letters, digits, dashes or underscores" });
  const method = KSR.pv.get("$mhttpd(method)");
  if (method !== (latest ? "GET" : "POST")) {
    KSR.microhttpd.mhttpd_reply_header("Allow", latest ? "GET" : "POST");
    return reply(KSR, 405, "Method Not Allowed", { error: "method not allowed" });
  }
  if (!(await ensureTable(KSR))) return reply(KSR, 503, "Service Unavailable", { error: "storage unavailable" });

  if (latest) {
    const code = await KSR.sqlops.sql_query_bind("hooks", "select id, received, body from hooks where source = ? order by id desc limit 1", [source], "last");
    if (code === 2) return reply(KSR, 404, "Not Found", { error: `nothing from ${source} yet` });
    if (code < 0) return reply(KSR, 503, "Service Unavailable", { error: "storage unavailable" });
    const q = KSR.sqlops;
    return reply(KSR, 200, "OK", { id: q.sql_result_get("last", 0, 0), received: q.sql_result_get("last", 0, 1), payload: JSON.parse(String(q.sql_result_get("last", 0, 2))) });
  }

  const body = String(KSR.pv.get("$mhttpd(data)"));
  try {
    JSON.parse(body);
  } catch {
    return reply(KSR, 400, "Bad Request", { error: "the body is not JSON" });
  }
  const code = await KSR.sqlops.sql_query_bind("hooks", "insert into hooks (source, received, body) values (?, cast(strftime('%s', 'now') as integer), ?) returning id", [source, body], "stored");
  if (code !== 1) return reply(KSR, 503, "Service Unavailable", { error: "storage unavailable" });
  KSR.info(`webhook-store: stored delivery ${KSR.sqlops.sql_result_get("stored", 0, 0)} from ${source}`);
  reply(KSR, 202, "Accepted", { id: KSR.sqlops.sql_result_get("stored", 0, 0) });
}

/** rtimer's timer "purge": the deliveries older than the retention go. */
export async function ksr_purge(_evname: string, KSR: KsrApi): Promise<void> {
  if (!(await ensureTable(KSR))) return;
  const keep = Number(KSR.pv.get("$shv(webhook_keep_s)"));
  const code = await KSR.sqlops.sql_query_bind("hooks", "delete from hooks where received < cast(strftime('%s', 'now') as integer) - ?", [keep]);
  if (code < 0) KSR.err("webhook-store: purge failed");
  else KSR.info(`webhook-store: purged ${KSR.pv.get("$sqlrows(hooks)")} deliveries older than ${keep} s`);
}
