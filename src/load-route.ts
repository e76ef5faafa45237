// Loading the route file named on the command line: a kamailio.cfg (by its .cfg
// extension), compiled by src/cfg/ (loaded only then), or a route module.
import { loadModuleRoute, type LoadedRoute } from "./route.ts";

/** `defines` (-A on the command line) are #!define lines, which only a .cfg has. */
export async function loadRoute(url: string, opts: { defines?: Record<string, string> } = {}): Promise<LoadedRoute> {
  const defines = opts.defines ?? {};
  if (/\.cfg$/i.test(url.replace(/[?#].*$/, ""))) {
    const { loadCfgRoute } = await import("./cfg/index.ts");
    return loadCfgRoute(url, defines);
  }
  return loadModuleRoute(url, defines);
}
