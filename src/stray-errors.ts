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

/** The handler an adapter calls for each stray error. */
export function reportStrayErrors(logger: Logger): (error: unknown, kind: StrayKind) => void {
  return (error, kind) => {
    strayCount++;
    const ctx = runningRequest();
    const from = ctx ? ` from the route of ${ctx.method} ${ctx.url}` : "";
    const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    logger.err(`${kind}${from}, outside the route's call (${strayCount} since start); the server keeps serving: ${detail}`);
  };
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
