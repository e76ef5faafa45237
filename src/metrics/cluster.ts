// The metrics with workers > 1: the figures of a scrape are the whole server's,
// whichever worker the scrape reaches. That worker asks its supervisor over the
// IPC channel each worker has to it; the supervisor asks every worker for its
// snapshot, adds them up with its own count of restarts, its memory and what
// workers that died had counted, and sends the sum back; the worker renders it.
//
//   worker W              supervisor                 every worker
//   scrape(id)     ->     collect(n) to each    ->   report(n, snapshot)
//   figures(id, sum) <-   sum of the reports    <-
//
// A worker that does not report within GATHER_MS (busy in a long synchronous
// route) is counted with its last report, so that a counter never goes down
// because one worker was slow to answer.
import { addSnapshot, emptySnapshot, isSnapshot, retiredPart, type MemoryFigures, type MetricsSnapshot } from "./snapshot.ts";

/** how long the supervisor waits for the workers' reports */
export const GATHER_MS = 1000;
/** how long a worker waits for the supervisor's sum before answering 503 */
const SCRAPE_MS = GATHER_MS + 2000;

type Message =
  | { mhttpd: "metrics"; t: "scrape"; id: number }
  | { mhttpd: "metrics"; t: "collect"; id: number }
  | { mhttpd: "metrics"; t: "report"; id: number; snapshot: MetricsSnapshot }
  | { mhttpd: "metrics"; t: "figures"; id: number; snapshot: MetricsSnapshot };

/** A message of ours: the channel may also carry the runtime's own (node:cluster's)
 * and anything a route's code sends. */
function ours(m: unknown): Message | undefined {
  const msg = m as Partial<Message> | null;
  if (typeof msg !== "object" || msg === null || msg.mhttpd !== "metrics" || typeof msg.id !== "number") return undefined;
  if ((msg.t === "report" || msg.t === "figures") && !isSnapshot((msg as { snapshot?: unknown }).snapshot)) return undefined;
  return msg.t === "scrape" || msg.t === "collect" || msg.t === "report" || msg.t === "figures" ? (msg as Message) : undefined;
}

/** A worker's side of its IPC channel to the supervisor. */
export interface SupervisorChannel {
  send(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
}

/** The worker side: answers the supervisor's collects with this process's
 * snapshot; returns what a scrape calls to get the server's figures. */
export function workerFigures(channel: SupervisorChannel, snapshot: () => MetricsSnapshot): () => Promise<MetricsSnapshot> {
  let next = 0;
  const waiting = new Map<number, (s: MetricsSnapshot) => void>();
  channel.onMessage((m) => {
    const msg = ours(m);
    if (msg?.t === "collect") channel.send({ mhttpd: "metrics", t: "report", id: msg.id, snapshot: snapshot() } satisfies Message);
    else if (msg?.t === "figures") waiting.get(msg.id)?.(msg.snapshot);
  });
  return () =>
    new Promise<MetricsSnapshot>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the supervisor sent no figures within ${SCRAPE_MS / 1000} s`));
      }, SCRAPE_MS);
      waiting.set(id, (s) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(s);
      });
      channel.send({ mhttpd: "metrics", t: "scrape", id } satisfies Message);
    });
}

interface Gathering {
  /** worker slots whose report has not come */
  missing: Set<number>;
  fresh: Map<number, MetricsSnapshot>;
  done(): void;
}

/** The supervisor side: the sum of the workers' figures, and what the server
 * keeps of workers that have died. */
export class ClusterMetrics {
  /** workers that died and were started again */
  restarts = 0;
  /** each live worker's last report */
  readonly #last = new Map<number, MetricsSnapshot>();
  /** the counts of workers that died */
  readonly #retired = emptySnapshot();
  readonly #gatherings = new Map<number, Gathering>();
  #next = 0;

  constructor(
    private readonly workers: {
      /** the slots of the workers running now */
      live(): number[];
      send(slot: number, message: unknown): void;
    },
    private readonly memory?: () => MemoryFigures | undefined,
  ) {}

  /** A message from the worker in `slot`. */
  onMessage(slot: number, m: unknown): void {
    const msg = ours(m);
    if (msg?.t === "scrape") {
      void this.gather().then((snapshot) => this.workers.send(slot, { mhttpd: "metrics", t: "figures", id: msg.id, snapshot } satisfies Message));
    } else if (msg?.t === "report") {
      this.#last.set(slot, msg.snapshot);
      const g = this.#gatherings.get(msg.id);
      if (g?.missing.delete(slot)) {
        g.fresh.set(slot, msg.snapshot);
        if (g.missing.size === 0) g.done();
      }
    }
  }

  /** The worker in `slot` has exited: what it counted stays in the figures. */
  onExit(slot: number, restarting: boolean): void {
    if (restarting) this.restarts++;
    const last = this.#last.get(slot);
    if (last) addSnapshot(this.#retired, retiredPart(last));
    this.#last.delete(slot);
    for (const g of this.#gatherings.values()) if (g.missing.delete(slot) && g.missing.size === 0) g.done();
  }

  /** The server's figures: every live worker's fresh report (or its last one),
   * plus the retired counts, the restarts and the supervisor's own memory. */
  gather(): Promise<MetricsSnapshot> {
    const id = this.#next++;
    const live = this.workers.live();
    return new Promise<MetricsSnapshot>((resolve) => {
      const g: Gathering = {
        missing: new Set(live),
        fresh: new Map(),
        done: () => {
          clearTimeout(timer);
          this.#gatherings.delete(id);
          resolve(this.#sum(live, g.fresh));
        },
      };
      const timer = setTimeout(g.done, GATHER_MS);
      this.#gatherings.set(id, g);
      for (const slot of live) this.workers.send(slot, { mhttpd: "metrics", t: "collect", id } satisfies Message);
      if (live.length === 0) g.done();
    });
  }

  #sum(live: number[], fresh: Map<number, MetricsSnapshot>): MetricsSnapshot {
    const sum = addSnapshot(emptySnapshot(), this.#retired);
    for (const slot of live) {
      const s = fresh.get(slot) ?? this.#last.get(slot);
      if (s) addSnapshot(sum, s);
    }
    const own = this.memory?.();
    if (own) addSnapshot(sum, { ...emptySnapshot(), memory: own });
    sum.workerRestarts = this.restarts;
    return sum;
  }
}
