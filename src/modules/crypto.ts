// Kamailio's crypto module, the part an HTTP route uses: crypto_hmac_sha256
// (text, key, dst), whose result is the HMAC-SHA256 digest in base64url without
// padding, as crypto_mod.c's ksr_crypto_hmac_sha256_compute gives it. One
// implementation for the cfg function and KEMI's KSR.crypto.hmac_sha256.
// node:crypto's createHmac is synchronous (a cfg function is) and present on
// Bun, Deno, Node and workerd (nodejs_compat); it is reached on first use, as
// src/cfg/host.ts does, so Deno does not load its Node layer for routes without it.
import type { RequestContext } from "../context.ts";
import type { KsrCryptoApi } from "../ksr-api.ts";
import type { Logger } from "../log.ts";
import { builtin } from "../cfg/host.ts";
import { outputPv, storeOutcome } from "./kemi-output.ts";

/** HMAC-SHA256 of the text's UTF-8 bytes keyed by the key's UTF-8 bytes, base64url without "=". */
export function hmacSha256(text: string, key: string): string {
  return builtin("crypto").createHmac("sha256", key).update(text).digest("base64url");
}

/** KSR.crypto: the KEMI export of crypto_hmac_sha256. */
export class KsrCrypto implements KsrCryptoApi {
  constructor(
    private readonly ctx: RequestContext | undefined,
    private readonly logger: Logger,
  ) {}

  /** crypto_hmac_sha256(text, key, dst): 1 with the base64url digest stored in the
   * variable named dst; -1 and an error log for a name that cannot be set. */
  hmac_sha256(text: string, key: string, dst: string): number {
    const pv = outputPv(dst, "crypto.hmac_sha256", this.logger);
    if (!pv) return -1;
    return storeOutcome({ ok: true, value: hmacSha256(String(text), String(key)) }, pv, this.ctx, "crypto.hmac_sha256", this.logger);
  }
}
