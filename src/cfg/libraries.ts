// What a parsed .cfg needs loaded before it compiles, of the libraries only some
// files use (src/on-demand.ts): the compiler builds every pattern while it
// compiles (a bad one stops start-up there, naming its place), synchronously, and
// checks the microhttpd modparams with the parameters' own schemas. The .cfg
// loader calls this between parsing and compiling; createFetchHandler has them
// from static imports.
import { prepareParams } from "../config.ts";
import { ereEngine } from "../ere.ts";
import type { CfgTree, Expr, Stmt } from "./syntax-tree.ts";

export async function loadCfgLibraries(tree: CfgTree): Promise<void> {
  const microhttpd = tree.modparams.filter((p) => p.module.toLowerCase() === "microhttpd");
  await Promise.all([
    // url_match, allowed_ips ...: the same loads as from any other source
    prepareParams({ route: Object.fromEntries(microhttpd.map((p) => [p.name, p.value])) }),
    tree.routes.some((r) => r.body.some(statementMatches)) ? ereEngine.load() : undefined,
  ]);
}

/** the statement has a pattern: `=~`, or a switch's regex case (/"...") */
function statementMatches(s: Stmt): boolean {
  switch (s.k) {
    case "expr":
    case "assign":
      return expressionMatches(s.e);
    case "if":
      return expressionMatches(s.cond) || s.then.some(statementMatches) || (s.else?.some(statementMatches) ?? false);
    case "while":
      return expressionMatches(s.cond) || s.body.some(statementMatches);
    case "switch":
      return expressionMatches(s.e) || s.cases.some((c) => c.label?.k === "re" || c.body.some(statementMatches));
    case "return":
    case "exit":
      return s.e !== undefined && expressionMatches(s.e);
    case "drop":
    case "break":
      return false;
    default:
      return unknownNode(s);
  }
}

function expressionMatches(e: Expr): boolean {
  switch (e.k) {
    case "bin":
      return e.op === "=~" || expressionMatches(e.l) || expressionMatches(e.r);
    case "un":
      return expressionMatches(e.e);
    case "selval":
      return expressionMatches(e.c) || expressionMatches(e.a) || expressionMatches(e.b);
    case "route":
      return typeof e.target !== "string" && expressionMatches(e.target);
    // a function's arguments are strings, numbers, words and variables: no pattern
    case "call":
    case "num":
    case "str":
    case "pv":
      return false;
    default:
      return unknownNode(e);
  }
}

/** a node kind added to syntax-tree.ts fails the type check here until it is walked */
function unknownNode(node: never): never {
  throw new Error(`internal: syntax tree node ${JSON.stringify((node as { k?: unknown }).k)} is not walked by loadCfgLibraries`);
}
