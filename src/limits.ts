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

/** Read the whole body, stopping at `limit` bytes (413) or when no byte has come
 * for `stallMs` (408). Never holds more than `limit` bytes: a Content-Length over
 * the limit is refused before reading, and a chunked body is counted as it comes. */
export async function readBody(req: Request, limit: number, stallMs: number): Promise<BodyResult> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    return { ok: false, status: 413, why: `Content-Length ${declared} is over max_body_size ${limit}` };
  }
  if (req.body === null) return { ok: true, bytes: EMPTY };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stalled = false;
  // One timer per body, not one per chunk: when it fires early it sleeps again
  // for what is left of the stall window since the last chunk. A stall cancels
  // the reader, which ends the pending read: no race of promises per chunk.
  let last = Date.now();
  const check = () => {
    const quiet = Date.now() - last;
    if (quiet < stallMs) timer = setTimeout(check, stallMs - quiet);
    else {
      stalled = true;
      reader.cancel(new Error("body_timeout")).catch(() => {});
    }
  };
  timer = setTimeout(check, stallMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (stalled) {
        return { ok: false, status: 408, why: `no body bytes for ${stallMs / 1000} s (body_timeout) after ${total} bytes` };
      }
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        reader.cancel().catch(() => {});
        return { ok: false, status: 413, why: `body passed max_body_size ${limit} while arriving` };
      }
      chunks.push(value);
      last = Date.now();
    }
  } catch (e) {
    if (stalled) return { ok: false, status: 408, why: `no body bytes for ${stallMs / 1000} s (body_timeout) after ${total} bytes` };
    return { ok: false, status: 0, why: `body read failed after ${total} bytes: ${(e as Error)?.message ?? String(e)}` };
  } finally {
    clearTimeout(timer);
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
