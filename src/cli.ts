// The command line, the same on every runtime:
//   mhttpd [ROUTE_FILE | -f FILE] [--listen-port 8284] [--listen-port=8284] ...
// (-f FILE as Kamailio takes its configuration file)
// Every parameter of PARAMS is a flag (underscores written as dashes).
import { PARAMS, PARAM_NAMES, type ParamName } from "./params.ts";
import { StartupError } from "./route.ts";

export interface CommandLine {
  routeFile?: string;
  /** flag values, strings as typed; repeatable parameters collect arrays */
  values: Partial<Record<ParamName, unknown>>;
  help: boolean;
  version: boolean;
}

const FLAG_TO_PARAM = new Map<string, ParamName>(PARAM_NAMES.map((n) => [`--${n.replace(/_/g, "-")}`, n]));

export function parseCommandLine(argv: string[]): CommandLine {
  const out: CommandLine = { values: {}, help: false, version: false };
  const setFile = (f: string) => {
    if (out.routeFile !== undefined) throw new StartupError(`more than one route file given: ${out.routeFile} and ${f}`);
    out.routeFile = f;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") out.help = true;
    else if (arg === "-v" || arg === "--version") out.version = true;
    else if (arg === "-f") {
      if (i + 1 >= argv.length) throw new StartupError("-f needs a file name");
      setFile(argv[++i]);
    } else if (arg.startsWith("-") && arg !== "-") {
      const eq = arg.indexOf("=");
      const flag = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/_/g, "-");
      const name = FLAG_TO_PARAM.get(flag);
      if (!name) throw new StartupError(`unknown option ${arg} (see --help)`);
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new StartupError(`option ${flag} needs a value`);
      if (PARAMS[name].repeatable) out.values[name] = [...((out.values[name] as string[]) ?? []), value];
      else out.values[name] = value;
    } else setFile(arg);
  }
  return out;
}

export function usage(): string {
  const lines = [
    "usage: mhttpd [ROUTE_FILE | -f ROUTE_FILE] [options]",
    "",
    "ROUTE_FILE is a kamailio.cfg-style .cfg file or a .ts/.js KEMI module",
    "(default: config/default.cfg, the module's documented example).",
    "Options (also MHTTPD_<NAME> in the environment, or the route module's `config` export):",
  ];
  for (const name of PARAM_NAMES) {
    const p = PARAMS[name];
    const flag = `--${name.replace(/_/g, "-")} ${p.type === "int" ? "N" : "VALUE"}`;
    lines.push(`  ${flag.padEnd(28)} ${p.doc}`);
    lines.push(`  ${"".padEnd(28)} allowed: ${p.allowed}; default: ${JSON.stringify(p.default)}`);
  }
  lines.push("  -h, --help                   this text", "  -v, --version                the version");
  return lines.join("\n");
}
