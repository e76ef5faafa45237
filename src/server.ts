// Start-up, the same on every runtime: command line -> route -> parameters ->
// handler -> listeners. An adapter supplies a Platform (how to listen, signals,
// exit) and calls main(); everything decided here is decided once for all runtimes.
import { createApp, type RuntimeBinding } from "./app.ts";
import { parseCommandLine, usage } from "./cli.ts";
import { resolveParams } from "./config.ts";
import { Lifecycle } from "./lifecycle.ts";
import { Logger } from "./log.ts";
import type { ListenSocket, Params } from "./params.ts";
import { loadRoute, StartupError } from "./route.ts";

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
  listen(socket: ListenSocket, fetch: FetchHandler, params: Params): Promise<Listening>;
  onSignals(handler: (signal: string) => void): void;
  exit(code: number): never;
  stdout(line: string): void;
  stderr(line: string): void;
}

export const VERSION = "0.1.0";
export const DEFAULT_ROUTE = new URL("../config/default.cfg", import.meta.url).href;

export function fileUrl(path: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  const base = "file://" + cwd.split("/").map(encodeURIComponent).join("/") + "/";
  return new URL(path.split("/").map(encodeURIComponent).join("/"), base).href;
}

export function socketUrl(s: ListenSocket, port: number): string {
  return `http://${s.hostname.includes(":") ? `[${s.hostname}]` : s.hostname}:${port}`;
}

/** Where to listen: listen_socket when set, else listen_addr:listen_port
 * (an empty listen_addr is 0.0.0.0 on every runtime, as in the C module). */
export function listenSockets(params: Params): ListenSocket[] {
  if (params.listen_socket.length > 0) return params.listen_socket;
  return [{ hostname: params.listen_addr || "0.0.0.0", port: params.listen_port }];
}

export async function main(platform: Platform): Promise<void> {
  const fail = (msg: string): never => {
    platform.stderr(`mhttpd: ${msg}`);
    return platform.exit(1);
  };
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
    const route = await loadRoute(url);
    const params = resolveParams({ cli: cli.values, env: platform.env, route: route.config, routeLabel: route.label });
    const logger = new Logger(params.debug, platform.stderr);
    const fn = route.callback(params.event_callback);
    const lifecycle = new Lifecycle();
    const app = createApp({ route: fn, params, logger, binding: platform.binding, lifecycle, accessLog: platform.stdout });

    const listeners: Listening[] = [];
    // Signals are handled from before the first listener is up, so a signal
    // that comes while starting still stops cleanly.
    // Graceful stop: no new connections; requests in flight finish and their
    // responses (and any new request on a kept-alive connection) say
    // Connection: close; after shutdown_timeout what is left is closed. A second
    // signal exits at once.
    let stopping = false;
    platform.onSignals((signal) => {
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

    for (const socket of listenSockets(params)) {
      if (stopping) break; // a signal came while starting: the exit is under way
      try {
        const l = await platform.listen(socket, app.fetch, params);
        listeners.push(l);
        platform.stdout(`mhttpd listening on ${socketUrl(socket, l.port)} (${platform.binding.name})`);
      } catch (e) {
        await Promise.allSettled(listeners.map((l) => l.close()));
        const err = e as Error & { code?: string };
        return fail(`cannot listen on ${socketUrl(socket, socket.port)}: ${err.code === "EADDRINUSE" || /in use/i.test(err.message) ? "address already in use" : err.message}`);
      }
    }
  } catch (e) {
    if (e instanceof StartupError) return fail(e.message);
    return fail(`start-up failed: ${(e as Error)?.stack ?? String(e)}`);
  }
}
