// The command line, the same on every runtime:
//   mhttpd [ROUTE_FILE | -f FILE] [--listen-port 8284] [--listen-port=8284] ...
// Every parameter of PARAMS is a flag (underscores written as dashes). Kamailio's
// own options are taken as `kamailio` takes them (src/main.c, getopt: short options
// may be grouped, `-dd`, `-Ec`; an option's argument may follow it, `-fFILE`):
//   -f FILE, -c, -A NAME[=VALUE], -d (repeatable), -V/-v, -h, -E, -D...,
//   --modparam=microhttpd:NAME:TYPE:VALUE, --debug=N
// and the Kamailio options that mean nothing for an HTTP server are refused by name.
import { ConfigError } from "./errors.ts";
import { L_DBG, parseLogLevel } from "./log.ts";
import { PARAMS, PARAM_NAMES, type ParamName } from "./params.ts";

export interface CommandLine {
  routeFile?: string;
  /** flag values, strings as typed (--modparam ints as numbers); repeatable parameters collect arrays */
  values: Partial<Record<ParamName, unknown>>;
  /** how each value was given, for messages: "--listen-port", "-d", "--modparam=microhttpd:listen_port:i:8284" */
  origins: Partial<Record<ParamName, string>>;
  /** -A NAME[=VALUE]: #!define lines for a .cfg route, in order */
  defines: Record<string, string>;
  /** -c: load and compile the route and parameters, then exit */
  check: boolean;
  /** -E and -D... as given: they change nothing here (always stderr, always in the foreground) */
  foreground: string[];
  help: boolean;
  version: boolean;
}

const FLAG_TO_PARAM = new Map<string, ParamName>(PARAM_NAMES.map((n) => [`--${n.replace(/_/g, "-")}`, n]));

/** Kamailio's options that have no meaning for mhttpd, and why. */
const REFUSED_SHORT: Record<string, { takesValue: boolean; why: string }> = {
  a: { takesValue: true, why: "auto aliases are SIP domain aliases" },
  b: { takesValue: true, why: "UDP receive buffers: mhttpd has no UDP socket" },
  B: { takesValue: true, why: "UDP send buffers: mhttpd has no UDP socket" },
  e: { takesValue: false, why: "mhttpd's log lines are plain text, without terminal colours" },
  g: { takesValue: true, why: "mhttpd does not change its group; run it as the group wanted (systemd Group=, docs/deploy.md)" },
  G: { takesValue: true, why: "mhttpd stays in the foreground and writes no pgid file; the service manager tracks it" },
  I: { takesValue: false, why: "there are no compile flags to print; -V prints the version" },
  K: { takesValue: false, why: "Via host checking is SIP" },
  l: { takesValue: true, why: "SIP listen addresses; mhttpd's HTTP sockets are --listen-socket, or --listen-addr and --listen-port" },
  L: { takesValue: true, why: "mhttpd's modules are built in: there is no module path" },
  m: { takesValue: true, why: "the runtime manages memory: there is no shared memory pool to size" },
  M: { takesValue: true, why: "the runtime manages memory: there is no private memory pool to size" },
  n: { takesValue: true, why: "SIP worker processes; mhttpd's are --workers" },
  N: { takesValue: true, why: "TCP worker processes are SIP; mhttpd's are --workers" },
  O: { takesValue: true, why: "a .cfg route is compiled once at start-up, with no optimization levels" },
  P: { takesValue: true, why: "mhttpd stays in the foreground and writes no pid file; the service manager tracks it" },
  Q: { takesValue: true, why: "SCTP worker processes are SIP" },
  r: { takesValue: false, why: "received= in Via is SIP" },
  R: { takesValue: false, why: "received= in Via is SIP" },
  S: { takesValue: false, why: "SCTP is a SIP transport" },
  t: { takesValue: true, why: "mhttpd does not chroot; use the service manager's (systemd RootDirectory=)" },
  T: { takesValue: false, why: "TCP for SIP; mhttpd serves HTTP over TCP" },
  u: { takesValue: true, why: "mhttpd does not change its user; run it as the user wanted (systemd User=, docs/deploy.md)" },
  w: { takesValue: true, why: "mhttpd keeps its working directory; use the service manager's (systemd WorkingDirectory=)" },
  W: { takesValue: true, why: "the poll method is the runtime's event loop" },
  x: { takesValue: true, why: "the runtime manages memory: there is no shared memory manager to choose" },
  X: { takesValue: true, why: "the runtime manages memory: there is no private memory manager to choose" },
  Y: { takesValue: true, why: "mhttpd writes no runtime files (no FIFO, no control socket)" },
};

