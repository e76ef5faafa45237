// What the pipeline's steps, and an adapter whose runtime refuses requests
// itself, tell the metrics: its own file, so that the adapter interface and the
// steps name it without importing the collector.
import type { RefusalReason } from "./snapshot.ts";

export interface PipelineEvents {
  refused(reason: RefusalReason): void;
  /** the route threw or rejected (KSR.x.exit() is no error) */
  routeFailed(): void;
  routeTimedOut(): void;
}
