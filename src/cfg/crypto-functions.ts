// The crypto module's cfg function, on src/modules/crypto.ts (KSR.crypto uses it too).
import type { RequestContext } from "../context.ts";
import { hmacSha256 } from "../modules/crypto.ts";
import type { CfgPv } from "./pvs.ts";
import type { FunctionSpec } from "./function-spec.ts";

type Text = (ctx: RequestContext) => string;

export const CRYPTO_FUNCTIONS: Record<string, FunctionSpec> = {
  crypto_hmac_sha256: {
    module: "crypto",
    doc: 'crypto_hmac_sha256(text, key, "$var(dst)"): HMAC-SHA256 of text keyed by key (both as UTF-8) into dst, base64url without "=" padding (43 characters); 1',
    forms: [["fmt", "fmt", "pvdst"]],
    run(x, args) {
      const ctx = x.ctx;
      (args[2] as CfgPv).set!(ctx, hmacSha256((args[0] as Text)(ctx), (args[1] as Text)(ctx)));
      return 1;
    },
  },
};
