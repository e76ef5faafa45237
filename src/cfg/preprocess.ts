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

/** One open #!ifdef/#!ifndef. */
interface Conditional {
  /** the current branch is taken */
  taking: boolean;
  /** the enclosing branch is taken: an #!else can only take its branch then */
  parentTaking: boolean;
  seenElse: boolean;
  at: Pos;
}

/** A directive line split up: its name (lower case), the rest, and the rest's leading identifier. */
interface Directive {
  name: string;
  /** the name as written, for the error about an unknown directive */
  written: string;
  rest: string;
  /** [, identifier, what follows it] */
  id: RegExpExecArray | null;
}

function readDirective(t: Token): Directive {
  const m = /^\s*([A-Za-z_]+)\s*(.*)$/s.exec(t.text);
  const rest = m ? m[2].trim() : "";
  return { name: m ? m[1].toLowerCase() : "", written: m ? m[1] : t.text, rest, id: /^([A-Za-z_][A-Za-z0-9_]*)\s*(.*)$/s.exec(rest) };
}

/** Preprocess `file`; `text` stands for its content when given (tests, eval). */
export function preprocess(file: string, opts: { predefined?: Record<string, string>; text?: string } = {}): Preprocessed {
  const pre = new Preprocessor(opts.predefined ?? {});
  pre.run(file, readMainFile(file, opts.text), 0);
  return pre.finish(file);
}

