// Start-up, the same on every runtime: command line -> route -> parameters ->
// handler -> listeners, and the graceful stop. An adapter supplies a Platform (its
// ServerAdapter, and the process: arguments, signals, exit, workers) and calls
// main(); everything decided here is decided once for all runtimes.
import type { FetchHandler, ServerAdapter, Listening, RuntimeEvents, TlsFiles } from "./adapter.ts";
import { parseCommandLine, usage, type CommandLine } from "./cli.ts";
import { prepareParams, resolveParams } from "./config.ts";
import { EXIT_CONFIG, EXIT_FAILURE, StartupError, StartupFailure } from "./errors.ts";
import { createHandler, type HandlerMetrics } from "./handler.ts";
import { Lifecycle } from "./lifecycle.ts";
import { fileUrl, loadRoute } from "./load-route.ts";
import { escapeLogLine, Logger } from "./log.ts";
import type { ListenSocket, Params } from "./params.ts";
import { setModuleImporter, type LoadedRoute, type Route, type RouteMiddleware } from "./route.ts";
import type { RouteTimer, TimerScheduler } from "./modules/rtimer.ts";
import { setKsrEnvironment } from "./ksr-global.ts";
import { reportStrayErrors, type StrayKind } from "./stray-errors.ts";
import type { SqliteBinding } from "./modules/sql-drivers.ts";
import { VERSION } from "./version.ts";
import { MetricsCollector } from "./metrics/collector.ts";
import { workerFigures, type SupervisorChannel } from "./metrics/cluster.ts";
import { renderExposition } from "./metrics/exposition.ts";
import type { MemoryFigures } from "./metrics/snapshot.ts";
import { supervise, WORKER_INDEX_ENV, WORKER_SOCKETS_ENV, type WorkerEvents, type WorkerHandle } from "./supervisor.ts";

export interface Platform {
  /** the runtime's server: listen, and what the pipeline asks per request */
  adapter: ServerAdapter;
  argv: string[];
  env: Record<string, string | undefined>;
  /** absolute directory that relative route paths are taken from */
  cwd: string;
  /** read tls_cert and tls_key and check that they belong together; throws an
   * Error whose message names the file. Absent: the runtime cannot serve HTTPS. */
  readTls?(certPath: string, keyPath: string): TlsFiles | Promise<TlsFiles>;
  /** workers > 1: start worker `index` (this program, same arguments, `env` added).
   * A worker has MHTTPD_WORKER_INDEX set and listens with reusePort (Bun, Deno). */
  spawnWorker?(index: number, env: Record<string, string>, events: WorkerEvents): WorkerHandle;
  /** a port free on `hostname` now (listen_port 0 with workers > 1) */
  freePort?(hostname: string): Promise<number>;
  /** workers > 1: load what spawnWorker needs, before it is called (Deno loads
   * its node: modules only then: they are ≈ 6 MiB of RSS) */
  prepareWorkers?(): Promise<void>;
  /** how many CPUs (workers auto) */
  cpus?(): number;
  /** this process's memory, for the metrics */
  memory?(): MemoryFigures;
  /** a worker's IPC channel to its supervisor (started with one when metrics are
   * on), for the metrics of the whole server */
  supervisorChannel?(): Promise<SupervisorChannel | undefined>;
  /** the runtime's SQLite, for db_sqlite (loaded on the first sqlite:// connection) */
  sqlite?(): Promise<SqliteBinding>;
  /** how route files and KEMI scripts are imported, where the runtime needs a step
   * first (Node: TypeScript support); without it, import() */
  importModule?(url: string): Promise<unknown>;
  /** call `handler` with "SIGINT", "SIGTERM" or "SIGHUP" when one arrives */
  onSignals(handler: (signal: string) => void): void;
  /** errors no code catches (a route's unawaited rejection, a throw in its timer):
   * the runtime's default ends the process; the handler logs them instead */
  onStrayError(handler: (error: unknown, kind: StrayKind) => void): void;
  exit(code: number): never;
  stdout(line: string): void;
  /** writes the line as it is: whatever may hold outside text goes through the
   * Logger or escapeLogLine first (one event, one line) */
  stderr(line: string): void;
}

export { VERSION };

export const DEFAULT_ROUTE = new URL("../config/default.cfg", import.meta.url).href;

export function socketUrl(s: ListenSocket, port: number): string {
  return `${s.tls ? "https" : "http"}://${s.hostname.includes(":") ? `[${s.hostname}]` : s.hostname}:${port}`;
}

