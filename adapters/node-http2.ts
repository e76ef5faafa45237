// HTTP/2 on Node: node:http2's createSecureServer with allowHTTP1, so one TLS
// socket serves h2 and http/1.1 as ALPN decides, both through @hono/node-server
// (its createServer option) into the same handler. node:http's knobs that the
// HTTP/1.1 connections of this server still read are set on it by hand (the
// http2 server takes none of node:http's options), and mhttpd's limits are
// mapped onto HTTP/2's own:
//
//   max_header_size   431 from the adapter (the head measured as HTTP/1.1 would
//                     count it); node:http2's hard limits, advertised in SETTINGS,
//                     are set well above it, so a client that ignores them gets
//                     RST_STREAM rather than 431
//   header_timeout    a connection with no request within it of the handshake
//                     (and the TLS handshake itself) is closed
//   idle_timeout      a connection with no request open for that long gets GOAWAY
//   max_connections   sockets, as on HTTP/1.1; each carries at most
//                     MAX_CONCURRENT_STREAMS requests at once
//   drain             GOAWAY on every session: requests in flight finish, no new
//                     one starts, and the connection closes (no Connection: close,
//                     which HTTP/2 forbids)
//   drop              the request's stream is reset (RST_STREAM CANCEL); the other
//                     requests on the connection go on
import { maxHeaderSize as nodeHeadLimit, Server as HttpServer } from "node:http";
import { constants, createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2Session, type SecureServerOptions } from "node:http2";
import type { TlsFiles } from "../src/adapter.ts";
import type { Params } from "../src/params.ts";
import { headersTooLarge } from "../src/pipeline/responses.ts";

export { createSecureServer };

/** RFC 9113 §6.5.2 recommends no fewer than 100; node:http2's default is unbounded */
export const MAX_CONCURRENT_STREAMS = 100;

/** HTTP/2 counts 32 octets per field beyond its name and value (RFC 9113 §6.5.2),
 * HTTP/1.1 four ("Name: value\r\n"): a head of `limit` bytes as HTTP/1.1 counts it
 * is at most this big as HTTP/2 counts it */
const h2ListSize = (limit: number) => Math.ceil(limit / 4) * 36;

/** the head size limit on every protocol: max_header_size, or node:http's own */
export const headLimit = (params: Params) => (params.max_header_size > 0 ? params.max_header_size : nodeHeadLimit);

const ms = (s: number) => Math.max(1, Math.round(s * 1000));

/** The options of the dual-protocol server. */
export function http2ServerOptions(params: Params, tls: TlsFiles): SecureServerOptions {
  const limit = headLimit(params);
  return {
    cert: tls.cert,
    key: tls.key,
    allowHTTP1: true,
    // the TLS handshake counts against header_timeout (node:tls's default is 120 s)
    handshakeTimeout: ms(params.header_timeout),
    // the most fields a head of `limit` bytes can hold as HTTP/1.1 ("a:\r\n"), and
    // the four pseudo-headers
    maxHeaderListPairs: Math.ceil(limit / 4) + 4,
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: h2ListSize(limit) + 4 * 32 },
  };
}

/** node:http's options that its connection listener reads from the server, for the
 * HTTP/1.1 connections of the dual-protocol server (node:http's own defaults where
 * mhttpd sets none, as on the plain and HTTPS servers). */
export function setHttp1Options(server: Http2SecureServer, params: Params): void {
  Object.assign(server, {
    maxHeaderSize: params.max_header_size > 0 ? params.max_header_size : undefined,
    requireHostHeader: true,
    joinDuplicateHeaders: true,
    headersTimeout: ms(params.header_timeout),
    requestTimeout: 0,
    keepAliveTimeout: ms(params.idle_timeout),
    connectionsCheckingInterval: Math.min(1000, Math.max(50, ms(params.header_timeout) / 4)),
  });
}

/** The head of an HTTP/2 request as HTTP/1.1 would count it: each field, the
 * pseudo-headers (the request line's parts and Host) among them, as "name: value\r\n". */
function headSize(rawHeaders: string[]): number {
  let n = 2;
  for (let i = 0; i < rawHeaders.length; i += 2) n += rawHeaders[i].length + rawHeaders[i + 1].length + 4;
  return n;
}

/** 431 for an HTTP/2 head over the limit, as node:http answers an HTTP/1.1 one. */
export function headRefusal(incoming: Http2ServerRequest, limit: number): Response | undefined {
  return headSize(incoming.rawHeaders) > limit ? http2Response(headersTooLarge()) : undefined;
}

/** Headers HTTP/2 forbids in a response (RFC 9113 §8.2.2): node:http2 drops them
 * with a process warning, or refuses the response. */
const CONNECTION_SPECIFIC = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings"];

export function withoutConnectionHeaders(headers: Record<string, string | string[]>): void {
  for (const name of CONNECTION_SPECIFIC) delete headers[name];
}

/** A Fetch Response on its way to an HTTP/2 stream, without the headers HTTP/2
 * forbids (the core's refusals and the drain say Connection: close). */
export function http2Response(res: Response): Response {
  for (const name of CONNECTION_SPECIFIC) {
    if (!res.headers.has(name)) continue;
    try {
      res.headers.delete(name);
    } catch {
      // immutable: a Response that is only a marker (the reply is written already)
    }
  }
  return res;
}

/** Reset an HTTP/2 request's stream: the drop of a request, not of its connection. */
export function resetStream(incoming: Http2ServerRequest): void {
  incoming.stream.close(constants.NGHTTP2_CANCEL);
}

/** The sessions of a server: their timers (header_timeout, idle_timeout) and the
 * graceful stop. */
export function watchSessions(server: Http2SecureServer, params: Params) {
  const sessions = new Set<Http2Session>();
  let draining = false;
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    let open = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // no request open for that long: GOAWAY, then the connection closes
    const idleFor = (seconds: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => session.close(), ms(seconds));
      timer.unref();
    };
    idleFor(params.header_timeout);
    session.on("stream", (stream) => {
      open++;
      clearTimeout(timer);
      stream.once("close", () => --open === 0 && !session.closed && idleFor(params.idle_timeout));
    });
    session.once("close", () => {
      clearTimeout(timer);
      sessions.delete(session);
    });
    if (draining) session.close();
  });
  return {
    /** GOAWAY to every session: requests in flight finish, no new one starts */
    close(): void {
      draining = true;
      for (const s of sessions) s.close();
      // the idle HTTP/1.1 connections (node:http2 defines it with allowHTTP1; its
      // types do not say so)
      (server as unknown as { closeIdleConnections(): void }).closeIdleConnections();
    },
    /** every connection, now (shutdown_timeout passed) */
    destroy(): void {
      for (const s of sessions) s.destroy();
      // the HTTP/1.1 connections, as node:http tracks them for this server too
      HttpServer.prototype.closeAllConnections.call(server);
    },
  };
}
