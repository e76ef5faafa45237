// Issue 5, TLS, on every runtime: tls_cert/tls_key serve HTTPS on every socket, or
// only on the tls: entries of listen_socket; bad files stop start-up with one line
// naming the file. The certificates are made on the fly with node:crypto (no
// openssl needed); one more case uses an openssl-made RSA certificate when openssl
// is installed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { FIXTURES, RUNTIMES, httpRequest, runToExit, startServer, fields } from "./_harness.ts";
import { selfSigned } from "./fixtures/tls/selfsigned.ts";

const ROUTE = path.join(FIXTURES, "kemi-route.ts");
const dir = mkdtempSync(path.join(os.tmpdir(), "mhttpd-tls-"));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const a = selfSigned();
const b = selfSigned();
const CERT = file("a.crt", a.cert);
const KEY = file("a.key", a.key);
const OTHER_KEY = file("b.key", b.key);
const GARBAGE = file("garbage.pem", "not a pem file\n");
const A_DIR = path.join(dir, "a-directory");
mkdirSync(A_DIR);
const FINGERPRINT = new X509Certificate(a.cert).fingerprint256;

function openssl(): string | undefined {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
  } catch {
    return "openssl is not installed: the openssl-made certificate case is skipped (the node:crypto ones still run)";
  }
  return undefined;
}
const NO_OPENSSL = openssl();


/** GET over HTTPS; the certificate is self-signed, so it is compared by fingerprint instead of verified */
function httpsGet(port: number, target: string, host = "127.0.0.1"): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host, port, path: target, rejectUnauthorized: false, agent: false }, (res) => {
      const fingerprint = (res.socket as import("node:tls").TLSSocket).getPeerCertificate().fingerprint256;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
  });
}

after(() => rmSync(dir, { recursive: true, force: true }));

for (const runtime of RUNTIMES) {
  describe(`TLS on ${runtime}`, () => {
    it("tls_cert and tls_key serve HTTPS on every socket; $mhttpd(scheme) is https", async () => {
      const srv = await startServer(runtime, [ROUTE, "--event-callback", "extras", "--listen-addr", "127.0.0.1", "--listen-port", "0", "--tls-cert", CERT, "--tls-key", KEY]);
      try {
        assert.match(srv.stdout(), new RegExp(`mhttpd listening on https://127\\.0\\.0\\.1:${srv.port} \\(${runtime}\\)`));
        const r = await httpsGet(srv.port, "/x?y=1");
        assert.equal(r.status, 200);
        assert.equal(r.fingerprint, FINGERPRINT, "the configured certificate");
        assert.equal(fields(r.body).scheme, "https (string)");
        assert.equal(fields(r.body).query, "y=1 (string)");
      } finally {
        await srv.stop();
      }
    });

    it("listen_socket with a plain and tls: sockets (IPv4 and [::1]): each answers with its own scheme", async () => {
      const srv = await startServer(
        runtime,
        [ROUTE, "--event-callback", "extras", "--listen-socket", "127.0.0.1:0,tls:127.0.0.1:0,tls:[::1]:0", "--tls-cert", CERT, "--tls-key", KEY],
        { sockets: 3 },
      );
      try {
        const [plain, secure, secure6] = srv.ports;
        assert.match(srv.stdout(), new RegExp(`listening on http://127\\.0\\.0\\.1:${plain} `));
        assert.match(srv.stdout(), new RegExp(`listening on https://127\\.0\\.0\\.1:${secure} `));
        assert.match(srv.stdout(), new RegExp(`listening on https://\\[::1\\]:${secure6} `));
        const p = await httpRequest(plain, "GET", "/x");
        assert.equal(p.responses[0]?.status, 200);
        assert.equal(fields(p.responses[0].body.toString()).scheme, "http (string)");
        for (const [port, host] of [
          [secure, "127.0.0.1"],
          [secure6, "::1"],
        ] as const) {
          const s = await httpsGet(port, "/x", host);
          assert.equal(s.status, 200);
          assert.equal(s.fingerprint, FINGERPRINT);
          assert.equal(fields(s.body).scheme, "https (string)");
          assert.equal(fields(s.body).dstport, `${port} (number)`);
        }
      } finally {
        await srv.stop();
      }
    });

    it("an openssl-made RSA certificate works too", { skip: NO_OPENSSL }, async () => {
      const crt = path.join(dir, `rsa-${runtime}.crt`);
      const key = path.join(dir, `rsa-${runtime}.key`);
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost"], {
        stdio: "ignore",
      });
      const srv = await startServer(runtime, [ROUTE, "--event-callback", "extras", "--listen-socket", "tls:127.0.0.1:0", "--tls-cert", crt, "--tls-key", key]);
      try {
        const r = await httpsGet(srv.port, "/x");
        assert.equal(r.status, 200);
        assert.equal(fields(r.body).scheme, "https (string)");
      } finally {
        await srv.stop();
      }
    });

    it("bad TLS files and settings stop start-up with one line naming the file", async () => {
      const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const missing = path.join(dir, "missing.crt");
      const LOCAL = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];
      const cases: [string[], RegExp][] = [
        [["--tls-cert", missing, "--tls-key", KEY], new RegExp(`^mhttpd: cannot read tls_cert ${esc(missing)}: no such file$`)],
        [["--tls-cert", CERT, "--tls-key", A_DIR], new RegExp(`^mhttpd: cannot read tls_key ${esc(A_DIR)}: `)],
        [["--tls-cert", CERT, "--tls-key", GARBAGE], new RegExp(`^mhttpd: tls_key ${esc(GARBAGE)} is not a PEM private key`)],
        [["--tls-cert", GARBAGE, "--tls-key", KEY], new RegExp(`^mhttpd: tls_cert ${esc(GARBAGE)} is not a PEM certificate$`)],
        [["--tls-cert", CERT, "--tls-key", OTHER_KEY], new RegExp(`^mhttpd: tls_key ${esc(OTHER_KEY)} does not match tls_cert ${esc(CERT)}$`)],
        [["--tls-cert", CERT], /^mhttpd: tls_cert is set but tls_key is not$/],
        [["--tls-key", KEY], /^mhttpd: tls_key is set but tls_cert is not$/],
      ];
      const runs = [
        ...cases.map(([args, re]) => [[ROUTE, ...LOCAL, ...args], re] as const),
        [[ROUTE, "--listen-socket", "127.0.0.1:0,tls:[::1]:8443"], /^mhttpd: listen_socket tls:\[::1\]:8443 needs tls_cert and tls_key$/] as const,
      ];
      const results = await Promise.all(runs.map(([args]) => runToExit(runtime, [...args])));
      results.forEach((r, i) => {
        const [args, re] = runs[i];
        assert.equal(r.code, 78, `exit code (EX_CONFIG) for ${args.join(" ")}: ${r.stderr}`);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
        assert.match(lines[0], re);
        assert.doesNotMatch(r.stdout, /listening/);
      });
    });
  });
}

describe("TLS fixtures", () => {
  it("the node:crypto certificate is self-signed and matches its key", () => {
    const x = new X509Certificate(a.cert);
    assert.ok(x.checkPrivateKey(a.privateKey));
    assert.ok(x.verify(x.publicKey));
    assert.ok(!x.checkPrivateKey(b.privateKey));
  });
});
