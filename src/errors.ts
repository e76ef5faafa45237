// The errors that stop start-up, and the exit statuses they map to. A module of its
// own so that every layer (parameters, the cfg compiler, route loading, start-up)
// can throw them without importing the others.

/** A start-up that cannot go on because of the configuration: the command line, the
 * environment, the route file, a parameter, the TLS files. Exits EXIT_CONFIG. */
export class StartupError extends Error {}

/** A parameter with a bad value, or an unknown one: the message names the value,
 * where it came from and what is allowed. */
export class ConfigError extends StartupError {}

/** A start-up that failed for a reason a restart may cure (a module's server that
 * cannot be reached): exits EXIT_FAILURE with its message. */
export class StartupFailure extends Error {}

/** Exit status for a configuration error (sysexits.h EX_CONFIG): a restart cannot
 * cure it, and a service manager can tell it from the rest (systemd:
 * RestartPreventExitStatus=78). */
export const EXIT_CONFIG = 78;
/** Exit status for a start-up that failed otherwise (a port in use, a crash while
 * starting), which a restart may cure. A clean stop exits 0. */
export const EXIT_FAILURE = 1;
