// Bare Bun.serve answering the benchmark workloads; usage: bun bare-bun.ts PORT WORKLOAD
/// <reference types="bun-types" />
const port = Number(process.argv[2]);
const workload = process.argv[3] ?? "hello";
const TEXT = { "content-type": "text/plain" };

const handlers: Record<string, (req: Request, server: any) => Response | Promise<Response>> = {
  hello: () => new Response("Hello", { headers: TEXT }),
  post: async (req) => new Response(String((await req.text()).length), { headers: TEXT }),
  headers: (req, server) => {
    const h = req.headers;
    const ip = server.requestIP(req)?.address ?? "";
    return new Response(`${h.get("x-bench-a")}${h.get("x-bench-b")}${h.get("user-agent")} ${ip}`, { headers: TEXT });
  },
};
const fetch = handlers[workload];
Bun.serve({ hostname: "127.0.0.1", port, fetch });
console.log(`bare listening on http://127.0.0.1:${port} (bun)`);
// exit normally on SIGTERM, so that --cpu-prof writes its profile (bench/profile.mjs)
process.on("SIGTERM", () => process.exit(0));
