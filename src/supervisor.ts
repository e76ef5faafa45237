// workers > 1: this process supervises N worker processes that serve the same
// listen sockets (Bun and Deno: each worker binds with reusePort; Node: node:cluster
// shares the primary's socket). The supervisor itself serves nothing. It prints the
// listening lines once every worker listens, restarts a worker that dies (with
// back-off, logged) while the others keep serving, and on SIGTERM/SIGINT has every
// worker drain as a single process does, then exits. How a worker process is
// started is the adapter's (Platform.spawnWorker); the rest is the same everywhere.
import type { Logger } from "./log.ts";
import type { ListenSocket } from "./params.ts";
import { EXIT_CONFIG, EXIT_FAILURE } from "./errors.ts";
import { ClusterMetrics } from "./metrics/cluster.ts";
import type { MemoryFigures } from "./metrics/snapshot.ts";

/** set in a worker's environment: its index (0-based) */
export const WORKER_INDEX_ENV = "MHTTPD_WORKER_INDEX";
/** set in a worker's environment: the sockets to listen on, ports resolved (JSON) */
export const WORKER_SOCKETS_ENV = "MHTTPD_WORKER_SOCKETS";

export interface WorkerHandle {
  pid: number | undefined;
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** a message over the worker's IPC channel (there is one when events.message is set) */
  send?(message: unknown): void;
}

export interface WorkerEvents {
  /** one line the worker wrote to stdout */
  stdout(line: string): void;
  exit(code: number | null, signal: string | null): void;
  /** set when the supervisor talks with its workers (metrics): the worker is
   * started with an IPC channel, and this gets what it sends on it */
  message?(message: unknown): void;
}

export interface SupervisorPlatform {
  spawnWorker(index: number, env: Record<string, string>, events: WorkerEvents): WorkerHandle;
  onSignals(handler: (signal: string) => void): void;
  exit(code: number): never;
  stdout(line: string): void;
}

interface Slot {
  index: number;
  handle?: WorkerHandle;
  startedAt: number;
  /** listening lines seen from the current process */
  listening: string[];
  ready: boolean;
  /** deaths in a row without a long enough run between them */
  failures: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** a worker that served this long before dying is restarted at once */
const STABLE_MS = 30_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 30_000;
const LISTENING = /^mhttpd listening on /;

export function supervise(
  platform: SupervisorPlatform,
  opts: {
    workers: number;
    sockets: ListenSocket[];
    logger: Logger;
    /** metrics on: the workers get an IPC channel, and a scrape's figures are summed here */
    metrics?: { memory?: () => MemoryFigures | undefined };
  },
): void {
  const { workers, sockets, logger } = opts;
  const socketsEnv = JSON.stringify(sockets);
  const slots: Slot[] = Array.from({ length: workers }, (_, index) => ({ index, startedAt: 0, listening: [], ready: false, failures: 0 }));
  let started = false; // every worker has listened once: the start-up is over
  let stopping = false;
  let exitCode = 0; // a worker's start-up failure: EXIT_CONFIG when that was its status, else EXIT_FAILURE

  const live = () => slots.filter((s) => s.handle !== undefined);
  const metrics =
    opts.metrics &&
    new ClusterMetrics(
      {
        live: () => live().map((s) => s.index),
        send: (slot, message) => slots[slot].handle?.send?.(message),
      },
      opts.metrics.memory,
    );
  const finishIfDone = () => {
    if (stopping && live().length === 0) platform.exit(exitCode);
  };

  const start = (slot: Slot) => {
    slot.timer = undefined;
    slot.listening = [];
    slot.ready = false;
    slot.startedAt = Date.now();
    const handle = platform.spawnWorker(slot.index, { [WORKER_INDEX_ENV]: String(slot.index), [WORKER_SOCKETS_ENV]: socketsEnv }, {
      ...(metrics && { message: (m: unknown) => slot.handle === handle && metrics.onMessage(slot.index, m) }),
      stdout(line) {
        if (!LISTENING.test(line) || slot.ready) return platform.stdout(line);
        slot.listening.push(line);
        if (slot.listening.length < sockets.length) return;
        slot.ready = true;
        if (started) {
          logger.info(`worker ${slot.index} (pid ${handle.pid}) is serving again`);
        } else if (slots.every((s) => s.ready)) {
          started = true;
          logger.info(`${workers} workers serving`);
          for (const l of slot.listening) platform.stdout(l);
        }
      },
      exit(code, signal) {
        if (slot.handle !== handle) return;
        slot.handle = undefined;
        metrics?.onExit(slot.index, !stopping && (started || slot.ready));
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (stopping) {
          logger.info(`worker ${slot.index} (pid ${handle.pid}) ${how}`);
          return finishIfDone();
        }
        if (!started && !slot.ready) {
          // a worker that cannot start (port in use, bad route) will not do better
          // on a retry: stop the others and fail the start-up as one process would
          logger.err(`worker ${slot.index} (pid ${handle.pid}) ${how} before listening: stopping`);
          stopping = true;
          exitCode = code === EXIT_CONFIG ? EXIT_CONFIG : EXIT_FAILURE;
          for (const s of slots) if (s.timer) clearTimeout(s.timer);
          for (const s of live()) s.handle!.kill("SIGTERM");
          return finishIfDone();
        }
        if (Date.now() - slot.startedAt >= STABLE_MS) slot.failures = 0;
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** slot.failures);
        slot.failures++;
        logger.warn(`worker ${slot.index} (pid ${handle.pid}) ${how}; restarting it in ${delay / 1000} s (${live().length} of ${workers} serving)`);
        slot.timer = setTimeout(() => start(slot), delay);
      },
    });
    slot.handle = handle;
  };

  // First signal: every worker drains (SIGTERM; SIGINT from a terminal reaches
  // the workers too, and they leave that one to us); exit once all have exited.
  // A second signal: kill them and exit now.
  platform.onSignals((signal) => {
    // the workers get a hangup of the terminal too, and ignore it as well
    if (signal === "SIGHUP") return logger.info("SIGHUP received: ignored, as Kamailio does (restart to load a changed route)");
    if (stopping) {
      logger.warn(`${signal} received again: killing ${live().length} workers and exiting now`);
      for (const s of live()) s.handle!.kill("SIGKILL");
      return platform.exit(1);
    }
    stopping = true;
    for (const s of slots) if (s.timer) clearTimeout(s.timer);
    logger.info(`${signal} received: stopping ${live().length} workers`);
    for (const s of live()) s.handle!.kill("SIGTERM");
    finishIfDone();
  });

  for (const slot of slots) start(slot);
}
