/** Why an ERE cannot run; the message names the construct and where it is. */
export class EreError extends Error {
  override name = "EreError";
}
