// Stage 2: the preprocessor, on tokens. It follows #!ifdef/#!ifndef/#!else/#!endif,
// keeps the #!define table, replaces defined identifiers by their (re-lexed)
// value, applies #!subst/#!substdef to strings and splices include_file /
// import_file (paths relative to the including file).
import { readTextFile, resolveFrom } from "./host.ts";
import { CfgSyntaxError, lex, type Pos, type Token } from "./lexer.ts";

export interface Preprocessed {
  tokens: Token[];
  defines: Map<string, string>;
  /** files read, in order */
  files: string[];
}

interface Subst {
  re: RegExp;
  repl: string;
}

const MAX_INCLUDE_DEPTH = 10;

function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env: Record<string, unknown> } }).process?.env[name];
  // process.env inherits Object.prototype on Node: "constructor" is no variable
  return typeof value === "string" ? value : undefined;
}

/** "/re/repl/flags" with any delimiter (the first character). */
function parseSubst(spec: string, at: Pos): Subst & { name?: string } {
  const s = spec.trim().replace(/^"(.*)"$/s, "$1");
  const d = s[0];
  const parts: string[] = [];
  let cur = "";
  for (let i = 1; i < s.length; i++) {
    if (s[i] === "\\" && s[i + 1] === d) (cur += d), i++;
    else if (s[i] === d) (parts.push(cur), (cur = ""));
    else cur += s[i];
  }
  parts.push(cur);
  if (!d || parts.length < 3) throw new CfgSyntaxError(at, `bad substitution ${JSON.stringify(spec)}: expected "/regex/replacement/flags"`);
  try {
    const flags = parts[2].includes("i") ? "gi" : "g";
    return { re: new RegExp(parts[0], parts[2].includes("g") ? flags : flags.replace("g", "") || ""), repl: parts[1].replace(/\\(\d)/g, "$$$1"), name: parts[0] };
  } catch (e) {
    throw new CfgSyntaxError(at, `bad regular expression in substitution: ${(e as Error).message}`);
  }
}

