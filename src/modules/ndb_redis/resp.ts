// RESP2, the Redis protocol, in both directions, with nothing of a runtime in it.
// A command goes out as an array of bulk strings, each with its byte length: no
// byte of an argument (space, CR, LF, NUL) can end it early or start another one.
// Replies keep hiredis's six types, which $redis(r=>type) and $redisd(...) expose:
// a status ("+OK") is not a string ("$2\r\nOK"), and an error inside an array (EXEC)
// is an element like any other.

/** hiredis's REDIS_REPLY_* numbers, as Kamailio's $redis(r=>type) gives them */
export const REPLY_STRING = 1;
export const REPLY_ARRAY = 2;
export const REPLY_INTEGER = 3;
export const REPLY_NIL = 4;
export const REPLY_STATUS = 5;
export const REPLY_ERROR = 6;

export type ReplyType = 1 | 2 | 3 | 4 | 5 | 6;

export interface RedisReply {
  type: ReplyType;
  /** string, status and error replies (hiredis's reply->str), as UTF-8 text */
  str?: string;
  /** integer replies: a number when it is exact in JavaScript, else its decimal text */
  integer?: number | string;
  /** array replies */
  elements?: RedisReply[];
}

/** Redis refuses a bulk string longer than this (proto-max-bulk-len): a reader
 * announcing more is not a Redis server we can trust with our memory. */
export const MAX_BULK_BYTES = 512 * 1024 * 1024;
/** hiredis nests at most a few levels; deeper than this is no Redis reply */
export const MAX_DEPTH = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** One command as RESP: *N\r\n then $len\r\nbytes\r\n per argument. */
export function encodeCommand(args: readonly string[]): Uint8Array {
  const parts = args.map((a) => encoder.encode(a));
  let size = 0;
  const heads = parts.map((p) => {
    const head = encoder.encode(`$${p.length}\r\n`);
    size += head.length + p.length + 2;
    return head;
  });
  const first = encoder.encode(`*${args.length}\r\n`);
  const out = new Uint8Array(first.length + size);
  out.set(first, 0);
  let at = first.length;
  for (let i = 0; i < parts.length; i++) {
    out.set(heads[i], at);
    at += heads[i].length;
    out.set(parts[i], at);
    at += parts[i].length;
    out[at++] = 13;
    out[at++] = 10;
  }
  return out;
}

/** Several encoded commands as one write, so that nothing can come between them. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export class ProtocolError extends Error {}

/** Thrown inside the parser when the buffer ends before the reply does. */
const INCOMPLETE = Symbol("incomplete");

/**
 * Reads replies from the byte stream as it arrives, in whatever chunks. A reply
 * cut across chunks is parsed again from its start once more bytes came; a long
 * bulk string says how many bytes it needs, and no parse is tried before they are
 * there (no quadratic work on a large value arriving in many pieces).
 */
export class ReplyReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** bytes the pending reply needs at least, from its bulk lengths */
  #need = 0;
  /** where in #buf the bulk string that was cut short ends */
  #cutEnd = 0;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;

  /** Feed bytes; returns the replies completed by them, in order. */
  feed(chunk: Uint8Array): RedisReply[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered < this.#need) return [];
    this.#buf = concatBytes(this.#chunks);
    this.#chunks = [];
    this.#pos = 0;
    const replies: RedisReply[] = [];
    for (;;) {
      const start = this.#pos;
      if (start >= this.#buf.length) break;
      try {
        replies.push(this.#reply(0));
        this.#need = 0;
      } catch (e) {
        if (e !== INCOMPLETE) throw e;
        this.#need = this.#cutEnd - start;
        this.#cutEnd = 0;
        this.#pos = start;
        break;
      }
    }
    const rest = this.#buf.subarray(this.#pos);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return replies;
  }

  #line(): string {
    const buf = this.#buf;
    for (let i = this.#pos; i + 1 < buf.length; i++) {
      if (buf[i] === 13 && buf[i + 1] === 10) {
        const text = decoder.decode(buf.subarray(this.#pos, i));
        this.#pos = i + 2;
        return text;
      }
    }
    throw INCOMPLETE;
  }

  #length(text: string, what: string): number {
    if (!/^-?\d{1,12}$/.test(text)) throw new ProtocolError(`bad ${what} length ${JSON.stringify(text.slice(0, 40))}`);
    return Number(text);
  }

  #reply(depth: number): RedisReply {
    if (this.#pos >= this.#buf.length) throw INCOMPLETE;
    const kind = this.#buf[this.#pos++];
    switch (kind) {
      case 0x2b: // +
        return { type: REPLY_STATUS, str: this.#line() };
      case 0x2d: // -
        return { type: REPLY_ERROR, str: this.#line() };
      case 0x3a: // :
        return { type: REPLY_INTEGER, integer: this.#integer(this.#line()) };
      case 0x24: // $
        return this.#bulk(this.#length(this.#line(), "bulk string"));
      case 0x2a: {
        // *
        const count = this.#length(this.#line(), "array");
        if (count < 0) return { type: REPLY_NIL };
        if (depth >= MAX_DEPTH) throw new ProtocolError(`arrays nested deeper than ${MAX_DEPTH} levels`);
        const elements: RedisReply[] = [];
        for (let i = 0; i < count; i++) elements.push(this.#reply(depth + 1));
        return { type: REPLY_ARRAY, elements };
      }
      default:
        throw new ProtocolError(`unexpected byte 0x${kind.toString(16).padStart(2, "0")} where a reply starts (not a RESP2 server?)`);
    }
  }

  #bulk(length: number): RedisReply {
    if (length < 0) return { type: REPLY_NIL };
    if (length > MAX_BULK_BYTES) throw new ProtocolError(`a bulk string of ${length} bytes (more than Redis sends)`);
    const end = this.#pos + length;
    if (end + 2 > this.#buf.length) {
      this.#cutEnd = end + 2;
      throw INCOMPLETE;
    }
    if (this.#buf[end] !== 13 || this.#buf[end + 1] !== 10) throw new ProtocolError("a bulk string not followed by CRLF");
    const str = decoder.decode(this.#buf.subarray(this.#pos, end));
    this.#pos = end + 2;
    return { type: REPLY_STRING, str };
  }

  #integer(text: string): number | string {
    if (!/^-?\d{1,20}$/.test(text)) throw new ProtocolError(`bad integer reply ${JSON.stringify(text.slice(0, 40))}`);
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
}
