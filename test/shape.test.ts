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
});
