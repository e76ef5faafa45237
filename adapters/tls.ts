// Reading tls_cert and tls_key, shared by the adapters (node:fs and node:crypto
// work on Bun, Deno and Node). Every failure is an Error whose message names the
// file, so start-up prints one line: `mhttpd: cannot read tls_cert /x: ...`.
// The key is checked against the certificate with X509Certificate.checkPrivateKey:
// node:tls createSecureContext does not check the pair on Deno.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TlsFiles } from "../src/adapter.ts";

function read(name: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why: Record<string, string> = { ENOENT: "no such file", EACCES: "permission denied", EISDIR: "is a directory" };
    throw new Error(`cannot read ${name} ${path}: ${(err.code && why[err.code]) ?? err.message}`);
  }
}

export function readTls(certPath: string, keyPath: string): TlsFiles {
  const cert = read("tls_cert", certPath);
  const key = read("tls_key", keyPath);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new Error(`tls_cert ${certPath} is not a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new Error(`tls_key ${keyPath} is not a PEM private key (unencrypted)`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new Error(`tls_key ${keyPath} does not match tls_cert ${certPath}`);
  return { cert, key };
}
