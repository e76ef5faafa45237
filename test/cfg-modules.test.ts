// Nothing silently ignored: which modules, parameters, core settings and event
// routes a .cfg may have, as src/cfg/modules.ts declares them. A module runs, or is
// accepted as a SIP-only no-op (one start-up warning names them); a parameter acts,
// is inert for a stated reason, or is an error; a value that would have changed
// something is an error naming the alternative.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileCfg } from "../src/cfg/index.ts";
import { ALTERNATIVES, INERT_GLOBALS, MODULES } from "../src/cfg/modules.ts";

const HEAD = 'loadmodule "xlog.so"\nloadmodule "microhttpd.so"\n';
const ROUTE = "event_route[microhttpd:request] { exit; }\n";
const compile = (text: string) => compileCfg("/x/t.cfg", { text });
const errorOf = (text: string): string => {
  try {
    compile(text);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail(`no start-up error for:\n${text}`);
};

describe("loadmodule", () => {
  it("a module that is not provided is an error naming the nearest one that runs, and every module that runs", () => {
    const msg = errorOf('loadmodule "xhttp.so"\n');
    assert.match(msg, /^\/x\/t\.cfg:1:12: unknown module "xhttp\.so": not provided by mhttpd: use microhttpd \(event_route\[microhttpd:request\] is the HTTP route\)\. It runs /);
    for (const [name, spec] of Object.entries(MODULES)) assert.ok(msg.includes(spec.noop ? ` ${name}` : `${name},`) || msg.includes(`${name};`), `${name} is listed`);
    assert.match(errorOf('loadmodule "/usr/lib/kamailio/modules/app_lua.so"\n'), /unknown module "\/usr\/lib\/kamailio\/modules\/app_lua\.so": not provided by mhttpd: use app_jsdt \(KEMI runs in JavaScript or TypeScript here\)/);
    assert.match(errorOf('loadmodule "auth_db.so"\n'), /not provided by mhttpd: HTTP Basic authentication: see examples\/basic-auth\.cfg\./);
    assert.match(errorOf('loadmodule "nosuch.so"\n'), /unknown module "nosuch\.so": not provided by mhttpd\. It runs microhttpd, xlog, pv/);
    // an alternative is named only as "use" when this build has it
    for (const [name, alt] of Object.entries(ALTERNATIVES)) {
      if (!alt.use) continue;
      const m = errorOf(`loadmodule "${name}.so"\n`);
      assert.match(m, Object.hasOwn(MODULES, alt.use) ? new RegExp(`: use ${alt.use} \\(`) : new RegExp(`the nearest module would be ${alt.use}, which this version does not provide`), name);
    }
  });
  it("SIP-only modules and routes are accepted and named together in one start-up warning", () => {
    const p = compile(`loadmodule "sl.so"\nloadmodule "tm.so"\nloadmodule "tm.so"\n${HEAD}request_route {\n sl_send_reply("404", "x");\n}\nfailure_route[F] { exit; }\nevent_route[tm:local-request] { exit; }\n${ROUTE}`);
    assert.deepEqual(p.warnings, [
      "/x/t.cfg: SIP only, accepted and not run: loadmodule sl, tm; request_route (line 6), failure_route[F] (line 9), event_route[tm:local-request] (line 10) (a call to their functions in the HTTP route stops start-up; docs/cfg.md#modules)",
    ]);
    assert.ok(p.notes.some((n) => /t\.cfg:1:12: module sl is not run: stateless SIP replies/.test(n)));
    assert.deepEqual(compile(HEAD + ROUTE).warnings, [], "no warning for a file without them");
  });
  it("sqlops without a database module is an error naming db_sqlite and db_postgres", () => {
    // sqlops comes from its own branch: the rule is checked with a stand-in where it is absent
    const added = ["sqlops", "db_sqlite"].filter((m) => !Object.hasOwn(MODULES, m));
    for (const m of added) MODULES[m] = { doc: "stand-in", params: {} };
    try {
      assert.match(errorOf(`${HEAD}loadmodule "sqlops.so"\n`), /t\.cfg:3:12: sqlops needs loadmodule "db_sqlite\.so" or loadmodule "db_postgres\.so" \(sqlops runs its queries through a database module\)/);
      assert.doesNotThrow(() => compile(`${HEAD}loadmodule "db_sqlite.so"\nloadmodule "sqlops.so"\n${ROUTE}`));
    } finally {
      for (const m of added) delete MODULES[m];
    }
  });
  it("a function of a SIP-only module in the HTTP route stops start-up", () => {
    assert.match(errorOf(`loadmodule "sl.so"\n${HEAD}event_route[microhttpd:request] {\n sl_send_reply("200", "OK");\n}\n`), /t\.cfg:5:2: unknown function sl_send_reply\(\)/);
  });
});

describe("modparam: acts, inert for a stated reason, or an error", () => {
  it("a SIP-only module's own parameters are inert; anything else is an error", () => {
    const p = compile(`loadmodule "tm.so"\n${HEAD}modparam("tm", "fr_timer", 30000)\nmodparam("tm", "auto_inv_100_reason", "Trying")\n${ROUTE}`);
    assert.ok(p.notes.some((n) => /t\.cfg:4:1: modparam\("tm", "fr_timer"\) has no effect here: tm is not run: SIP transactions/.test(n)));
    assert.match(errorOf(`loadmodule "tm.so"\n${HEAD}modparam("tm", "fr_timerr", 1)\n`), /t\.cfg:4:1: modparam\("tm", "fr_timerr"\): tm is not run here \(SIP transactions\), and "fr_timerr" is not one of its parameters known to change nothing for an HTTP route/);
  });
  it("parameters of running modules that change nothing here: a debug note with the reason", () => {
    const p = compile(
      'loadmodule "xlog.so"\nloadmodule "htable.so"\nloadmodule "crypto.so"\nloadmodule "app_jsdt.so"\nloadmodule "cfgutils.so"\nloadmodule "microhttpd.so"\n' +
        'modparam("xlog", "prefix", "x: ")\nmodparam("htable", "db_url", "")\nmodparam("htable", "enable_dmq", 0)\nmodparam("htable", "key_name_column", "k")\n' +
        'modparam("crypto", "salt", "abc")\nmodparam("app_jsdt", "mode", 0)\nmodparam("cfgutils", "lock_set_size", 4)\n' +
        ROUTE,
    );
    for (const re of [/modparam\("xlog", "prefix"\) has no effect here: mhttpd writes its own log format/, /modparam\("htable", "db_url"\) has no effect here/, /modparam\("crypto", "salt"\) has no effect here: they configure crypto_aes_encrypt/, /modparam\("cfgutils", "lock_set_size"\) has no effect here: lock\(\) and unlock\(\) are not available/]) {
      assert.ok(p.notes.some((n) => re.test(n)), String(re));
    }
  });
  it("a value that would have changed something is an error naming what to do instead", () => {
    const htable = 'loadmodule "xlog.so"\nloadmodule "htable.so"\nloadmodule "microhttpd.so"\n';
    assert.match(errorOf(`${htable}modparam("htable", "db_url", "mysql://k:pw@localhost/kamailio")\n`), /t\.cfg:4:1: modparam\("htable", "db_url"\) "mysql:\/\/k:pw@localhost\/kamailio": htables are not loaded from or saved to a database here: keep the data in SQL with sqlops/);
    assert.match(errorOf(`${htable}modparam("htable", "enable_dmq", 1)\n`), /modparam\("htable", "enable_dmq"\) 1: htables are not replicated between nodes here \(DMQ\): share the data through Redis with ndb_redis/);
    assert.match(errorOf(`${htable}modparam("htable", "event_callback", "ksr_htable_event")\n`), /the htable events \(mod-init, expired\) are not run here/);
    assert.match(errorOf(`loadmodule "app_jsdt.so"\nloadmodule "microhttpd.so"\nmodparam("app_jsdt", "loaddir", "/etc/kamailio/js")\n`), /modparam\("app_jsdt", "loaddir"\) "\/etc\/kamailio\/js": a directory of scripts is not loaded here: name one file with modparam\("app_jsdt", "load", "file\.js"\)/);
    assert.match(errorOf(`${HEAD}modparam("xlog", "nope", 1)\n`), /module xlog has no parameter "nope" \(known: buf_size, force_color/);
  });
});

describe("core settings and event routes", () => {
  it("settings without effect are notes; return_mode other than 0, user, group and workdir are errors", () => {
    const p = compile(`children=8\nlog_stderror=no\nreturn_mode=0\nlisten=udp:127.0.0.1:5060\n${HEAD}${ROUTE}`);
    assert.ok(p.notes.some((n) => /global setting children has no effect here: it configures SIP/.test(n)));
    assert.ok(p.notes.some((n) => /global setting return_mode has no effect here: 0 is Kamailio's default/.test(n)));
    assert.match(errorOf("return_mode=1\n"), /t\.cfg:1:1: global setting return_mode 1: return_mode other than 0 is not supported/);
    assert.match(errorOf('user="kamailio"\n'), /global setting user "kamailio": mhttpd does not switch users: start it as that user \(systemd User=\)/);
    assert.match(errorOf('group="kamailio"\n'), /mhttpd does not switch groups/);
    assert.match(errorOf('workdir="/var/run/kamailio"\n'), /mhttpd does not change its working directory/);
    for (const name of Object.keys(INERT_GLOBALS)) assert.ok(INERT_GLOBALS[name].why || INERT_GLOBALS[name].refuse, name);
  });
  it("an event route Kamailio would have run, other than microhttpd's, is an error; SIP ones are accepted", () => {
    assert.match(errorOf(`${HEAD}event_route[htable:mod-init] {\n $sht(a=>b) = 1;\n}\n`), /t\.cfg:3:1: event_route\[htable:mod-init\] is not run by mhttpd, which runs event_route\[microhttpd:request\] and the route\[\] blocks it calls/);
    assert.match(errorOf(`${HEAD}event_route[core:worker-one-init] { exit; }\n`), /event_route\[core:worker-one-init\] is not run by mhttpd/);
    assert.match(errorOf(`${HEAD}event_route[xhttp:request] { exit; }\n`), /event_route\[xhttp:request\] is not run/);
    const p = compile(`${HEAD}event_route[tm:local-request] { exit; }\nevent_route[core:pre-routing] { exit; }\nevent_route[tcp:closed] { exit; }\n${ROUTE}`);
    assert.equal(p.warnings.length, 1);
  });
});
