// Bare Deno.serve answering the benchmark workloads; usage: deno run -A bare-deno.ts PORT WORKLOAD
const port = Number(Deno.args[0]);
const workload = Deno.args[1] ?? "hello";
const TEXT = { "content-type": "text/plain" };

const handlers: Record<string, Deno.ServeHandler> = {
  hello: () => new Response("Hello", { headers: TEXT }),
  post: async (req) => new Response(String((await req.text()).length), { headers: TEXT }),
  headers: (req, info) => {
    const h = req.headers;
    const ip = (info.remoteAddr as Deno.NetAddr).hostname;
    return new Response(`${h.get("x-bench-a")}${h.get("x-bench-b")}${h.get("user-agent")} ${ip}`, { headers: TEXT });
  },
};
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handlers[workload]);
console.log(`bare listening on http://127.0.0.1:${port} (deno)`);
// exit at once on SIGTERM (the benchmark stops every server that way)
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
