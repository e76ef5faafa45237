// Starting worker processes (workers > 1) for the Bun and Deno adapters, and the
// small helpers every adapter shares. Node uses node:cluster instead (adapters/node.ts).
import { spawn } from "node:child_process";
import net from "node:net";
import process from "node:process";
import type { Readable } from "node:stream";
import type { SupervisorChannel } from "../src/metrics/cluster.ts";
import type { WorkerEvents, WorkerHandle } from "../src/supervisor.ts";

/** call `line` for each line of a worker's stdout */
export function eachLine(stream: Readable, line: (l: string) => void): void {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const p of parts) line(p);
  });
  stream.on("end", () => rest && line(rest));
}

/** Start `cmd args` as a worker: stdin is a pipe whose end tells the worker its
 * supervisor is gone, stdout comes through the supervisor (listening lines,
 * access log), stderr is shared; with events.message, an IPC channel too
 * (node:child_process's, which Bun and Deno both speak). */
export function spawnWorkerProcess(cmd: string, args: string[], env: Record<string, string>, events: WorkerEvents): WorkerHandle {
  const ipc = events.message !== undefined;
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ipc ? ["pipe", "pipe", "inherit", "ipc"] : ["pipe", "pipe", "inherit"] });
  eachLine(child.stdout!, events.stdout);
  child.on("exit", (code, signal) => events.exit(code, signal));
  if (ipc) {
    child.on("message", (m) => events.message!(m));
    // a worker that has gone: its exit event tells
    child.on("error", () => {});
  }
  // the worker may have gone already; its exit event tells
  child.stdin!.on("error", () => {});
  // process.kill, not child.kill: Deno's child.kill (2.x) signals the child once
  // more when it exits after a SIGTERM, turning a graceful drain into a kill
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, signal);
    } catch {
      // gone already: its exit event tells
    }
  };
  const send = (message: unknown) => {
    if (child.connected) child.send(message as object, (e) => void e);
  };
  return { pid: child.pid, kill, ...(ipc && { send }) };
}

/** A worker's IPC channel to its supervisor: node:process's, present when the
 * supervisor started it with one. */
export function processChannel(proc: Pick<NodeJS.Process, "send" | "on" | "connected">): SupervisorChannel | undefined {
  if (typeof proc.send !== "function") return undefined;
  return {
    send(message) {
      // the supervisor gone: the worker stops on stdin's end
      if (proc.connected) proc.send!(message, undefined, undefined, (e: Error | null) => void e);
    },
    onMessage: (handler) => void proc.on("message", handler),
  };
}

/** a port that is free on `hostname` now: the workers all bind it */
export function freePort(hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, hostname, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A worker whose supervisor is gone (killed with SIGKILL) stops as on SIGTERM:
 * the end of its stdin, a pipe from the supervisor, tells. */
export function onSupervisorGone(stop: () => void): void {
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}
