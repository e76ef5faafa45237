// What a pseudo-variable is once its name is parsed: an accessor, and the error
// for a name that is not one. Its own file so that the modules defining variables
// (src/modules/) and src/pv.ts, which finds them by name, do not import each other.
import type { RequestContext } from "./context.ts";
import type { PvValue } from "./ksr-api.ts";

export interface Pv {
  /** the name as written, for messages */
  readonly spec: string;
  get(ctx: RequestContext | undefined): PvValue;
  /** absent on read-only variables */
  set?(ctx: RequestContext | undefined, value: PvValue): void;
}

export class PvError extends Error {}
