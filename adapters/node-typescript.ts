// TypeScript routes and KEMI scripts on Node 20, which has no TypeScript of its own.
// esbuild compiles the route and the files it imports by path into one ES module
// (./node-typescript-compiler.ts, in a child process), which is written next to the
// route for the moment of the import, so that its package imports resolve as the
// route's own would (Node's resolver, not a copy of it), and removed once imported.
// Packages stay Node's to load, except those that ship TypeScript sources, which
// are compiled in too. Where the route's directory cannot be written (a read-only
// image), the module goes to a temporary directory and its package imports are
// pinned to the files esbuild finds from the route's directory, with Node's
// conditions (node, import, default) and main field.
//
// Why not a module loader (tsx): Node 20 runs loader hooks on a thread of their
// own, ≈ 11 MiB of RSS before any hook and ≈ 30 MiB with tsx's, for the life of the
// process; and tsx runs a .ts file outside a "type": "module" package as CommonJS,
// which fails on import.meta and top-level await.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** dist/node-typescript-compiler.mjs, beside dist/node.mjs (scripts/build-node.mjs) */
const COMPILER = fileURLToPath(new URL("./node-typescript-compiler.mjs", import.meta.url));

/** The route at `file` and what it imports by path, as one ES module to be written at `out`.
 *
 * Synchronous on purpose (this runs at start-up, before the server listens): the
 * compiled module, source map included, comes back through the child's stdout,
 * and read through an asynchronous pipe it runs Node's stream code on a Pipe
 * socket in this process, the code every TCP connection then runs. Once V8's
 * memory reducer has run (≈ 8 s after start when the server idles) that code was
 * left ≈ 25 % slower per request for the life of the process (docs/benchmarks.md
 * "Node after an idle start"); spawnSync reads the output natively and does not. */
function compile(file: string, out: string, pinPackages: boolean): Promise<string> {
  const run = spawnSync(process.execPath, [COMPILER, JSON.stringify({ file, out, pinPackages })], { maxBuffer: 1 << 30, encoding: "utf8" });
  let answer: { code?: string; error?: string; name?: string; errorCode?: string } | null = null;
  try {
    answer = JSON.parse(run.stdout ?? "");
  } catch {
    // no answer: said below
  }
  if (typeof answer !== "object" || answer === null) {
    const why = run.error?.message ?? (run.signal ? `killed by ${run.signal}` : `exit status ${run.status}`);
    const said = run.stderr?.trim().split("\n")[0];
    return Promise.reject(new Error(`the TypeScript compiler (${COMPILER}) failed: ${why}${said ? `: ${said}` : ""}`));
  }
  if (answer.code !== undefined) return Promise.resolve(answer.code);
  const err = answer.name === "SyntaxError" ? new SyntaxError(answer.error) : new Error(answer.error);
  return Promise.reject(Object.assign(err, answer.errorCode && { code: answer.errorCode }));
}

async function importFile(out: string, file: string): Promise<unknown> {
  try {
    return await import(pathToFileURL(out).href);
  } catch (e) {
    // what Node says of the compiled module is said of the route
    if (e instanceof Error) e.message = e.message.replaceAll(out, file);
    throw e;
  }
}

/** Import the module at `url` (a file: URL), compiled as described above. */
export async function importCompiled(url: string): Promise<unknown> {
  const file = fileURLToPath(url);
  // a route that is not there: Node's own error says so
  if (!(await stat(file).catch(() => undefined))) return import(url);
  process.setSourceMapsEnabled(true); // stack traces name the TypeScript file and line
  const beside = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${Date.now().toString(36)}.mhttpd.mjs`);
  const code = await compile(file, beside, false);
  const written = await writeFile(beside, code, { flag: "wx" }).then(
    () => true,
    () => false,
  );
  if (written) {
    try {
      return await importFile(beside, file);
    } finally {
      await unlink(beside).catch(() => {});
    }
  }
  const dir = await mkdtemp(path.join(tmpdir(), "mhttpd-"));
  try {
    const out = path.join(dir, "route.mhttpd.mjs");
    await writeFile(out, await compile(file, out, true), { flag: "wx" });
    return await importFile(out, file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
