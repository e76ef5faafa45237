// The floor of mhttpd on Node: @hono/node-server's listener (the one mhttpd runs
// on, with the same options) and a fetch handler that does nothing but answer the
// workload, the way mhttpd's Node adapter answers (writeHead on the response and
// node-server's "already sent" marker; the body from the IncomingMessage). What
// mhttpd costs above this is mhttpd's own; usage: node floor-node.mjs PORT WORKLOAD
import { createAdaptorServer } from "@hono/node-server";

const port = Number(process.argv[2]);
const workload = process.argv[3] ?? "hello";
const SENT = new Response(null, { headers: { "x-hono-already-sent": "1" } });

function send(env, text) {
  env.outgoing.writeHead(200, { "content-type": "text/plain", "content-length": String(Buffer.byteLength(text)) });
  env.outgoing.end(text);
  return SENT;
}

const handlers = {
  hello: (_req, env) => send(env, "Hello"),
  post: (_req, env) =>
    new Promise((resolve) => {
      const chunks = [];
      env.incoming.on("data", (c) => chunks.push(c));
      env.incoming.on("end", () => resolve(send(env, String(Buffer.concat(chunks).toString("utf8").length))));
    }),
  headers: (req, env) => send(env, `${req.headers.get("x-bench-a")}${req.headers.get("x-bench-b")}${req.headers.get("user-agent")} ${env.incoming.socket.remoteAddress}`),
};

const server = createAdaptorServer({ fetch: handlers[workload], overrideGlobalObjects: false, hostname: "localhost" });
server.listen(port, "127.0.0.1", () => console.log(`floor listening on http://127.0.0.1:${port} (node)`));
// exit normally on SIGTERM, so that --cpu-prof writes its profile (bench/profile.mjs)
process.on("SIGTERM", () => process.exit(0));
