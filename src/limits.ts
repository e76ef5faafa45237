// Request limits that can be enforced on the Fetch Request itself, so they are
// written once and behave the same on every runtime: the head size (431) and the
// body, read as a stream with a byte cap (413) and a stall timer (408). Limits a
// Request cannot see (a head that never completes, idle sockets) are the adapters'.

/** What reading the body gave: the bytes, or why there are none. */
export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; status: 413 | 408; why: string }
  /** the client went away (or the stream failed): nobody to answer */
  | { ok: false; status: 0; why: string };

const EMPTY = new Uint8Array(0);

/** Size of the request head as it came on the wire, near enough: request line,
 * each header as "Name: value\r\n", the blank line. The runtimes do not give the
 * raw head; header names and values are what a client can make large. */
export function headSize(req: Request, target: string): number {
  let n = req.method.length + target.length + 12; // " " + " HTTP/1.1\r\n" + "\r\n"
  req.headers.forEach((value, name) => {
    n += name.length + value.length + 4;
  });
  return n;
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

/** Read the whole body, stopping at `limit` bytes (413) or when no byte has come
 * for the watch's window (408). Never holds more than `limit` bytes: a
 * Content-Length over the limit is refused before reading, and a chunked body is
 * counted as it comes. */
export async function readBody(req: Request, limit: number, watch: StallWatch): Promise<BodyResult> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    return { ok: false, status: 413, why: `Content-Length ${declared} is over max_body_size ${limit}` };
  }
  if (req.body === null) return { ok: true, bytes: EMPTY };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let stalled = false;
  // a stall cancels the reader, which ends the pending read: no race of promises per chunk
  const stall = watch.start(() => {
    stalled = true;
    reader.cancel(new Error("body_timeout")).catch(() => {});
  });
  const stalledResult = () => ({ ok: false, status: 408, why: `no body bytes for ${watch.ms / 1000} s (body_timeout) after ${total} bytes` }) as const;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (stalled) return stalledResult();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        reader.cancel().catch(() => {});
        return { ok: false, status: 413, why: `body passed max_body_size ${limit} while arriving` };
      }
      chunks.push(value);
      stall.last = Date.now();
    }
  } catch (e) {
    if (stalled) return stalledResult();
    return { ok: false, status: 0, why: `body read failed after ${total} bytes: ${(e as Error)?.message ?? String(e)}` };
  } finally {
    watch.stop(stall);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0] };
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { ok: true, bytes };
}
