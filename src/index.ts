// The package's public surface: the KSR facade and its types for route authors,
// and the pieces an embedder needs to build a handler without our adapters.
export { KSR_EXIT, EVENT_NAME, type KsrApi, type KsrPvApi, type KsrMicrohttpdApi, type KsrXApi, type KsrCfgutilsApi, type KsrHttpClientApi, type PvValue } from "./ksr-api.ts";
export type { TimerDeclaration } from "./modules/rtimer.ts";
export { KSR, type ContextStore } from "./ksr-global.ts";
export { kemiRoute, type Route, type RouteFunction } from "./route.ts";
export { createHandler, type Handler, type HandlerOptions } from "./handler.ts";
export { webDefaults, type RequestAdapter, type ServerAdapter, type RuntimeLimits, type Listening, type SocketAddress, type TlsFiles } from "./adapter.ts";
export type { BodyReader } from "./pipeline/body.ts";
export type { OutgoingReply, Reply } from "./reply.ts";
export { resolveParams } from "./config.ts";
export { PARAMS, type Params } from "./params.ts";
export { Logger } from "./log.ts";
export { createFetchHandler, type FetchHandler, type FetchHandlerOptions, type EdgeFetch } from "./edge.ts";
