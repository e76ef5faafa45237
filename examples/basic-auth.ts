// HTTP basic authentication: / is public, /private needs the user alice with the
// password "wonderland", as examples/basic-auth.cfg does. The password is kept as
// its SHA-256, as a service keeps a digest rather than the password itself (a real
// one would keep a salted, slow password hash, and serve over TLS).
//   npx mhttpd examples/basic-auth.ts
//   curl -u alice:wonderland http://127.0.0.1:8280/private   -> hello alice
import type { KsrApi } from "mhttpd";

const USERS: Record<string, string> = {
  alice: "a71a7c7011f53a1bab3642ec2ce12593f05230ace8de1e3e7645f69efac1443d",
};

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** "user:pass" from an Authorization header, or undefined when it is not basic auth */
function credentials(header: unknown): string | undefined {
  const m = /^basic ([a-z0-9+/]+={0,2})$/i.exec(String(header ?? ""));
  if (!m) return undefined;
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)));
  } catch {
    return undefined; // not base64 after all
  }
}

function challenge(KSR: KsrApi): void {
  KSR.microhttpd.mhttpd_reply_header("WWW-Authenticate", 'Basic realm="mhttpd example", charset="UTF-8"');
  KSR.microhttpd.mhttpd_reply(401, "Unauthorized", "text/plain", "authentication required\n");
}

export default async function basicAuth(_evname: string, KSR: KsrApi): Promise<void> {
  const url = KSR.pv.get("$mhttpd(url)");
  if (url === "/") return void KSR.microhttpd.mhttpd_reply(200, "OK", "text/plain", "public\n");
  if (url !== "/private") return void KSR.microhttpd.mhttpd_reply(404, "Not Found", "text/plain", "no such page\n");
  const given = credentials(KSR.pv.get("$mhttpd(h:Authorization)"));
  if (given === undefined) return challenge(KSR);
  // the password may hold colons: the user name ends at the first
  const colon = given.indexOf(":");
  const user = colon < 0 ? given : given.slice(0, colon);
  const password = colon < 0 ? "" : given.slice(colon + 1);
  if (Object.hasOwn(USERS, user) && (await sha256(password)) === USERS[user]) {
    return void KSR.microhttpd.mhttpd_reply(200, "OK", "text/plain", `hello ${user}\n`);
  }
  KSR.warn(`basic-auth: refused credentials from ${KSR.pv.get("$mhttpd(srcip)")}\n`);
  challenge(KSR);
}
