// The core's own answers: short ASCII texts whose length is known, and the
// "no answer at all" of a drop. Each refusal closes its connection.

/** Our own short ASCII answers (400, 403, 404, 500, ...). */
export function plain(status: number, text: string, extra?: Record<string, string>): Response {
  return new Response(text, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "content-length": String(text.length), ...extra },
  });
}

const CLOSE = { connection: "close" };

export const badRequest = () => plain(400, "Bad Request\n", CLOSE);
export const forbidden = () => plain(403, "Forbidden\n", CLOSE);
export const notFound = () => plain(404, "Not Found\n");
export const methodNotAllowed = () => plain(405, "Method Not Allowed\n", { ...CLOSE, allow: "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS" });
export const requestTimeout = () => plain(408, "Request Timeout\n", CLOSE);
export const contentTooLarge = () => plain(413, "Content Too Large\n", CLOSE);
export const headersTooLarge = () => plain(431, "Request Header Fields Too Large\n", CLOSE);
export const internalError = () => plain(500, "Internal Server Error\n");
export const unavailable = () => plain(503, "Service Unavailable\n");
export const busy = () => plain(503, "Service Unavailable\n", { ...CLOSE, "retry-after": "1" });

/** The error a dropped request's body fails with: adapters whose runtime reports
 * body errors (Deno's onError) recognise it and stay quiet. */
export const DROPPED: Error = new Error("mhttpd: connection dropped by the route");

/** A response whose body fails before its first byte: the runtime gives up on it
 * (Deno closes the connection after the status line, workerd having sent
 * nothing), so the client never gets a complete response. */
export function failingResponse(): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        // with a reason: workerd refuses controller.error() without one
        controller.error(DROPPED);
      },
    }),
  );
}
