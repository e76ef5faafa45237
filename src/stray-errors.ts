// Errors that escape a route outside its call: a promise it left rejected with
// nobody awaiting it, an exception thrown in a timer or callback it set up. Each
// runtime's default is to end the process, which takes every other request and
// connection down with one careless line of a route. The adapters route those
// events here instead: the error is logged (with the request it came from where
// the async context tells), counted, and the server keeps serving.
import { runningRequest } from "./ksr-global.ts";
import type { Logger } from "./log.ts";

export type StrayKind = "unhandled rejection" | "uncaught exception";

/** How many stray errors this process has had (the log line says it too). */
let strayCount = 0;
export const strayErrors = (): number => strayCount;

/** At most this many stray errors are logged per second; the rest are counted and
 * said in one line. A route that leaks a rejection per request must not turn the
 * log into a flood, and an error raised by logging itself (a broken stderr pipe)
 * must not feed itself through this handler for ever. */
const LOGGED_PER_SECOND = 20;

/** The handler an adapter calls for each stray error. */
export function reportStrayErrors(logger: Logger): (error: unknown, kind: StrayKind) => void {
  let second = 0;
  let loggedThisSecond = 0;
  let suppressed = 0;
  let reporting = false;
  return (error, kind) => {
    strayCount++;
    if (reporting) return; // raised while this handler was logging: the log is what fails
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      loggedThisSecond = 0;
    }
    if (++loggedThisSecond > LOGGED_PER_SECOND) {
      suppressed++;
      return;
    }
    reporting = true;
    try {
      if (suppressed > 0) {
        logger.err(`${suppressed} more stray errors were not logged (at most ${LOGGED_PER_SECOND} a second)`);
        suppressed = 0;
      }
      const ctx = runningRequest();
      const from = ctx ? ` from the route of ${ctx.method} ${ctx.url}` : "";
      const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
      logger.err(`${kind}${from}, outside the route's call (${strayCount} since start); the server keeps serving: ${detail}`);
    } catch {
      // the log itself cannot be written: nothing more to do
    } finally {
      reporting = false;
    }
  };
}

/** An error event of the process's own stdout or stderr (EPIPE: the reader is
 * gone). Not a route's error: the server keeps serving, its output is lost. */
export function isBrokenOutput(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || code === "EBADF";
}

type ErrorEvents = {
  addEventListener(type: "unhandledrejection", fn: (event: { reason: unknown; preventDefault(): void }) => void): void;
  addEventListener(type: "error", fn: (event: { error: unknown; preventDefault(): void }) => void): void;
};

/** Where the platform reports stray errors as web events on the global scope
 * (Deno, workerd): handled here, their default (ending the process, in Deno)
 * prevented. Returns false where there are no such events (Node 20). */
export function onGlobalErrorEvents(handler: (error: unknown, kind: StrayKind) => void): boolean {
  const scope = globalThis as unknown as Partial<ErrorEvents>;
  if (typeof scope.addEventListener !== "function") return false;
  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    handler(event.reason, "unhandled rejection");
  });
  scope.addEventListener("error", (event) => {
    event.preventDefault();
    handler(event.error, "uncaught exception");
  });
  return true;
}
