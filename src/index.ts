// The package's public surface: the KSR facade and its types for route authors,
// and the pieces an embedder needs to build a handler without our adapters.
export { KSR, KSR_EXIT, type KsrApi, type ContextStore } from "./ksr.ts";
export { EVENT_NAME, type RouteFunction } from "./route.ts";
export { createApp, type App, type Exchange, type RuntimeBinding, type HandlerOptions } from "./app.ts";
export { resolveParams } from "./config.ts";
export { PARAMS, type Params } from "./params.ts";
export { Logger } from "./log.ts";
export { createFetchHandler, type FetchHandler, type FetchHandlerOptions, type EdgeFetch } from "./edge.ts";
