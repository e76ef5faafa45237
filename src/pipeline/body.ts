// One request body being read, whatever feeds it: a web stream (readWebBody),
// Node's `data` events, or Bun's whole-body read. The reader enforces
// max_body_size (413, never holding more than the limit) and body_timeout (408
// once no byte has come for that long) the same way for all of them.

/** What reading the body gave: the bytes, or why there are none. */
export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; status: 413 | 408; why: string }
  /** the client went away (or the stream failed): nobody to answer */
  | { ok: false; status: 0; why: string };

export const EMPTY_BODY = new Uint8Array(0);

/** One body being read. A feeder pushes chunks and then ends or fails it; the
 * reader stops the feeder (onStop) when the body passes the limit or stalls. */
export class BodyReader {
  readonly result: Promise<BodyResult>;
  /** the result, once there is one (a feeder that ends at once leaves it here,
   * and the route then runs without waiting a turn) */
  outcome: BodyResult | undefined;
  #resolve!: (r: BodyResult) => void;
  #chunks: Uint8Array[] = [];
  #total = 0;
  #stall: Stall | undefined;
  #stop: (() => void) | undefined;

  constructor(
    readonly limit: number,
    /** undefined where the runtime times stalls itself */
    private readonly stalls: StallWatch | undefined,
  ) {
    this.result = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Start the stall timer: called once the feeder is set up and the body has not
   * ended at once (a body-less request never starts one). */
  watchStalls(): void {
    const stalls = this.stalls;
    if (!stalls || this.outcome || this.#stall) return;
    this.#stall = stalls.start(() => {
      this.#finish({ ok: false, status: 408, why: `no body bytes for ${stalls.ms / 1000} s (body_timeout) after ${this.#total} bytes` });
      this.#stop?.();
    });
  }

  /** how to stop the source when the reader gives up (limit, stall) */
  onStop(stop: () => void): void {
    this.#stop = stop;
  }

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  push(chunk: Uint8Array): void {
    if (this.outcome) return;
    this.#total += chunk.byteLength;
    if (this.#total > this.limit) {
      this.#finish({ ok: false, status: 413, why: `body passed max_body_size ${this.limit} while arriving` });
      this.#stop?.();
      return;
    }
    this.#chunks.push(chunk);
    if (this.#stall) this.#stall.last = Date.now();
  }

  end(): void {
    if (this.outcome) return;
    const chunks = this.#chunks;
    if (chunks.length === 1) return this.#finish({ ok: true, bytes: chunks[0] });
    const bytes = chunks.length === 0 ? EMPTY_BODY : new Uint8Array(this.#total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    this.#finish({ ok: true, bytes });
  }

  /** the runtime refused the body as too large itself (Bun's maxRequestBodySize,
   * set to max_body_size, on a chunked body) */
  tooLarge(): void {
    this.#finish({ ok: false, status: 413, why: `body passed max_body_size ${this.limit} while arriving` });
  }

  /** the client went away, or the source failed: nobody is left to answer */
  fail(why: string): void {
    this.#finish({ ok: false, status: 0, why: `${why} after ${this.#total} body bytes` });
  }

  #finish(result: BodyResult): void {
    if (this.outcome) return;
    this.outcome = result;
    if (this.#stall) this.stalls!.stop(this.#stall);
    this.#chunks = [];
    this.#resolve(result);
  }
}

/** Feed a reader from the request's web stream (the Fetch way, every runtime). */
export function readWebBody(request: Request, reader: BodyReader): void {
  if (request.body === null) return reader.end();
  const stream = request.body.getReader();
  // a stall or the limit cancels the stream, which ends the pending read
  reader.onStop(() => void stream.cancel().catch(() => {}));
  (async () => {
    try {
      for (;;) {
        const { done, value } = await stream.read();
        if (reader.settled) return;
        if (done) return reader.end();
        reader.push(value);
      }
    } catch (e) {
      reader.fail(`body read failed: ${(e as Error)?.message ?? String(e)}`);
    }
  })();
}

/** One body being read: when its last byte came, and what to do once none has
 * come for the watch's window. The reader sets `last` as bytes arrive. */
export interface Stall {
  last: number;
  readonly onStall: () => void;
  /** perBody watches only */
  timer?: ReturnType<typeof setTimeout>;
}

/** The stall timers (body_timeout) of the bodies being read. By default one
 * interval timer sweeps them all, and only while some body is being read: a
 * setTimeout per body costs more than the rest of a small POST on Deno, where
 * timers are Node-compatible objects. A stall is seen between `ms` and `ms` plus
 * an eighth of it (at most 1 s) after the last byte. `perBody`: a timer per body,
 * for platforms where a timer belongs to the request that made it (Workers). */
export class StallWatch {
  readonly #reads = new Set<Stall>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  readonly #tick: number;

  constructor(
    readonly ms: number,
    private readonly perBody = false,
  ) {
    this.#tick = Math.min(1000, Math.max(10, Math.round(ms / 8)));
  }

  start(onStall: () => void): Stall {
    const stall: Stall = { last: Date.now(), onStall };
    if (this.perBody) {
      // when it fires early it sleeps again for what is left of the window
      const check = () => {
        const quiet = Date.now() - stall.last;
        if (quiet < this.ms) stall.timer = setTimeout(check, this.ms - quiet);
        else onStall();
      };
      stall.timer = setTimeout(check, this.ms);
    } else {
      this.#reads.add(stall);
      this.#sweeper ??= setInterval(this.#sweep, this.#tick);
    }
    return stall;
  }

  stop(stall: Stall): void {
    if (this.perBody) clearTimeout(stall.timer);
    else this.#reads.delete(stall);
  }

  /** bodies being read now (tests) */
  get watching(): number {
    return this.#reads.size;
  }

  #sweep = () => {
    const now = Date.now();
    for (const stall of this.#reads) {
      if (now - stall.last >= this.ms) {
        this.#reads.delete(stall);
        stall.onStall();
      }
    }
    if (this.#reads.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };
}