/** Where to listen: listen_socket when set, else listen_addr:listen_port
 * (an empty listen_addr is 0.0.0.0 on every runtime, as in the C module).
 * With tls_cert set, every socket is HTTPS unless some listen_socket entries have
 * the tls: prefix: then only those are. */
export function listenSockets(params: Params): ListenSocket[] {
  const sockets = params.listen_socket.length > 0 ? params.listen_socket : [{ hostname: params.listen_addr || "0.0.0.0", port: params.listen_port }];
  if (params.tls_cert === "" || sockets.some((s) => s.tls)) return sockets;
  return sockets.map((s) => ({ ...s, tls: true }));
}

/** The TLS parameters that go together; a message when they do not. */
export function tlsProblem(params: Params, sockets: ListenSocket[]): string | undefined {
  if (params.tls_cert !== "" && params.tls_key === "") return "tls_cert is set but tls_key is not";
  if (params.tls_key !== "" && params.tls_cert === "") return "tls_key is set but tls_cert is not";
  const first = sockets.find((s) => s.tls);
  if (first && params.tls_cert === "") return `listen_socket tls:${socketUrl(first, first.port).slice(8)} needs tls_cert and tls_key`;
  return undefined;
}

/** What start-up has settled before serving: the route, its parameters, the logger. */
interface Configured {
  cli: CommandLine;
  route: Route;
  params: Params;
  logger: Logger;
  tls: TlsFiles | undefined;
  /** MHTTPD_WORKER_INDEX: this process is a worker of a supervisor */
  workerIndex: string | undefined;
  /** rtimer's timers of the route */
  timers: RouteTimer[];
  /** the route module's Hono middleware, run before the handler */
  middleware: RouteMiddleware[];
  startModules: LoadedRoute["startModules"];
}

export async function main(platform: Platform): Promise<void> {
  const fail = (msg: string, code = EXIT_CONFIG): never => {
    // a start-up error can quote a file's or a variable's bytes
    platform.stderr(escapeLogLine(`mhttpd: ${msg}`));
    return platform.exit(code);
  };
  if (platform.importModule) setModuleImporter(platform.importModule);
  try {
    const cli = parseCommandLine(platform.argv);
    if (cli.help) {
      platform.stdout(usage());
      return platform.exit(0);
    }
    if (cli.version) {
      platform.stdout(`mhttpd ${VERSION} (${platform.adapter.name})`);
      return platform.exit(0);
    }
    const setup = await configure(platform, cli);
    if (cli.check) {
      // Kamailio's words for it (src/main.c), on stderr as there
      platform.stderr("config file ok, exiting...");
      return platform.exit(0);
    }
    const workers = workerCount(platform, setup.params);
    if (setup.workerIndex === undefined && workers > 1) return await superviseWorkers(platform, setup, workers);
    await serve(platform, setup);
  } catch (e) {
    if (e instanceof StartupError) return fail(e.message);
    if (e instanceof ListenError || e instanceof StartupFailure) return fail(e.message, EXIT_FAILURE);
    return fail(`start-up failed: ${(e as Error)?.stack ?? String(e)}`, EXIT_FAILURE);
  }
}

/** The route, the parameters, the logger and the TLS files: everything that a
 * configuration error can stop (-c stops right after). */
async function configure(platform: Platform, cli: CommandLine): Promise<Configured> {
  const url = cli.routeFile ? fileUrl(cli.routeFile, platform.cwd) : DEFAULT_ROUTE;
  const loaded = await loadRoute(url, { defines: cli.defines, sqlite: platform.sqlite && (() => platform.sqlite!()) });
  const sources = { cli: cli.values, cliOrigins: cli.origins, env: platform.env, route: loaded.config, routeLabel: loaded.label };
  await prepareParams(sources);
  const params = resolveParams(sources);
  // a worker's log lines say which worker wrote them (their stderr is shared)
  const workerIndex = platform.env[WORKER_INDEX_ENV];
  const workerTag = workerIndex === undefined ? undefined : `worker ${workerIndex}`;
  const logger = new Logger(params.debug, workerTag ? (line) => platform.stderr(line.replace(" ", ` [${workerTag}] `)) : platform.stderr);
  platform.onStrayError(reportStrayErrors(logger));
  const route = loaded.callback(params.event_callback);
  if (workerIndex === undefined) for (const w of loaded.warnings ?? []) logger.warn(w);
  if (cli.foreground.length > 0 && workerIndex === undefined) {
    logger.dbg(`${[...new Set(cli.foreground)].join(" ")} accepted and changes nothing: mhttpd always logs to stderr and stays in the foreground`);
  }
  return { cli, route, params, logger, tls: await readTlsFiles(platform, params), workerIndex, timers: loaded.timers, middleware: loaded.middleware ?? [], startModules: loaded.startModules };
}

