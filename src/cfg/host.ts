// Files, paths and two Node built-ins for the cfg reader, without a static import
// of any node: module: on Deno the first node: import loads its whole Node
// compatibility layer (node:fs alone is ≈ 12 MiB of RSS). Deno reads files with its
// own API; elsewhere, and for hashing and base64 on Deno too, the built-in comes on
// first use through process.getBuiltinModule (Node ≥ 20.16, Bun, Deno 2, workerd
// with nodejs_compat).
type Builtins = {
  fs: typeof import("node:fs");
  crypto: typeof import("node:crypto");
  buffer: typeof import("node:buffer");
};
type Host = {
  Deno?: { readTextFileSync(path: string): string; readDirSync(path: string): Iterable<{ name: string; isFile: boolean }>; cwd(): string };
  process?: { getBuiltinModule(id: string): unknown; cwd(): string };
};
const host = globalThis as unknown as Host;

export function builtin<K extends keyof Builtins>(name: K): Builtins[K] {
  if (!host.process?.getBuiltinModule) throw new Error(`node:${name} is not available on this platform`);
  return host.process.getBuiltinModule(`node:${name}`) as Builtins[K];
}

/** A file's text (UTF-8); errors carry `code` (ENOENT, EACCES, ...) on every runtime. */
export function readTextFile(file: string): string {
  return host.Deno ? host.Deno.readTextFileSync(file) : builtin("fs").readFileSync(file, "utf8");
}

/** The text of the files of a directory whose names match (sorted by name). */
export function readdirFiles(dir: string, names: RegExp): string[] {
  const list = host.Deno ? [...host.Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name) : builtin("fs").readdirSync(dir);
  return list
    .filter((n) => names.test(n))
    .sort()
    .map((n) => readTextFile(`${dir.replace(/\/$/, "")}/${n}`));
}

/** path.resolve(path.dirname(fromFile), name), for POSIX paths. */
export function resolveFrom(fromFile: string, name: string): string {
  let base = name.startsWith("/") ? name : fromFile.slice(0, fromFile.lastIndexOf("/") + 1) + name;
  if (!base.startsWith("/")) base = `${host.Deno?.cwd() ?? host.process?.cwd() ?? ""}/${base}`;
  const parts: string[] = [];
  for (const part of base.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** url.pathToFileURL(file).href for an absolute POSIX path. */
export function fileUrlOf(file: string): string {
  return `file://${encodeURI(file).replace(/[?#]/g, encodeURIComponent)}`;
}

/** url.fileURLToPath(url) for a file: URL. */
export function filePathOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname);
}
