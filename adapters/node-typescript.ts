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
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** dist/node-typescript-compiler.mjs, beside dist/node.mjs (scripts/build-node.mjs) */
const COMPILER = fileURLToPath(new URL("./node-typescript-compiler.mjs", import.meta.url));

/** The route at `file` and what it imports by path, as one ES module to be written at `out`. */
function compile(file: string, out: string, pinPackages: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [COMPILER, JSON.stringify({ file, out, pinPackages })], { maxBuffer: 1 << 30 }, (e, stdout) => {
      let answer: { code?: string; error?: string; name?: string; errorCode?: string };
      try {
        answer = JSON.parse(stdout);
      } catch {
        return reject(new Error(`the TypeScript compiler (${COMPILER}) failed: ${e?.message ?? "no answer"}`));
      }
      if (answer.code !== undefined) return resolve(answer.code);
      const err = answer.name === "SyntaxError" ? new SyntaxError(answer.error) : new Error(answer.error);
      reject(Object.assign(err, answer.errorCode && { code: answer.errorCode }));
    });
  });
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
