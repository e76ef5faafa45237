// The Hono app of the benchmark, shared by hono-{bun,deno,node}.ts: the same
// workloads as the bare servers, through Hono's router and Context.
import { Hono } from "hono";
import type { GetConnInfo } from "hono/conninfo";

export function benchApp(workload: string, getConnInfo: GetConnInfo): Hono {
  const app = new Hono();
  if (workload === "post") {
    app.post("/", async (c) => c.text(String((await c.req.text()).length)));
  } else if (workload === "headers") {
    app.get("/", (c) => {
      const ip = getConnInfo(c).remote.address ?? "";
      return c.text(`${c.req.header("x-bench-a")}${c.req.header("x-bench-b")}${c.req.header("user-agent")} ${ip}`);
    });
  } else {
    app.get("/", (c) => c.text("Hello"));
  }
  return app;
}
