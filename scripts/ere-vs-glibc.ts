// Differential check of src/ere.ts against glibc's own regcomp/regexec: random
// EREs built from a wide set of tokens (brackets, classes, intervals, escapes,
// anchors, stray braces and dashes), each with random ASCII subjects, in both
// case modes. A pattern must be refused by both or by neither, and match the
// same subjects. Needs a C compiler (cc) and glibc; not part of `npm test`.
//
//   node --import tsx scripts/ere-vs-glibc.ts [--runs 20000] [--seed 1] [--tokens 8]
//
// Counted apart, not as failures: back-references (the digits and backslashes
// below can make one), which glibc runs and src/ere.ts refuses on purpose; and
// glibc's quirk of letting ^ and $ inside a pattern match next to a newline the
// match goes across (its DFA gives a consumed newline the line context even
// without REG_NEWLINE: "a$\nb" matches "a\nb"), which src/ere.ts does not copy
// (docs/cfg.md).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";
import { compileEre } from "../src/ere.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("--runs", 20000);
let seed = arg("--seed", 1);
const MAX_TOKENS = arg("--tokens", 8);

// one line per pattern: ICASE HEXPATTERN HEXSUBJECT... ("-" is empty); answers E or a 0/1 per subject
const C_SOURCE = String.raw`
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static char *unhex(const char *h) {
  size_t n = strcmp(h, "-") == 0 ? 0 : strlen(h) / 2;
  char *o = malloc(n + 1);
  for (size_t i = 0; i < n; i++) { unsigned v; sscanf(h + 2 * i, "%2x", &v); o[i] = (char)v; }
  o[n] = 0;
  return o;
}
int main(void) {
  static char line[1 << 20];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    int icase = atoi(strtok(line, " "));
    char *pattern = unhex(strtok(NULL, " "));
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0))) puts("E");
    else {
      for (char *s; (s = strtok(NULL, " "));) { char *subject = unhex(s); putchar(regexec(&re, subject, 0, 0, 0) == 0 ? '1' : '0'); free(subject); }
      putchar('\n');
      regfree(&re);
    }
    fflush(stdout);
    free(pattern);
  }
  return 0;
}
`;

const TOKENS = [
  "a", "b", "A", "B", "z", "Z", "_", "-", ".", "^", "$", "*", "+", "?", "|", "(", ")", "[", "]", "{", "}", ",", "1", "2", "\\", ":", "=",
  "[:alpha:]", "[:upper:]", "[:lower:]", "[:digit:]", "[:space:]", "[:punct:]", "[.a.]", "[=b=]", "[.-.]", "[[:xdigit:]]", "[^[:alpha:]]", "[[.].]]",
  "{1,2}", "{2}", "{,2}", "{1,}", "{0}", "{0,0}", "\\w", "\\W", "\\s", "\\S", "\\b", "\\B", "\\<", "\\>", "\\d", "\\D", "\\.", "\\[", "\\{", "\\)", "\\|",
  "[^", "[]", "[a-z]", "[Z-a]", "[A-z]", "[]a]", "[^]a]", "[a-]", "[--/]", "[%--]", "()", " ", "\n", "\t", "\\`", "\\'", "~", "`", "@",
];
const SUBJECT_CHARS = ["a", "b", "A", "B", "z", "Z", "_", "-", ".", " ", "\n", "\t", "1", "2", "[", "]", "{", "}", "^", "$", "\\", ":", "=", "~", "`", "@", "(", ")", ",", "D", "d"];

const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x80000000;
const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
const hex = (s: string) => (s === "" ? "-" : Buffer.from(s, "latin1").toString("hex"));

const dir = mkdtempSync(path.join(tmpdir(), "ere-glibc-"));
try {
  writeFileSync(path.join(dir, "ere.c"), C_SOURCE);
  const cc = spawnSync("cc", ["-O2", "-o", path.join(dir, "ere"), path.join(dir, "ere.c")], { stdio: "inherit" });
  if (cc.status !== 0) throw new Error("cc failed: this check needs a C compiler and glibc");
  const glibc = spawn(path.join(dir, "ere"), [], { stdio: ["pipe", "pipe", "inherit"] });
  const answers = readline.createInterface({ input: glibc.stdout })[Symbol.asyncIterator]();

  let refusedByBoth = 0;
  let anchorQuirk = 0;
  let backReferences = 0;
  const differences: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    let pattern = "";
    for (let i = 1 + Math.floor(random() * MAX_TOKENS); i > 0; i--) pattern += pick(TOKENS);
    const icase = random() < 0.5;
    const subjects = Array.from({ length: 12 }, () => Array.from({ length: Math.floor(random() * 6) }, () => pick(SUBJECT_CHARS)).join(""));
    glibc.stdin.write(`${icase ? 1 : 0} ${hex(pattern)} ${subjects.map(hex).join(" ")}\n`);
    const theirs = (await answers.next()).value as string;
    let ours: string;
    try {
      const m = compileEre(pattern, icase);
      ours = subjects.map((s) => (m.test(s) ? "1" : "0")).join("");
    } catch (err) {
      ours = `E (${(err as Error).message})`;
    }
    const differing = subjects.filter((_, i) => theirs[i] !== ours[i]);
    if (theirs === "E" && ours.startsWith("E")) refusedByBoth++;
    else if (theirs !== "E" && ours.includes("back-reference")) backReferences++;
    else if (theirs !== "E" && !ours.startsWith("E") && differing.length > 0 && /[\^$]/.test(pattern) && differing.every((s) => s.includes("\n"))) anchorQuirk++;
    else if (theirs !== ours) differences.push(`${JSON.stringify(pattern)}${icase ? " icase" : ""}: glibc ${theirs}, src/ere.ts ${ours} on ${JSON.stringify(subjects)}`);
  }
  glibc.stdin.end();
  console.log(`${RUNS} patterns (seed ${arg("--seed", 1)}): ${refusedByBoth} refused by both, ${backReferences} back-references (refused on purpose), ${anchorQuirk} with glibc's mid-pattern anchor quirk, ${differences.length} differences`);
  for (const d of differences.slice(0, 30)) console.log(d);
  process.exitCode = differences.length ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
