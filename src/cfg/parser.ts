// Stage 3: tokens -> syntax tree, by recursive descent over Kamailio's grammar
// (cfg.y). This file reads the top level: global settings, loadmodule,
// modparam and route blocks; a block's statements are parse-statement.ts and
// expressions parse-expression.ts, all on one TokenCursor. Nothing is evaluated here.
import type { Token } from "./lexer.ts";
import { FALSE_WORDS, TRUE_WORDS } from "./parse-expression.ts";
import { parseBlock } from "./parse-statement.ts";
import type { CfgTree, RouteBlock } from "./syntax-tree.ts";
import { TokenCursor } from "./token-cursor.ts";

export type { Arg, CaseLabel, CfgTree, Expr, RouteBlock, Stmt, SwitchCase } from "./syntax-tree.ts";

const ROUTE_KINDS = new Set(["request_route", "route", "event_route", "onreply_route", "reply_route", "failure_route", "branch_route", "onsend_route"]);

export function parse(tokens: Token[]): CfgTree {
  const c = new TokenCursor(tokens);
  const tree: CfgTree = { globals: [], modules: [], modparams: [], routes: [] };
  while (!c.atEnd()) parseTopLevelItem(c, tree);
  return tree;
}

function parseTopLevelItem(c: TokenCursor, tree: CfgTree): void {
  const t = c.next();
  if (t.kind === "op" && t.text === ";") return;
  if (t.kind !== "id") c.fail(t, "a global setting, loadmodule, modparam or a route block");
  if (ROUTE_KINDS.has(t.text)) {
    tree.routes.push(parseRouteBlock(c, t));
    return;
  }
  switch (t.text) {
    case "loadmodule":
      tree.modules.push(parseLoadmodule(c));
      return;
    case "modparam":
      tree.modparams.push(parseModparam(c, t));
      return;
    case "cfgengine":
      tree.cfgengine = { name: expectString(c, "the engine name string"), pos: t };
      c.skipSemicolon();
      return;
    case "loadpath":
      tree.globals.push({ name: "loadpath", value: expectString(c, "a path string"), pos: t });
      c.skipSemicolon();
      return;
  }
  tree.globals.push(parseGlobalSetting(c, t));
}

function expectString(c: TokenCursor, what: string): string {
  const t = c.next();
  return t.kind === "str" ? t.text : c.fail(t, what);
}

/** KIND[NAME] { ... }; a plain "route {" is the request_route. */
function parseRouteBlock(c: TokenCursor, t: Token): RouteBlock {
  const kind = t.text === "route" && !c.is("[") ? "request_route" : t.text;
  const name = c.is("[") ? parseRouteName(c) : kind === "request_route" ? "" : c.fail(c.peek(), `"[" and the ${t.text} name`);
  return { kind, name, body: parseBlock(c), pos: t };
}

/** [NAME]: the tokens' text run together, so event_route[microhttpd:request] is one name. */
function parseRouteName(c: TokenCursor): string {
  c.expect("[");
  let name = "";
  while (!c.is("]")) {
    const t = c.next();
    if (t.kind === "eof") c.fail(t, '"]"');
    name += t.text;
  }
  c.next();
  if (name === "") c.fail(c.peek(), "a route name");
  return name;
}

/** loadmodule "file.so" or loadmodule("file.so") */
function parseLoadmodule(c: TokenCursor): CfgTree["modules"][number] {
  const paren = c.is("(") && (c.next(), true);
  const at = c.peek();
  const module = { name: expectString(c, "a module file name string"), pos: at };
  if (paren) c.expect(")");
  c.skipSemicolon();
  return module;
}

/** modparam("module", "name", value) */
function parseModparam(c: TokenCursor, t: Token): CfgTree["modparams"][number] {
  c.expect("(");
  const module = expectString(c, "the module name string");
  c.expect(",");
  const name = expectString(c, "the parameter name string");
  c.expect(",");
  const value = parseModparamValue(c);
  c.expect(")");
  c.skipSemicolon();
  return { module, name, value, pos: t };
}

function parseModparamValue(c: TokenCursor): string | number {
  const v = c.next();
  if (v.kind === "str") return c.joinAdjacentStrings(v);
  if (v.kind === "num") return v.num!;
  if (c.minusBeforeNumber(v)) return -c.next().num!;
  return c.fail(v, "the parameter value (a string or a number)");
}

/** name = value: the value runs to the end of the line (listen=udp:1.2.3.4:5060) */
function parseGlobalSetting(c: TokenCursor, t: Token): CfgTree["globals"][number] {
  c.expect("=", `"=" after the global setting ${t.text}`);
  const first = c.peek();
  if (first.kind === "eof" || first.line !== t.line) c.fail(first, `a value for ${t.text}`);
  const parts: Token[] = [];
  while (!c.atEnd() && c.peek().line === first.line && c.peek().file === first.file && !c.is(";")) parts.push(c.next());
  c.skipSemicolon();
  return { name: t.text, value: globalValue(parts), pos: t };
}

/** A number, a negative number or a boolean word is a number; anything else the text as written, without blanks. */
function globalValue(parts: Token[]): string | number {
  if (parts.length === 1 && parts[0].kind === "num") return parts[0].num!;
  if (parts.length === 2 && parts[0].text === "-" && parts[1].kind === "num") return -parts[1].num!;
  if (parts.length === 1 && parts[0].kind === "id" && TRUE_WORDS.has(parts[0].text.toLowerCase())) return 1;
  if (parts.length === 1 && parts[0].kind === "id" && FALSE_WORDS.has(parts[0].text.toLowerCase())) return 0;
  return parts.map((p) => p.text).join("");
}
