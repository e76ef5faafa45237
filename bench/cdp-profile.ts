// A CPU profile through the V8 inspector (Chrome DevTools Protocol), for runtimes
// whose `run` has no --cpu-prof (Deno 2.9). The server is started with
// --inspect=127.0.0.1:IPORT; this client records SECONDS of samples and writes
// a .cpuprofile. Usage: deno run -A bench/cdp-profile.ts IPORT SECONDS OUT.cpuprofile
const [iport, seconds, out] = Deno.args;
const list = await (await fetch(`http://127.0.0.1:${iport}/json/list`)).json();
const ws = new WebSocket(list[0].webSocketDebuggerUrl);
await new Promise((r) => ws.addEventListener("open", r, { once: true }));
let id = 0;
const pending = new Map<number, (v: any) => void>();
ws.addEventListener("message", (e) => {
  const msg = JSON.parse(e.data);
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)!(msg.result ?? msg.error);
    pending.delete(msg.id);
  }
});
const send = (method: string, params: unknown = {}) =>
  new Promise<any>((resolve) => {
    const n = ++id;
    pending.set(n, resolve);
    ws.send(JSON.stringify({ id: n, method, params }));
  });
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 1000 });
await send("Profiler.start");
console.log("profiling");
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const { profile } = await send("Profiler.stop");
await Deno.writeTextFile(out, JSON.stringify(profile));
ws.close();
