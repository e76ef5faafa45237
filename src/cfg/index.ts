// Kamailio's configuration language (kamailio.cfg) as an mhttpd route. The
// stages, each in its own file, in the order they run; no stage reaches back:
//   lexer.ts           text -> tokens (cfg.lex)
//   preprocess.ts      #!define, #!ifdef, #!subst, include_file on the tokens
//   parser.ts          tokens -> syntax tree (cfg.y): the top level; a block's
//                      statements in parse-statement.ts, expressions in
//                      parse-expression.ts, the tree's types in syntax-tree.ts
//   settings.ts        loadmodule, modparam, global settings checked and applied
//   suspend.ts         which statements can reach a function that waits
//   compile-*.ts       syntax tree -> closures (action.c, rvalue.c), with the
//                      tables functions.ts and transformations.ts, the variables
//                      of pvs.ts, htable.ts, and values.ts for conversions;
//                      compile-suspending.ts for the statements that can wait
//   runtime.ts         the per-request run state the closures share
//   program.ts         all of the above for one file: compileCfg
//   load-route.ts      the route mhttpd runs: the event route or a KEMI callback
export { CfgSyntaxError } from "./lexer.ts";
export { compileCfg, EVENT_ROUTE, type CfgProgram } from "./program.ts";
export { loadCfgRoute } from "./load-route.ts";
export { EVENT_NAME } from "../ksr-api.ts";
