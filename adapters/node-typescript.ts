// TypeScript routes and KEMI scripts on Node 20, which has no TypeScript of its own.
// esbuild compiles the route and the files it imports by path into one ES module,
// which is written next to the route for the moment of the import, so that its
// package imports resolve as the route's own would (Node's resolver, not a copy of
// it), and removed once imported. Packages stay Node's to load, except those that
// ship TypeScript sources, which are compiled in too. Where the route's directory
// cannot be written (a read-only image), the module goes to a temporary directory
// and its package imports are pinned to the files esbuild finds from the route's
// directory, with Node's conditions (node, import, default) and main field.
//
// Why not a module loader (tsx): Node 20 runs loader hooks on a thread of their
// own, ≈ 11 MiB of RSS before any hook and ≈ 30 MiB with tsx's, for the life of the
// process; and tsx runs a .ts file outside a "type": "module" package as CommonJS,
// which fails on import.meta and top-level await. esbuild's compiler is a child
// process, stopped once nothing is compiling.
import type { Message, Plugin } from "esbuild";
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const isTypeScript = (file: string) => /\.[mc]?tsx?$/i.test(file);

const RESOLVING = Symbol("mhttpd.resolving");

/** Package imports stay imports for Node to load, unless the package's file is
 * TypeScript (tsconfig "paths" land here too); `pin`: as the file's URL. */
function packageImports(pin: boolean): Plugin {
  return {
    name: "mhttpd-packages",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === RESOLVING || args.path.startsWith("node:")) return undefined;
        const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVING });
        if (found.errors.length > 0 || found.external) return { path: args.path, external: true }; // Node says what is wrong
        if (isTypeScript(found.path)) return { path: found.path };
        return { path: pin ? pathToFileURL(found.path).href : args.path, external: true };
      });
    },
  };
}

/** A compiled file's import.meta.url, .filename and .dirname are its own, not the
 * compiled module's: each file that uses them gets variables in its scope (on its
 * first line, so line numbers hold), and `define` points import.meta.* at them. */
const META = { "import.meta.url": "__mhttpdMetaUrl", "import.meta.filename": "__mhttpdMetaFilename", "import.meta.dirname": "__mhttpdMetaDirname" };
const importMetaOfEachFile: Plugin = {
  name: "mhttpd-import-meta",
  setup(b) {
    b.onLoad({ filter: /\.[mc]?[jt]sx?$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes("import.meta")) return undefined;
      const vars = `var __mhttpdMetaUrl = ${JSON.stringify(pathToFileURL(args.path).href)}, __mhttpdMetaFilename = ${JSON.stringify(args.path)}, __mhttpdMetaDirname = ${JSON.stringify(path.dirname(args.path))};`;
      // a shebang line stays a line: it is only a comment to the compiler
      const contents = source.startsWith("#!") ? `${vars}//${source.slice(2)}` : vars + source;
      const ext = path.extname(args.path).toLowerCase();
      const loader = ext.endsWith("tsx") ? "tsx" : ext.endsWith("jsx") ? "jsx" : ext.includes("t") ? "ts" : "js";
      return { contents, loader };
    });
  },
};

/** esbuild's first error as a compiler would print it: file:line:column: text. A
 * module that cannot be found is ERR_MODULE_NOT_FOUND, as Node's own import says. */
function compileError(file: string, errors: Message[]): Error {
  const e = errors[0];
  const at = e?.location ? `${path.resolve(e.location.file)}:${e.location.line}:${e.location.column + 1}` : file;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? "s" : ""})` : "";
  const text = e?.text ?? "TypeScript compilation failed";
  if (text.startsWith("Could not resolve")) return Object.assign(new Error(`${at}: ${text}${more}`), { code: "ERR_MODULE_NOT_FOUND" });
  return new SyntaxError(`${at}: ${text}${more}`);
}

let compiling = 0;

/** The route at `file` and what it imports by path, as one ES module to be written at `out`. */
async function compile(file: string, out: string, pinPackages: boolean): Promise<string> {
  const { build, stop } = await import("esbuild");
  compiling++;
  try {
    const result = await build({
      entryPoints: [file],
      outfile: out, // sources in the source map are relative to it
      write: false,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "inline",
      sourcesContent: false,
      // what Node's import resolution uses: no "module" condition or field
      conditions: [],
      mainFields: ["main"],
      define: META,
      logLevel: "silent",
      plugins: [packageImports(pinPackages), importMetaOfEachFile],
    }).catch((e: { errors?: Message[] }) => {
      throw e.errors ? compileError(file, e.errors) : e;
    });
    return result.outputFiles[0].text;
  } finally {
    // esbuild's child process lives until stopped
    if (--compiling === 0) void stop();
  }
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