function readMainFile(file: string, text: string | undefined): string {
  try {
    return text ?? readTextFile(file);
  } catch (e) {
    throw new CfgSyntaxError({ file, line: 0, col: 0 }, `cannot read the configuration file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

class Preprocessor {
  readonly defines: Map<string, string>;
  private readonly substs: Subst[] = [];
  private readonly files: string[] = [];
  private readonly out: Token[] = [];
  private readonly conds: Conditional[] = [];

  constructor(private readonly predefined: Record<string, string>) {
    this.defines = new Map(Object.entries(predefined));
  }

  private taking(): boolean {
    return this.conds.length === 0 || this.conds[this.conds.length - 1].taking;
  }

  run(file: string, text: string, depth: number): void {
    this.files.push(file);
    const toks = lex(text, file);
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind === "eof") break;
      if (t.kind === "directive") {
        this.directive(t);
        continue;
      }
      if (!this.taking()) continue;
      if (t.kind === "id" && (t.text === "include_file" || t.text === "import_file")) {
        i = this.includeStatement(toks, i, file, depth);
        continue;
      }
      this.expand(t, 0);
    }
  }

  finish(file: string): Preprocessed {
    if (this.conds.length) throw new CfgSyntaxError(this.conds[this.conds.length - 1].at, "#!ifdef/#!ifndef without a matching #!endif");
    const last = this.out[this.out.length - 1];
    this.out.push({ kind: "eof", text: "end of file", file: last?.file ?? file, line: last?.line ?? 1, col: (last?.col ?? 0) + 1 });
    return { tokens: this.out, defines: this.defines, files: this.files };
  }

  /** A defined identifier becomes its value, lexed at the identifier's place
   * and expanded again; a string gets the #!subst substitutions. */
  private expand(t: Token, depth: number): void {
    if (t.kind === "id" && this.defines.has(t.text)) {
      if (depth > 20) throw new CfgSyntaxError(t, `#!define ${t.text} expands recursively`);
      const value = this.defines.get(t.text)!;
      for (const v of lex(value, t.file, t.line)) {
        if (v.kind === "eof") break;
        this.expand({ ...v, file: t.file, line: t.line, col: t.col }, depth + 1);
      }
      return;
    }
    if (t.kind === "str" && this.substs.length) {
      let text = t.text;
      for (const s of this.substs) text = text.replace(s.re, s.repl);
      t = { ...t, text };
    }
    this.out.push(t);
  }

  /** include_file "name" or include_file("name") at toks[i]; returns the index of its last token. */
  private includeStatement(toks: Token[], i: number, file: string, depth: number): number {
    const t = toks[i];
    let j = i + 1;
    const paren = toks[j]?.text === "(" && toks[j].kind === "op";
    if (paren) j++;
    const name = toks[j];
    if (name?.kind !== "str") throw new CfgSyntaxError(name ?? t, `${t.text}: expected a file name string`);
    if (paren) {
      if (toks[j + 1]?.text !== ")") throw new CfgSyntaxError(toks[j + 1] ?? name, `${t.text}: expected ")"`);
      j++;
    }
    this.include(name, file, t.text === "import_file", depth);
    return j;
  }

  /** Paths are relative to the including file; import_file skips a file it cannot read. */
  private include(name: Token, from: string, optional: boolean, depth: number): void {
    const target = resolveFrom(from, name.text);
    if (depth >= MAX_INCLUDE_DEPTH) throw new CfgSyntaxError(name, `include nesting deeper than ${MAX_INCLUDE_DEPTH} (a file including itself?)`);
    let text: string;
    try {
      text = readTextFile(target);
    } catch (e) {
      if (optional) return;
      throw new CfgSyntaxError(name, `cannot read include file ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    this.run(target, text, depth + 1);
  }

  /** The conditionals are followed inside a skipped branch too (they nest);
   * every other directive only in a taken one. */
  private directive(t: Token): void {
    const d = readDirective(t);
    switch (d.name) {
      case "ifdef":
      case "ifndef":
        return this.openConditional(d, t);
      case "else":
        return this.elseBranch(t);
      case "endif":
        if (!this.conds.pop()) throw new CfgSyntaxError(t, "#!endif without a matching #!ifdef/#!ifndef");
        return;
    }
    if (!this.taking()) return;
    switch (d.name) {
      case "kamailio":
      case "ser":
      case "maxcompat":
      case "all":
        return;
      case "define":
      case "trydef":
      case "redefine":
        return this.define(d, t);
      case "undef":
        if (!d.id) throw new CfgSyntaxError(t, "#!undef needs a name");
        this.defines.delete(d.id[1]);
        return;
      case "defenv":
      case "defenvs":
        return this.defineFromEnvironment(d, t);
      case "subst":
      case "substdef":
      case "substdefs":
        return this.substitution(d, t);
      default:
        throw new CfgSyntaxError(t, `unknown or unsupported preprocessor directive #!${d.written}`);
    }
  }

  private openConditional(d: Directive, t: Token): void {
    if (!d.id) throw new CfgSyntaxError(t, `#!${d.name} needs a name`);
    const on = this.defines.has(d.id[1]) === (d.name === "ifdef");
    const parent = this.taking();
    this.conds.push({ taking: parent && on, parentTaking: parent, seenElse: false, at: t });
  }

  private elseBranch(t: Token): void {
    const c = this.conds[this.conds.length - 1];
    if (!c || c.seenElse) throw new CfgSyntaxError(t, "#!else without a matching #!ifdef/#!ifndef");
    c.seenElse = true;
    c.taking = c.parentTaking && !c.taking;
  }

  /** #!define refuses a name already defined; #!trydef keeps the first value; #!redefine replaces it. */
  private define(d: Directive, t: Token): void {
    const { name, id } = d;
    if (!id) throw new CfgSyntaxError(t, `#!${name} needs a name`);
    if (name === "define" && this.defines.has(id[1])) {
      const where = id[1] in this.predefined && this.defines.get(id[1]) === this.predefined[id[1]] ? " by -A on the command line" : "";
      throw new CfgSyntaxError(t, `#!define ${id[1]}: already defined${where} (use #!redefine or #!trydef)`);
    }
    if (name === "trydef" && this.defines.has(id[1])) return;
    this.defines.set(id[1], id[2].trim());
  }

  /** #!defenv NAME, or ID=NAME: define NAME (or ID) as the environment variable NAME
   * (a string literal with #!defenvs); an unset variable defines nothing. */
  private defineFromEnvironment(d: Directive, t: Token): void {
    const e = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s*=\s*([A-Za-z_][A-Za-z0-9_]*))?\s*$/.exec(d.rest);
    if (!e) throw new CfgSyntaxError(t, `#!${d.name}: expected NAME or ID=NAME`);
    const value = env(e[2] ?? e[1]);
    if (value === undefined) return;
    this.defines.set(e[1], d.name === "defenvs" ? JSON.stringify(value) : value);
  }

  /** #!substdef and #!substdefs also define the pattern's text as a name whose value is
   * the replacement (a string literal with #!substdefs). */
  private substitution(d: Directive, t: Token): void {
    const s = parseSubst(d.rest, t);
    this.substs.push(s);
    if (d.name !== "subst") this.defines.set(s.name!, d.name === "substdefs" ? JSON.stringify(s.repl) : s.repl);
  }
}
