// The compiling half of ./node-typescript.ts, run by Node as a child process
// (dist/node-typescript-compiler.mjs), so that esbuild's JavaScript API, ≈ 10 MiB
// of RSS once loaded in a process and kept there, never enters the server's. One
// job as JSON in argv[2]: { file, out, pinPackages }; one JSON answer on stdout:
// { code } or { error, name, errorCode }.
import { build, type Message, type Plugin } from "esbuild";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

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

/** The route at `file` and what it imports by path, as one ES module to be written at `out`. */
async function compile(file: string, out: string, pinPackages: boolean): Promise<string> {
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
}

const job = JSON.parse(process.argv[2] ?? "{}") as { file: string; out: string; pinPackages: boolean };
let answer: string;
try {
  answer = JSON.stringify({ code: await compile(job.file, job.out, job.pinPackages) });
} catch (e) {
  const err = e as Error & { code?: string };
  answer = JSON.stringify({ error: err?.message ?? String(e), name: err?.name, errorCode: err?.code });
}
// exit once written: esbuild's service would keep the process alive
process.stdout.write(answer, () => process.exit(0));