const REFUSED_LONG: Record<string, string> = {
  "--alias": "domain aliases are SIP",
  "--domain": "domain aliases are SIP",
  "--subst": "write #!subst in the .cfg file",
  "--substdef": "write #!substdef in the .cfg file",
  "--substdefs": "write #!substdefs in the .cfg file",
  "--server-id": "server_id belongs to SIP clustering",
  "--loadmodule": 'mhttpd\'s modules are built in; a .cfg route names them with loadmodule "name.so"',
  "--log-engine": "mhttpd writes its log to stderr, one line per entry",
  "--cfg-print": "mhttpd does not print the preprocessed file; -c checks it",
  "--atexit": "there are no external libraries' exit callbacks to control",
  "--all-errors": "a .cfg error stops at the first one, with its file:line:column",
  "--iuid": "the instance unique id belongs to SIP clustering",
};

const DEFINE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse the command line; a ConfigError (exit 78) names what is wrong. */
export function parseCommandLine(argv: string[]): CommandLine {
  const out: CommandLine = { values: {}, origins: {}, defines: {}, check: false, foreground: [], help: false, version: false };
  const setFile = (f: string) => {
    if (out.routeFile !== undefined) throw new ConfigError(`more than one route file given: ${out.routeFile} and ${f}`);
    out.routeFile = f;
  };
  const set = (name: ParamName, value: unknown, origin: string) => {
    if (PARAMS[name].repeatable) out.values[name] = [...((out.values[name] as unknown[]) ?? []), value];
    else out.values[name] = value;
    out.origins[name] = origin;
  };
  // -d counts from 0 as in Kamailio (its L_WARN), or from a --debug given before it
  const raiseDebug = () => {
    let level = 0;
    if (out.values.debug !== undefined) {
      try {
        level = parseLogLevel(out.values.debug);
      } catch (e) {
        throw new ConfigError(`invalid debug ${JSON.stringify(out.values.debug)} (from ${out.origins.debug}) before -d: ${(e as Error).message}`);
      }
    }
    set("debug", Math.min(L_DBG, level + 1), "-d");
  };
  const define = (spec: string) => {
    const eq = spec.indexOf("=");
    const name = eq >= 0 ? spec.slice(0, eq) : spec;
    if (!DEFINE_NAME.test(name)) throw new ConfigError(`-A ${JSON.stringify(spec)}: the name must be letters, digits and _ (not starting with a digit), as -A NAME or -A NAME=VALUE`);
    if (name in out.defines) throw new ConfigError(`-A ${name}: already defined by an earlier -A`);
    out.defines[name] = eq >= 0 ? spec.slice(eq + 1) : "";
  };

  let optionsEnd = argv.length; // "--" ends the options, as in getopt: npx passes it on
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (i >= optionsEnd) {
      setFile(arg);
      continue;
    }
    if (arg === "--") {
      optionsEnd = i + 1;
      continue;
    }
    /** the value of an option that takes one: the rest of `arg` after `at`, else the next argument */
    const valueAfter = (at: number, option: string): string => {
      if (at < arg.length) return arg.slice(at);
      if (i + 1 >= argv.length) throw new ConfigError(`option ${option} needs a value`);
      return argv[++i];
    };
    if (arg === "--help") out.help = true;
    else if (arg === "--version") out.version = true;
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const flag = eq >= 0 ? arg.slice(0, eq) : arg;
      if (REFUSED_LONG[flag]) throw new ConfigError(`${flag} is a Kamailio option with no meaning here: ${REFUSED_LONG[flag]}`);
      const value = () => (eq >= 0 ? arg.slice(eq + 1) : valueAfter(arg.length, flag));
      if (flag === "--modparam") {
        const spec = value();
        const { name, typed } = parseModparam(spec);
        set(name, typed, `--modparam=${spec}`);
        continue;
      }
      const name = FLAG_TO_PARAM.get(flag.replace(/_/g, "-"));
      if (!name) throw new ConfigError(`unknown option ${flag} (see --help)`);
      set(name, value(), flagName(name));
    } else if (arg.startsWith("-") && arg !== "-") {
      // a group of short options, as getopt reads them: -dd, -DD, -Ec, -fFILE
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j];
        if (c === "f") {
          setFile(valueAfter(j + 1, "-f"));
          break;
        } else if (c === "A") {
          define(valueAfter(j + 1, "-A"));
          break;
        } else if (c === "c") out.check = true;
        else if (c === "d") raiseDebug();
        else if (c === "E" || c === "D") out.foreground.push(`-${c}`);
        else if (c === "h") out.help = true;
        else if (c === "v" || c === "V") out.version = true;
        else if (REFUSED_SHORT[c]) throw new ConfigError(`-${c} is a Kamailio option with no meaning here: ${REFUSED_SHORT[c].why}`);
        else throw new ConfigError(`unknown option -${c}${arg.length > 2 ? ` (in ${arg})` : ""} (see --help)`);
      }
    } else setFile(arg);
  }
  return out;
}

