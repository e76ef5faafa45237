// Loading the route file named on the command line: a kamailio.cfg (by its .cfg
// extension), compiled by src/cfg/ (loaded only then), or a route module.
import type { SqliteBinding } from "./modules/sql-drivers.ts";
import { loadModuleRoute, type LoadedRoute } from "./route.ts";

/** The file URL of a route path as the command line gives it: relative to `cwd`,
 * every byte of the name kept (a URL of any scheme is taken as it is). */
export function fileUrl(path: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  const base = "file://" + cwd.split("/").map(encodeURIComponent).join("/") + "/";
  return new URL(path.split("/").map(encodeURIComponent).join("/"), base).href;
}

/** `defines` (-A on the command line) are #!define lines, which only a .cfg has;
 * `sqlite`, the runtime's SQLite, is for the sqlops connections only a .cfg declares. */
export async function loadRoute(url: string, opts: { defines?: Record<string, string>; sqlite?: () => Promise<SqliteBinding> } = {}): Promise<LoadedRoute> {
  const defines = opts.defines ?? {};
  if (/\.cfg$/i.test(url.replace(/[?#].*$/, ""))) {
    const { loadCfgRoute } = await import("./cfg/index.ts");
    return loadCfgRoute(url, defines, opts.sqlite);
  }
  return loadModuleRoute(url, defines);
}