/** Preprocess `file`; `text` stands for its content when given (tests, eval). */
export function preprocess(file: string, opts: { predefined?: Record<string, string>; text?: string } = {}): Preprocessed {
  const predefined = opts.predefined ?? {};
  const defines = new Map<string, string>(Object.entries(predefined));
  const substs: Subst[] = [];
  const files: string[] = [];
  const out: Token[] = [];
  // ifdef stack: each entry says whether the current branch is taken
  const conds: { taking: boolean; parentTaking: boolean; seenElse: boolean; at: Pos }[] = [];
  const taking = () => conds.length === 0 || conds[conds.length - 1].taking;

  const expand = (t: Token, depth: number): void => {
    if (t.kind === "id" && defines.has(t.text)) {
      if (depth > 20) throw new CfgSyntaxError(t, `#!define ${t.text} expands recursively`);
      const value = defines.get(t.text)!;
      for (const v of lex(value, t.file, t.line)) {
        if (v.kind === "eof") break;
        expand({ ...v, file: t.file, line: t.line, col: t.col }, depth + 1);
      }
      return;
    }
    if (t.kind === "str" && substs.length) {
      let text = t.text;
      for (const s of substs) text = text.replace(s.re, s.repl);
      t = { ...t, text };
    }
    out.push(t);
  };

  const directive = (t: Token) => {
    const m = /^\s*([A-Za-z_]+)\s*(.*)$/s.exec(t.text);
    const name = m ? m[1].toLowerCase() : "";
    const rest = m ? m[2].trim() : "";
    const id = /^([A-Za-z_][A-Za-z0-9_]*)\s*(.*)$/s.exec(rest);
    switch (name) {
      case "ifdef":
      case "ifndef": {
        if (!id) throw new CfgSyntaxError(t, `#!${name} needs a name`);
        const on = defines.has(id[1]) === (name === "ifdef");
        const parent = taking();
        conds.push({ taking: parent && on, parentTaking: parent, seenElse: false, at: t });
        return;
      }
      case "else": {
        const c = conds[conds.length - 1];
        if (!c || c.seenElse) throw new CfgSyntaxError(t, "#!else without a matching #!ifdef/#!ifndef");
        c.seenElse = true;
        c.taking = c.parentTaking && !c.taking;
        return;
      }
      case "endif":
        if (!conds.pop()) throw new CfgSyntaxError(t, "#!endif without a matching #!ifdef/#!ifndef");
        return;
    }
    if (!taking()) return;
    switch (name) {
      case "kamailio":
      case "ser":
      case "maxcompat":
      case "all":
        return;
      case "define":
      case "trydef":
      case "redefine": {
        if (!id) throw new CfgSyntaxError(t, `#!${name} needs a name`);
        if (name === "define" && defines.has(id[1])) {
          const where = id[1] in predefined && defines.get(id[1]) === predefined[id[1]] ? " by -A on the command line" : "";
          throw new CfgSyntaxError(t, `#!define ${id[1]}: already defined${where} (use #!redefine or #!trydef)`);
        }
        if (name === "trydef" && defines.has(id[1])) return;
        defines.set(id[1], id[2].trim());
        return;
      }
      case "undef":
        if (!id) throw new CfgSyntaxError(t, "#!undef needs a name");
        defines.delete(id[1]);
        return;
      case "defenv":
      case "defenvs": {
        const e = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s*=\s*([A-Za-z_][A-Za-z0-9_]*))?\s*$/.exec(rest);
        if (!e) throw new CfgSyntaxError(t, `#!${name}: expected NAME or ID=NAME`);
        const value = env(e[2] ?? e[1]);
        if (value === undefined) return;
        defines.set(e[1], name === "defenvs" ? JSON.stringify(value) : value);
        return;
      }
      case "subst":
      case "substdef":
      case "substdefs": {
        const s = parseSubst(rest, t);
        substs.push(s);
        if (name !== "subst") defines.set(s.name!, name === "substdefs" ? JSON.stringify(s.repl) : s.repl);
        return;
      }
      default:
        throw new CfgSyntaxError(t, `unknown or unsupported preprocessor directive #!${m ? m[1] : t.text}`);
    }
  };

  const include = (name: Token, from: string, optional: boolean, depth: number) => {
    const target = resolveFrom(from, name.text);
    if (depth >= MAX_INCLUDE_DEPTH) throw new CfgSyntaxError(name, `include nesting deeper than ${MAX_INCLUDE_DEPTH} (a file including itself?)`);
    let text: string;
    try {
      text = readTextFile(target);
    } catch (e) {
      if (optional) return;
      throw new CfgSyntaxError(name, `cannot read include file ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    run(target, text, depth + 1);
  };

  const run = (file: string, text: string, depth: number) => {
    files.push(file);
    const toks = lex(text, file);
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind === "eof") break;
      if (t.kind === "directive") {
        directive(t);
        continue;
      }
      if (!taking()) continue;
      if (t.kind === "id" && (t.text === "include_file" || t.text === "import_file")) {
        let j = i + 1;
        const paren = toks[j]?.text === "(" && toks[j].kind === "op";
        if (paren) j++;
        const name = toks[j];
        if (name?.kind !== "str") throw new CfgSyntaxError(name ?? t, `${t.text}: expected a file name string`);
        if (paren) {
          if (toks[j + 1]?.text !== ")") throw new CfgSyntaxError(toks[j + 1] ?? name, `${t.text}: expected ")"`);
          j++;
        }
        i = j;
        include(name, file, t.text === "import_file", depth);
        continue;
      }
      expand(t, 0);
    }
  };

  let text: string;
  try {
    text = opts.text ?? readTextFile(file);
  } catch (e) {
    throw new CfgSyntaxError({ file, line: 0, col: 0 }, `cannot read the configuration file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  run(file, text, 0);
  if (conds.length) throw new CfgSyntaxError(conds[conds.length - 1].at, "#!ifdef/#!ifndef without a matching #!endif");
  const last = out[out.length - 1];
  out.push({ kind: "eof", text: "end of file", file: last?.file ?? file, line: last?.line ?? 1, col: (last?.col ?? 0) + 1 });
  return { tokens: out, defines, files };
}

