// Start-up, the same on every runtime: command line -> route -> parameters ->
// handler -> listeners. An adapter supplies a Platform (how to listen, signals,
// exit) and calls main(); everything decided here is decided once for all runtimes.
import { createApp, type RuntimeBinding } from "./app.ts";
import { parseCommandLine, usage } from "./cli.ts";
import { resolveParams } from "./config.ts";
import { Lifecycle } from "./lifecycle.ts";
import { escapeLogLine, Logger } from "./log.ts";
import type { ListenSocket, Params } from "./params.ts";
import { EXIT_CONFIG, EXIT_FAILURE, loadRoute, setModuleImporter, StartupError } from "./route.ts";
import { reportStrayErrors, type StrayKind } from "./stray-errors.ts";
import { supervise, WORKER_INDEX_ENV, WORKER_SOCKETS_ENV, type WorkerEvents, type WorkerHandle } from "./supervisor.ts";

export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

export interface Listening {
  /** the port actually bound (listen_port 0 picks one) */
  port: number;
  /** stop accepting, close idle keep-alive connections; resolves once every
   * connection of this listener has closed */
  close(): Promise<void>;
  /** close every connection now (shutdown_timeout passed) */
  destroy(): void;
}

export interface Platform {
  binding: RuntimeBinding;
  argv: string[];
  env: Record<string, string | undefined>;
  /** absolute directory that relative route paths are taken from */
  cwd: string;
  /** `tls` is given for an HTTPS socket (socket.tls): the PEMs read by readTls */
  listen(socket: ListenSocket, fetch: FetchHandler, params: Params, tls?: TlsFiles): Promise<Listening>;
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

/** the PEM text of tls_cert and tls_key */
export interface TlsFiles {
  cert: string;
  key: string;
}

export const VERSION = "0.1.0";

export const DEFAULT_ROUTE = new URL("../config/default.cfg", import.meta.url).href;

export function fileUrl(path: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  const base = "file://" + cwd.split("/").map(encodeURIComponent).join("/") + "/";
  return new URL(path.split("/").map(encodeURIComponent).join("/"), base).href;
}

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
      platform.stdout(`mhttpd ${VERSION} (${platform.binding.name})`);
      return platform.exit(0);
    }
    const url = cli.routeFile ? fileUrl(cli.routeFile, platform.cwd) : DEFAULT_ROUTE;
    const route = await loadRoute(url, { defines: cli.defines });
    const params = resolveParams({ cli: cli.values, cliOrigins: cli.origins, env: platform.env, route: route.config, routeLabel: route.label });
    // a worker's log lines say which worker wrote them (their stderr is shared)
    const workerTag = platform.env[WORKER_INDEX_ENV] === undefined ? undefined : `worker ${platform.env[WORKER_INDEX_ENV]}`;
    const logger = new Logger(params.debug, workerTag ? (line) => platform.stderr(line.replace(" ", ` [${workerTag}] `)) : platform.stderr);
    platform.onStrayError(reportStrayErrors(logger));
    const fn = route.callback(params.event_callback);
    // workers > 1: this process supervises; the workers (MHTTPD_WORKER_INDEX set) serve
    const workerIndex = platform.env[WORKER_INDEX_ENV];
    if (cli.foreground.length > 0 && workerIndex === undefined) {
      logger.dbg(`${[...new Set(cli.foreground)].join(" ")} accepted and changes nothing: mhttpd always logs to stderr and stays in the foreground`);
    }
    const workers = params.workers === "auto" ? Math.max(1, platform.cpus?.() ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1) : params.workers;
    // The TLS settings and files are configuration too: checked here, before -c
    // answers and before a supervisor starts workers that would each fail on them.
    // (A worker's sockets are the supervisor's with the ports resolved: the same TLS.)
    const tlsError = tlsProblem(params, listenSockets(params));
    if (tlsError) return fail(tlsError);
    let tls: TlsFiles | undefined;
    if (listenSockets(params).some((s) => s.tls)) {
      if (!platform.readTls) return fail(`TLS is not supported on ${platform.binding.name}`);
      try {
        tls = await platform.readTls(params.tls_cert, params.tls_key);
      } catch (e) {
        return fail((e as Error).message);
      }
    }
    if (cli.check) {
      // Kamailio's words for it (src/main.c), on stderr as there
      platform.stderr("config file ok, exiting...");
      return platform.exit(0);
    }
    if (workerIndex === undefined && workers > 1) {
      if (!platform.spawnWorker || !platform.freePort) return fail(`workers ${workers}: this runtime's adapter cannot start worker processes`);
      await platform.prepareWorkers?.();
      // listen_port 0: the workers must share one port, so it is chosen here
      const sockets: ListenSocket[] = [];
      for (const s of listenSockets(params)) sockets.push(s.port === 0 ? { ...s, port: await platform.freePort(s.hostname) } : s);
      supervise({ ...platform, spawnWorker: platform.spawnWorker }, { workers, sockets, logger });
      return;
    }
    const workerSocketsEnv = workerIndex === undefined ? undefined : platform.env[WORKER_SOCKETS_ENV];
    const workerSockets = workerSocketsEnv ? (JSON.parse(workerSocketsEnv) as ListenSocket[]) : undefined;
    const lifecycle = new Lifecycle();
    const app = createApp({ route: fn, params, logger, binding: platform.binding, lifecycle, accessLog: platform.stdout });
    await app.ready;

    const listeners: Listening[] = [];
    // Signals are handled from before the first listener is up, so a signal
    // that comes while starting still stops cleanly.
    // Graceful stop: no new connections; requests in flight finish and their
    // responses (and any new request on a kept-alive connection) say
    // Connection: close; after shutdown_timeout what is left is closed. A second
    // signal exits at once.
    let stopping = false;
    platform.onSignals((signal) => {
      // as Kamailio's main process does (src/main.c): a hangup neither stops nor reloads
      if (signal === "SIGHUP") return logger.info("SIGHUP received: ignored, as Kamailio does (restart to load a changed route)");
      // a worker stops on its supervisor's SIGTERM; Ctrl-C reaches the whole
      // process group, and the supervisor turns it into that SIGTERM
      if (workerIndex !== undefined && signal === "SIGINT") return;
      if (stopping) {
        logger.warn(`${signal} received again: exiting now`);
        return platform.exit(1);
      }
      stopping = true;
      lifecycle.draining = true;
      logger.info(`${signal} received: stopping (${lifecycle.inflight} requests in flight, up to ${params.shutdown_timeout} s)`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), params.shutdown_timeout * 1000)));
      const drained = Promise.allSettled([...listeners.map((l) => l.close()), lifecycle.idle()]).then(() => false);
      Promise.race([drained, timedOut]).then((late) => {
        clearTimeout(timer);
        if (late) {
          logger.warn(`shutdown_timeout ${params.shutdown_timeout} s passed with ${lifecycle.inflight} requests in flight: closing all connections`);
          for (const l of listeners) l.destroy();
        }
        platform.exit(0);
      });
    });

    const sockets = workerSockets ?? listenSockets(params);
    for (const socket of sockets) {
      if (stopping) break; // a signal came while starting: the exit is under way
      try {
        const l = await platform.listen(socket, app.fetch, params, socket.tls ? tls : undefined);
        listeners.push(l);
        platform.stdout(`mhttpd listening on ${socketUrl(socket, l.port)} (${platform.binding.name})`);
      } catch (e) {
        await Promise.allSettled(listeners.map((l) => l.close()));
        const err = e as Error & { code?: string };
        return fail(`cannot listen on ${socketUrl(socket, socket.port)}: ${err.code === "EADDRINUSE" || /in use/i.test(err.message) ? "address already in use" : err.message}`, EXIT_FAILURE);
      }
    }
  } catch (e) {
    if (e instanceof StartupError) return fail(e.message);
    return fail(`start-up failed: ${(e as Error)?.stack ?? String(e)}`, EXIT_FAILURE);
  }
}
