// What one run of a route keeps for itself: its $rc, and, for a .cfg route that
// can suspend (it awaits sleep, an HTTP query, SQL ...), its own view of the
// per-process variables $var and $vn. In Kamailio a process runs one request at a
// time, so a route's $var cannot change under it; here requests interleave at
// every await, so a route that can suspend reads and writes a view instead and
// hands its writes to the process when it ends (docs/cfg.md, "Variables").
import type { PvValue } from "./ksr-api.ts";

/** The run state the variables of a .cfg route reach through their request
 * (src/cfg/runtime.ts's Exec is one). */
export interface RunScope {
  /** $rc / $retcode / $?: the last function's or route's return code in this run */
  rc: number;
  /** this run's own $var / $vn, while it can suspend; undefined: the process's */
  vars: VarView | undefined;
}

interface Seen {
  /** undefined: absent (a $vn set to null, or a name never set) */
  value: PvValue | undefined;
  written: boolean;
}

/** A run's view of the per-process stores: each name keeps the value it had when
 * the run first used it, and the run's writes stay here until commit(). */
export class VarView {
  readonly #stores = new Map<Map<string, PvValue>, Map<string, Seen>>();

  #seenOf(store: Map<string, PvValue>): Map<string, Seen> {
    let seen = this.#stores.get(store);
    if (seen === undefined) this.#stores.set(store, (seen = new Map()));
    return seen;
  }

  get(store: Map<string, PvValue>, name: string): PvValue | undefined {
    const seen = this.#seenOf(store);
    let entry = seen.get(name);
    if (entry === undefined) seen.set(name, (entry = { value: store.get(name), written: false }));
    return entry.value;
  }

  set(store: Map<string, PvValue>, name: string, value: PvValue | undefined): void {
    this.#seenOf(store).set(name, { value, written: true });
  }

  /** the run ended: its writes become the process's (the last run to end wins a name) */
  commit(): void {
    for (const [store, seen] of this.#stores) {
      for (const [name, entry] of seen) {
        if (!entry.written) continue;
        if (entry.value === undefined) store.delete(name);
        else store.set(name, entry.value);
      }
    }
    this.#stores.clear();
  }
}
