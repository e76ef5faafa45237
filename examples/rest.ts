// REST dispatch: a table of paths, each with what its methods do, as
// examples/rest.cfg does with route[] blocks. A read-only resource:
//   GET /api/users        the list
//   GET /api/users/ID     one user (404 when there is none)
//   GET /api/status       the service's status
// Another method gets 405 with Allow; any other path 404; every answer is JSON.
//   npx mhttpd examples/rest.ts
//   curl http://127.0.0.1:8280/api/users/2   -> {"id":2,"name":"bob"}
import type { KsrApi } from "mhttpd";

const USERS = [
  { id: 1, name: "alice" },
  { id: 2, name: "bob" },
];

type Answer = [status: number, reason: string, body: unknown];
type Handler = (params: string[]) => Answer;

/** path pattern -> method -> handler; the pattern's groups are the handler's params */
const ROUTES: [RegExp, Record<string, Handler>][] = [
  [/^\/api\/users\/?$/, { GET: () => [200, "OK", USERS] }],
  [
    /^\/api\/users\/([^/]+)$/,
    {
      GET: ([id]) => {
        const user = USERS.find((u) => String(u.id) === id);
        return user ? [200, "OK", user] : [404, "Not Found", { error: "no such user" }];
      },
    },
  ],
  [/^\/api\/status$/, { GET: () => [200, "OK", { status: "ok" }] }],
];

export default function rest(_evname: string, KSR: KsrApi): void {
  const url = String(KSR.pv.get("$mhttpd(url)"));
  // HEAD is GET without the body (the server leaves the body out)
  const method = KSR.pv.get("$mhttpd(method)") === "HEAD" ? "GET" : String(KSR.pv.get("$mhttpd(method)"));
  let answer: Answer = [404, "Not Found", { error: "not found" }];
  for (const [pattern, methods] of ROUTES) {
    const m = pattern.exec(url);
    if (!m) continue;
    const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (handler) answer = handler(m.slice(1));
    else {
      KSR.microhttpd.mhttpd_reply_header("Allow", [...Object.keys(methods), "HEAD"].join(", "));
      answer = [405, "Method Not Allowed", { error: "method not allowed" }];
    }
    break;
  }
  const [status, reason, body] = answer;
  KSR.microhttpd.mhttpd_reply(status, reason, "application/json", JSON.stringify(body));
}
