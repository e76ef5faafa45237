// How a KEMI function stores its result in a variable named by a string, as
// Kamailio's ki_* wrappers do with pv_cache_get: an unknown or read-only name is
// an error log and -1 (a .cfg checks the same at start-up).
import type { RequestContext } from "../context.ts";
import type { PvValue } from "../ksr-api.ts";
import { quote, type Logger } from "../log.ts";
import { lookupPv, PvError, type Pv } from "../pv.ts";

const SCRIPT = "<script>";

/** The writable variable `pvn`, or undefined after logging why not. */
export function outputPv(pvn: unknown, fn: string, logger: Logger): Pv | undefined {
  const pv = lookupPv(String(pvn));
  if (pv instanceof PvError) {
    logger.err(`${fn}: ${pv.message}`, SCRIPT);
    return undefined;
  }
  if (!pv.set) {
    logger.err(`${fn}: ${quote(String(pvn))} is read-only`, SCRIPT);
    return undefined;
  }
  return pv;
}

/** A KEMI function's code from an engine's outcome: 1 with the value stored, or -1 (logged when there is a why). */
export function storeOutcome(
  outcome: { ok: true; value: PvValue } | { ok: false; why?: string },
  pv: Pv,
  ctx: RequestContext | undefined,
  fn: string,
  logger: Logger,
): number {
  if (outcome.ok) {
    pv.set!(ctx, outcome.value);
    return 1;
  }
  if (outcome.why) logger.err(`${fn}: ${outcome.why}`, SCRIPT);
  return -1;
}
