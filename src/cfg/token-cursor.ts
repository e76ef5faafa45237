// The parser's place in the token list and the checks every grammar rule uses.
// Reading past the end keeps returning the end-of-file token, so a rule never
// needs a bounds check: it fails on "end of file" like on any other token.
import { CfgSyntaxError, describe, type Token } from "./lexer.ts";

export class TokenCursor {
  /** the index of the next token */
  i = 0;

  constructor(private readonly tokens: Token[]) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }

  next(): Token {
    return this.tokens[Math.min(this.i++, this.tokens.length - 1)];
  }

  /** The token at `offset` is the operator or word `text` (not a string that says it). */
  is(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return (t.kind === "op" || t.kind === "id") && t.text === text;
  }

  atEnd(): boolean {
    return this.peek().kind === "eof";
  }

  fail(t: Token, expected: string): never {
    throw new CfgSyntaxError(t, `expected ${expected}, found ${describe(t)}`);
  }

  expect(text: string, what = `"${text}"`): Token {
    return this.is(text) ? this.next() : this.fail(this.peek(), what);
  }

  expectSemicolon(): void {
    this.expect(";", '";"');
  }

  skipSemicolon(): void {
    if (this.is(";")) this.next();
  }

  /** `t`, just read, is a "-" before a number: a negative literal where an expression is not allowed. */
  minusBeforeNumber(t: Token): boolean {
    return t.kind === "op" && t.text === "-" && this.peek().kind === "num";
  }

  /** `first`, just read, is a string: adjacent string literals concatenate ("a" "b"). */
  joinAdjacentStrings(first: Token): string {
    let text = first.text;
    while (this.peek().kind === "str") text += this.next().text;
    return text;
  }
}
