// Requests in flight and the draining state, shared by the handler (which counts
// requests and marks responses `Connection: close` while draining) and the
// shutdown in server.ts (which waits for the count to reach zero).
export class Lifecycle {
  /** requests whose response is not decided yet */
  inflight = 0;
  /** SIGTERM/SIGINT received: every response closes its connection */
  draining = false;
  #waiters: (() => void)[] = [];

  enter(): void {
    this.inflight++;
  }

  leave(): void {
    if (--this.inflight === 0 && this.#waiters.length > 0) for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((r) => this.#waiters.push(r));
  }
}
