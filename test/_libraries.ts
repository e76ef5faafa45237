// In-process tests call what start-up calls only after it loaded the libraries
// that some configurations need (src/on-demand.ts): compileCfg with a pattern,
// resolveParams with url_match or allowed_ips. Imported for its effect: both are
// loaded once, before the importing file's tests run.
import { ereEngine } from "../src/ere.ts";
import { addressLibrary } from "../src/ip.ts";

await Promise.all([ereEngine.load(), addressLibrary.load()]);
