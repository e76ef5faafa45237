// The shape of the code, as docs/architecture.md promises it: imports without
// cycles (type imports included: a cycle of types is still two files that cannot
// be read one after the other), files under 400 lines unless the file says at its
// top why it is longer, functions under 120 lines. Measured with the TypeScript
// compiler's own parser, on src/ and adapters/.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { ROOT } from "./_harness.ts";

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 120;
/** a file over MAX_FILE_LINES says why in its opening comment with these words */
const LONG_FILE_REASON = /longer than 400 lines because/i;

function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts")) out.push(p);
    }
  };
  walk(path.join(ROOT, "src"));
  walk(path.join(ROOT, "adapters"));
  return out;
}

const FILES = sources();
const rel = (p: string) => path.relative(ROOT, p);
const parsed = new Map(FILES.map((f) => [f, ts.createSourceFile(f, readFileSync(f, "utf8"), ts.ScriptTarget.Latest, true)]));

/** relative imports of a file, static, dynamic and type-only */
function importsOf(file: string): string[] {
  const sf = parsed.get(file)!;
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    let spec: ts.Expression | undefined;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) spec = node.moduleSpecifier;
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) spec = node.arguments[0];
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) spec = node.argument.literal as ts.Expression;
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith(".")) found.push(path.resolve(path.dirname(file), spec.text));
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found.filter((f) => parsed.has(f));
}

/** What loading a file runs: its imports that are not type-only and not import(),
 * as resolved files (relative) and package names (bare). */
function loadedAtImport(file: string): { files: string[]; packages: string[] } {
  const files: string[] = [];
  const packages: string[] = [];
  for (const node of parsed.get(file)!.statements) {
    if (!(ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) || !node.moduleSpecifier || !ts.isStringLiteral(node.moduleSpecifier)) continue;
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const onlyTypes = clause?.isTypeOnly || (clause && !clause.name && named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly));
      if (onlyTypes) continue;
    } else if (node.isTypeOnly) continue;
    const spec = node.moduleSpecifier.text;
    if (spec.startsWith(".")) files.push(path.resolve(path.dirname(file), spec));
    else packages.push(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
  }
  return { files: files.filter((f) => parsed.has(f)), packages };
}

/** every file and package that loading `entry` loads, before any import() */
function loadedAtStart(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const { files, packages } = loadedAtImport(f);
    for (const p of packages) seen.add(p);
    for (const d of files) visit(d);
  };
  visit(entry);
  return seen;
}

/** What only some routes use, loaded when a configuration asks for it (src/on-demand.ts,
 * the route loaders, the KSR namespaces' engines): a TypeScript route that uses none of
 * it must not pay for it in memory. */
const ON_DEMAND: { what: string; matches: (loaded: string) => boolean }[] = [
  { what: "re2js (url_match, url_skip, a .cfg's patterns)", matches: (l) => l === "re2js" },
  { what: "ipaddr.js (allowed_ips, trusted_proxies)", matches: (l) => l === "ipaddr.js" },
  // host.ts is the runtime's builtins, which crypto reads too
  { what: "the cfg compiler (a .cfg route)", matches: (l) => l.startsWith(path.join(ROOT, "src/cfg/")) && !l.endsWith("/host.ts") },
  { what: "the public API and the fetch handler", matches: (l) => l === path.join(ROOT, "src/index.ts") || l === path.join(ROOT, "src/edge.ts") },
  {
    what: "rtimer, modparams, and the engines of http_client, ndb_redis and the SQL drivers",
    matches: (l) =>
      ["rtimer", "modparam", "startup", "http-client", "sql-drivers", "sql-text", "ndb_redis/engine", "ndb_redis/servers", "ndb_redis/connection", "ndb_redis/params"].some(
        (m) => l === path.join(ROOT, `src/modules/${m}.ts`),
      ),
  },
];

describe("the shape of the code", () => {
  it("has no import cycles in src/ and adapters/", () => {
    const graph = new Map(FILES.map((f) => [f, importsOf(f)]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map(rel).join(" -> "));
        return;
      }
      state.set(f, "open");
      stack.push(f);
      for (const d of graph.get(f)!) visit(d);
      stack.pop();
      state.set(f, "done");
    };
    for (const f of FILES) visit(f);
    assert.deepEqual(cycles, []);
  });

  it(`keeps files under ${MAX_FILE_LINES} lines, or says at the top why not`, () => {
    const long = FILES.filter((f) => {
      const text = readFileSync(f, "utf8");
      const lines = text.split("\n").length;
      const opening = text.slice(0, 1500);
      return lines > MAX_FILE_LINES && !LONG_FILE_REASON.test(opening);
    });
    assert.deepEqual(long.map(rel), []);
  });

  it(`keeps functions under ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const [file, sf] of parsed) {
      const visit = (node: ts.Node, name?: string) => {
        if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
          const start = sf.getLineAndCharacterOfPosition(node.getStart()).line;
          const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
          const fnName = (node as ts.FunctionLikeDeclaration).name?.getText() ?? name ?? "(anonymous)";
          if (end - start + 1 > MAX_FUNCTION_LINES) long.push(`${rel(file)}:${start + 1} ${fnName} (${end - start + 1} lines)`);
        }
        const childName = ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node) ? node.name.getText() : undefined;
        ts.forEachChild(node, (c) => visit(c, childName));
      };
      visit(sf);
    }
    assert.deepEqual(long, []);
  });
  it("loads at start-up none of what only some routes use", () => {
    const found: string[] = [];
    for (const adapter of ["bun", "deno", "node"]) {
      const loaded = loadedAtStart(path.join(ROOT, `adapters/${adapter}.ts`));
      for (const { what, matches } of ON_DEMAND) {
        const hits = [...loaded].filter(matches).map((l) => (path.isAbsolute(l) ? rel(l) : l));
        if (hits.length) found.push(`adapters/${adapter}.ts loads ${what}: ${hits.join(", ")}`);
      }
    }
    assert.deepEqual(found, []);
  });
});
