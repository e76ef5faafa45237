// Bare node:http answering the benchmark workloads; usage: node bare-node.mjs PORT WORKLOAD
import { createServer } from "node:http";

const port = Number(process.argv[2]);
const workload = process.argv[3] ?? "hello";

function send(res, text) {
  res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const handlers = {
  hello: (_req, res) => send(res, "Hello"),
  post: (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => send(res, String(Buffer.concat(chunks).toString("utf8").length)));
  },
  headers: (req, res) => {
    const h = req.headers;
    send(res, `${h["x-bench-a"]}${h["x-bench-b"]}${h["user-agent"]} ${req.socket.remoteAddress}`);
  },
};
createServer(handlers[workload]).listen(port, "127.0.0.1", () => {
  console.log(`bare listening on http://127.0.0.1:${port} (node)`);
});
// exit normally on SIGTERM, so that --cpu-prof writes its profile (bench/profile.mjs)
process.on("SIGTERM", () => process.exit(0));