const flagName = (name: ParamName) => `--${name.replace(/_/g, "-")}`;

/** `--modparam=modname:paramname:type:value` (Kamailio's set_mod_param_serialized):
 * type `i` for an integer, `s` for a string. Only microhttpd's parameters are
 * settable here; an integer parameter must be given as `i`, as modparam() in a
 * .cfg must give an integer (a string parameter may take an `i`: a size in bytes). */
function parseModparam(spec: string): { name: ParamName; typed: string | number } {
  const bad = (why: string) => new ConfigError(`--modparam=${spec}: ${why}`);
  const m = /^([^:]*):([^:]*):([^:]*):(.*)$/s.exec(spec);
  if (!m) throw bad("expected modname:paramname:type:value, as --modparam=microhttpd:listen_port:i:8284");
  const [, mod, param, type, value] = m;
  if (mod.toLowerCase() !== "microhttpd") throw bad(`module "${mod}": only microhttpd's parameters can be set on the command line (others go in modparam() lines of the .cfg)`);
  if (!(PARAM_NAMES as string[]).includes(param)) throw bad(`microhttpd has no parameter "${param}" (known: ${PARAM_NAMES.join(", ")})`);
  const name = param as ParamName;
  if (type !== "i" && type !== "I" && type !== "s" && type !== "S") throw bad(`type "${type}": expected i (integer) or s (string)`);
  if (type.toLowerCase() === "s") {
    if (PARAMS[name].type === "int") throw bad(`${name} is an integer parameter: give it as i (microhttpd:${name}:i:${value})`);
    return { name, typed: value };
  }
  if (!/^[+-]?\d+$/.test(value)) throw bad(`"${value}" is not an integer`);
  return { name, typed: Number(value) };
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
    const flag = `${flagName(name)} ${p.type === "int" ? "N" : "VALUE"}`;
    lines.push(`  ${flag.padEnd(28)} ${p.doc}`);
    lines.push(`  ${"".padEnd(28)} allowed: ${p.allowed}; default: ${p.defaultText ?? JSON.stringify(p.default)}`);
  }
  lines.push(
    "Kamailio's options:",
    "  -f FILE                      the route file",
    "  -c                           check the route and the parameters, print \"config file ok, exiting...\" and exit",
    "  -A NAME, -A NAME=VALUE       #!define NAME [VALUE] for a .cfg route",
    "  -d                           debug one level more, from 0 (-dd info, -ddd debug); overrides debug=",
    "  --modparam=microhttpd:NAME:TYPE:VALUE   a microhttpd parameter; TYPE i (integer) or s (string)",
    "  -E, -D, -DD                  accepted: mhttpd always logs to stderr and stays in the foreground",
    "  -h, --help                   this text",
    "  -v, -V, --version            the version and the runtime",
    "Exit status: 0 after a clean stop, 78 for a configuration error, 1 for any other failure to start.",
  );
  return lines.join("\n");
}
