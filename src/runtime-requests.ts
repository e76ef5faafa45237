// What each runtime's server says about a request, read from the second argument
// its fetch handler gets (env): the peer, the local socket, the HTTP version, how
// to close the connection without answering, and how to hand over a reply. The
// server adapters (adapters/bun.ts, deno.ts, node.ts) use these, and so does
// mhttpd/hono (src/hono.ts), which learns per request which runtime's server
// called the Hono app. Nothing here imports a runtime: each reader knows only the
// shape of what that runtime passes.
import { webDefaults, type RequestAdapter, type SocketAddress } from "./adapter.ts";
import { replyResponse, type OutgoingReply } from "./reply.ts";

/** The per-request part of an adapter that needs no server of its own. */
export type RuntimeRequests = Pick<RequestAdapter, "peer" | "local" | "httpVersion" | "drop" | "respond">;

/** What Bun.serve passes: the server (bun-types' Server, the part read here). */
interface BunServer {
  requestIP(request: Request): { address: string; port: number } | null;
  hostname?: string;
  port?: number;
}

export const isBunServer = (env: unknown): boolean => typeof (env as BunServer | undefined)?.requestIP === "function";

/** A reply without Content-Type: Bun labels bytes application/octet-stream, not a stream. */
function untypedResponse(status: number, bytes: Uint8Array, headers: Headers): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    }),
    { status, headers },
  );
}

export const bunRequests: RuntimeRequests = {
  peer(request, env) {
    const ip = (env as BunServer).requestIP(request);
    return { address: ip?.address, port: ip?.port };
  },
  // Bun does not tell the connection's local address: the listener's is the best there is
  local(_request, env) {
    const server = env as BunServer;
    return { address: server.hostname ?? "", port: server.port ?? 0 };
  },
  httpVersion: webDefaults.httpVersion,
  // A body that fails before its first byte: Bun resets the connection having
  // written nothing. Failed with no reason: given one, Bun prints it to stderr
  // with a source excerpt (several lines that no Logger sees), for every drop.
  drop() {
    return new Response(
      new ReadableStream({
        start(controller) {
          controller.error();
        },
      }),
    );
  },
  respond: (_request, _env, reply: OutgoingReply) => replyResponse(reply, untypedResponse),
};

/** What Deno.serve passes: the connection info. Deno gives the peer only; the
 * server adapter adds the listener's address as localAddr, and tls on a TLS socket. */
interface DenoInfo {
  remoteAddr: { hostname: string; port: number };
  localAddr?: { hostname: string; port: number };
  tls?: boolean;
}

export const isDenoInfo = (env: unknown): boolean => typeof (env as DenoInfo | undefined)?.remoteAddr?.hostname === "string";

export const denoRequests: RuntimeRequests = {
  peer(_request, env) {
    const { remoteAddr } = env as DenoInfo;
    return { address: remoteAddr.hostname, port: remoteAddr.port };
  },
  local(_request, env): SocketAddress | undefined {
    const local = (env as DenoInfo).localAddr;
    return local && { address: local.hostname, port: local.port };
  },
  // Deno does not tell a request's version. HTTP/2 carries the authority in
  // :authority and Deno adds no Host for it, while HTTP/1.1 must send Host (RFC
  // 9112 §3.2): on a TLS socket, where Deno.serve offers h2 by ALPN, a request
  // without Host is taken for HTTP/2 (an HTTP/1.0 one without Host too).
  httpVersion: (request, env) => ((env as DenoInfo).tls && !request.headers.has("host") ? "HTTP/2" : undefined),
  drop: webDefaults.drop,
  respond: webDefaults.respond,
};

/** What @hono/node-server passes: node:http's request and response (its
 * HttpBindings, the part read here), or node:http2's compatibility ones for an
 * HTTP/2 request, which share that API and add the stream. */
interface NodeBindings {
  incoming: {
    httpVersion: string;
    httpVersionMajor: number;
    socket: { remoteAddress?: string; remotePort?: number; localAddress?: string; localPort?: number; destroy(): void };
    stream?: { close(code: number): void };
  };
}

/** RST_STREAM's CANCEL (RFC 9113 §7), node:http2's constants.NGHTTP2_CANCEL */
const HTTP2_CANCEL = 0x8;

export const isNodeBindings = (env: unknown): boolean => typeof (env as NodeBindings | undefined)?.incoming?.socket === "object";

export const nodeRequests: RuntimeRequests = {
  peer(_request, env) {
    const socket = (env as NodeBindings).incoming.socket;
    return { address: socket.remoteAddress, port: socket.remotePort };
  },
  local(_request, env) {
    const socket = (env as NodeBindings).incoming.socket;
    return { address: socket.localAddress ?? "", port: socket.localPort ?? 0 };
  },
  // node:http2 says "2.0"; HTTP/2 has no minor version (RFC 9113)
  httpVersion(_request, env) {
    const incoming = (env as NodeBindings).incoming;
    return incoming.httpVersionMajor === 2 ? "HTTP/2" : `HTTP/${incoming.httpVersion}`;
  },
  // A failing body would make @hono/node-server answer 500 with the error's text.
  // The Response says nothing is to be written (its one header is all
  // @hono/node-server reads); a new one each time, as middleware may add headers.
  // On HTTP/2 only the request's stream is reset; the connection's others go on.
  drop(_request, env) {
    const incoming = (env as NodeBindings).incoming;
    if (incoming.httpVersionMajor === 2) incoming.stream?.close(HTTP2_CANCEL);
    else incoming.socket.destroy();
    return new Response(null, { headers: { "x-hono-already-sent": "1" } });
  },
  // as a Response (the Node server adapter writes its replies itself, faster, where
  // nothing wraps it); @hono/node-server labels a body without a type text/plain
  respond: webDefaults.respond,
};

/** On Cloudflare Workers, where the edge sets CF-Connecting-IP (replacing any the
 * client sent). Anywhere else any client could write that header. */
export const ON_WORKERD = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === "Cloudflare-Workers";

export const workerdRequests: RuntimeRequests = {
  peer: (request) => ({ address: request.headers.get("cf-connecting-ip") ?? "" }),
  local: webDefaults.local,
  // Workers say which HTTP version reached the edge
  httpVersion: (request) => (request as Request & { cf?: { httpProtocol?: string } }).cf?.httpProtocol,
  // the core's body that fails at once, so the platform gives up on the response
  // (workerd closes the connection having sent nothing)
  drop: webDefaults.drop,
  respond: webDefaults.respond,
};

/** A server none of the above: no address is known (allowed_ips refuses every request). */
export const unknownRequests: RuntimeRequests = {
  peer: () => ({ address: "" }),
  local: webDefaults.local,
  httpVersion: webDefaults.httpVersion,
  drop: webDefaults.drop,
  respond: webDefaults.respond,
};

/** Which runtime's server called, from what it passed. On workerd env is the
 * Worker's bindings, which the configuration names: never taken for a server's. */
export function runtimeRequestsOf(env: unknown): RuntimeRequests {
  if (ON_WORKERD) return workerdRequests;
  if (isBunServer(env)) return bunRequests;
  if (isNodeBindings(env)) return nodeRequests;
  if (isDenoInfo(env)) return denoRequests;
  return unknownRequests;
}
