#!/usr/bin/env node
// Compare a probe run against the C module's recorded results, case by case.
//   node scripts/compare-probe.mjs REFERENCE.json OURS.json [--markdown]
// Prints, per case: the reference's responses (status lines, body) and ours,
// and whether they are the same. Reading aid for docs/differences.md.
import { readFileSync } from "node:fs";

const [refPath, oursPath] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const markdown = process.argv.includes("--markdown");
if (!refPath || !oursPath) {
  console.error("usage: compare-probe.mjs REFERENCE.json OURS.json [--markdown]");
  process.exit(1);
}
const load = (p) => new Map(JSON.parse(readFileSync(p, "utf8")).cases.map((c) => [c.name, c]));
const ref = load(refPath);
const ours = load(oursPath);

const summary = (c) => {
  if (!c) return "(not run)";
  const final = (c.responses ?? []).filter((r) => !r.interim && r.statusLine);
  if (final.length === 0) return `no response (${c.closedBy}${c.timedOut ? ", timed out" : ""})`;
  // bodies of the servers' own error pages differ by nature: compare route replies (2xx) only
  return final.map((r) => `${r.code}${r.body && r.code < 300 ? ` ${JSON.stringify(r.body.slice(0, 80))}` : ""}`).join(" | ");
};

let same = 0;
const rows = [];
for (const [name, r] of ref) {
  const a = summary(r);
  const b = summary(ours.get(name));
  if (a === b) same++;
  rows.push([name, a === b ? "same" : "differs", a, b]);
}
if (markdown) {
  console.log("| case | | C module | mhttpd |\n| --- | --- | --- | --- |");
  for (const [n, s, a, b] of rows) console.log(`| ${n} | ${s} | ${a.replace(/\|/g, "\\|")} | ${b.replace(/\|/g, "\\|")} |`);
} else for (const [n, s, a, b] of rows) console.log(`${n.padEnd(28)} ${s.padEnd(8)} C: ${a}\n${"".padEnd(37)} us: ${b}`);
console.log(`\n${same} of ${rows.length} cases give the same responses`);