/** The TLS settings and files are configuration too: checked before -c answers and
 * before a supervisor starts workers that would each fail on them. (A worker's
 * sockets are the supervisor's with the ports resolved: the same TLS.) */
async function readTlsFiles(platform: Platform, params: Params): Promise<TlsFiles | undefined> {
  const sockets = listenSockets(params);
  const problem = tlsProblem(params, sockets) ?? platform.adapter.cannotHonour?.(params, sockets.some((s) => s.tls));
  if (problem) throw new StartupError(problem);
  if (!sockets.some((s) => s.tls)) return undefined;
  if (!platform.readTls) throw new StartupError(`TLS is not supported on ${platform.adapter.name}`);
  try {
    return await platform.readTls(params.tls_cert, params.tls_key);
  } catch (e) {
    throw new StartupError((e as Error).message);
  }
}

function workerCount(platform: Platform, params: Params): number {
  if (params.workers !== "auto") return params.workers;
  return Math.max(1, platform.cpus?.() ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
}

/** workers > 1: this process supervises; the workers (MHTTPD_WORKER_INDEX set) serve. */
async function superviseWorkers(platform: Platform, setup: Configured, workers: number): Promise<void> {
  if (!platform.spawnWorker || !platform.freePort) throw new StartupError(`workers ${workers}: this runtime's adapter cannot start worker processes`);
  await platform.prepareWorkers?.();
  // listen_port 0: the workers must share one port, so it is chosen here
  const sockets: ListenSocket[] = [];
  for (const s of listenSockets(setup.params)) sockets.push(s.port === 0 ? { ...s, port: await platform.freePort(s.hostname) } : s);
  const metrics = setup.params.metrics === "off" ? undefined : { memory: platform.memory };
  supervise({ ...platform, spawnWorker: platform.spawnWorker }, { workers, sockets, logger: setup.logger, metrics });
}

/** A socket that could not be bound: not the configuration's fault (exit 1). */
class ListenError extends Error {}

/** The handler, the signals, then one listener per socket. */
async function serve(platform: Platform, setup: Configured): Promise<void> {
  const { params, logger } = setup;
  await setup.startModules?.(logger);
  const lifecycle = new Lifecycle();
  // a route module's middleware are composed with Hono once, here, around the
  // same handler; without them the runtime calls the handler itself
  const wrapped = setup.middleware.length > 0;
  const adapter = wrapped ? (platform.adapter.forMiddleware?.() ?? platform.adapter) : platform.adapter;
  const metrics = params.metrics === "off" ? undefined : await processMetrics(platform, lifecycle, setup);
  const handler = createHandler({ route: setup.route, params, logger, adapter, lifecycle, accessLog: platform.stdout, metrics });
  await handler.ready;
  const fetch = wrapped ? await (await import("./middleware.ts")).composeAround(setup.middleware, handler.fetch, logger) : handler.fetch;
  const listeners: Listening[] = [];
  // an async KEMI timer function sees its own KSR as the global one across its awaits
  if (setup.timers.some((t) => t.routes.some((r) => r.awaits))) await loadAsyncStore(platform, logger);
  // with workers, each timer runs in one of them (src/modules/rtimer.ts, loaded for a route with timers)
  const timers =
    setup.timers.length === 0
      ? undefined
      : new (await import("./modules/rtimer.ts")).TimerScheduler(setup.timers, logger, Number(setup.workerIndex ?? 0), setup.workerIndex === undefined ? 1 : workerCount(platform, params));
  // Signals are handled from before the first listener is up, so a signal that
  // comes while starting still stops cleanly.
  const stop = gracefulStop(platform, { listeners, lifecycle, params, logger, isWorker: setup.workerIndex !== undefined, timers });
  const workerSocketsEnv = setup.workerIndex === undefined ? undefined : platform.env[WORKER_SOCKETS_ENV];
  const sockets = workerSocketsEnv ? (JSON.parse(workerSocketsEnv) as ListenSocket[]) : listenSockets(params);
  for (const socket of sockets) {
    if (stop.stopping) break; // a signal came while starting: the exit is under way
    listeners.push(await listenOn(platform, socket, fetch, params, setup.tls, listeners, metrics?.collector));
  }
  if (!stop.stopping) timers?.start();
}

/** The adapter's async context store for the global KSR, as an async route's first request loads it. */
async function loadAsyncStore(platform: Platform, logger: Logger): Promise<void> {
  try {
    const store = await platform.adapter.asyncContext();
    if (store) setKsrEnvironment(store, logger);
  } catch (e) {
    logger.err(`the async context store could not be loaded; the global KSR stays synchronous in timers: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** metrics on: this process's collector; a worker's scrape gets the whole
 * server's figures from its supervisor (src/metrics/cluster.ts) */
async function processMetrics(platform: Platform, lifecycle: Lifecycle, setup: Configured): Promise<HandlerMetrics> {
  const collector = new MetricsCollector({ inflight: () => lifecycle.inflight, memory: platform.memory });
  const info = { version: VERSION, runtime: platform.adapter.name };
  const channel = setup.workerIndex === undefined ? undefined : await platform.supervisorChannel?.();
  if (setup.workerIndex !== undefined && !channel) setup.logger.warn("metrics: no channel to the supervisor: a scrape gets this worker's figures only");
  if (!channel) return { collector, exposition: () => renderExposition(collector.snapshot(), info) };
  const figures = workerFigures(channel, () => collector.snapshot());
  return { collector, exposition: async () => renderExposition(await figures(), info) };
}

async function listenOn(
  platform: Platform,
  socket: ListenSocket,
  fetch: FetchHandler,
  params: Params,
  tls: TlsFiles | undefined,
  others: Listening[],
  events: RuntimeEvents | undefined,
): Promise<Listening> {
  try {
    const l = await platform.adapter.listen(socket, fetch, params, socket.tls ? tls : undefined, events);
    platform.stdout(`mhttpd listening on ${socketUrl(socket, l.port)} (${platform.adapter.name})`);
    return l;
  } catch (e) {
    await Promise.allSettled(others.map((l) => l.close()));
    const err = e as Error & { code?: string };
    throw new ListenError(`cannot listen on ${socketUrl(socket, socket.port)}: ${err.code === "EADDRINUSE" || /in use/i.test(err.message) ? "address already in use" : err.message}`);
  }
}

/** Graceful stop on SIGTERM/SIGINT: no new connections; requests in flight finish
 * and their responses (and any new request on a kept-alive connection) say
 * Connection: close; rtimer's timers start no new run; after shutdown_timeout what
 * is left is closed. A second signal exits at once. SIGHUP is ignored, as
 * Kamailio's main process does. */
function gracefulStop(platform: Platform, s: { listeners: Listening[]; lifecycle: Lifecycle; params: Params; logger: Logger; isWorker: boolean; timers: TimerScheduler | undefined }) {
  const { listeners, lifecycle, params, logger } = s;
  const state = { stopping: false };
  platform.onSignals((signal) => {
    if (signal === "SIGHUP") return logger.info("SIGHUP received: ignored, as Kamailio does (restart to load a changed route)");
    // a worker stops on its supervisor's SIGTERM; Ctrl-C reaches the whole
    // process group, and the supervisor turns it into that SIGTERM
    if (s.isWorker && signal === "SIGINT") return;
    if (state.stopping) {
      logger.warn(`${signal} received again: exiting now`);
      return platform.exit(1);
    }
    state.stopping = true;
    lifecycle.draining = true;
    logger.info(`${signal} received: stopping (${lifecycle.inflight} requests in flight, up to ${params.shutdown_timeout} s)`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), params.shutdown_timeout * 1000)));
    // timers start no new run, and a run in progress ends at its next wait
    const drained = Promise.allSettled([...listeners.map((l) => l.close()), lifecycle.idle(), s.timers?.stop()]).then(() => false);
    void Promise.race([drained, timedOut]).then((late) => {
      clearTimeout(timer);
      if (late) {
        logger.warn(`shutdown_timeout ${params.shutdown_timeout} s passed with ${lifecycle.inflight} requests in flight: closing all connections`);
        for (const l of listeners) l.destroy();
      }
      platform.exit(0);
    });
  });
  return state;
}
