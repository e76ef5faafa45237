// Renders the README's reference tables from the tables the code runs on, so the
// docs cannot drift from what is accepted:
//   params     src/params.ts          parameters (validator, CLI, env, modparam)
//   variables  src/pv.ts              $mhttpd(...) attributes
//   cfg        src/cfg/*.ts           cfg functions, transformations, modules
//   node --import tsx scripts/gen-docs.ts          rewrite README.md
//   node --import tsx scripts/gen-docs.ts --check  exit 1 if README.md is stale
import { readFileSync, writeFileSync } from "node:fs";
import { FUNCTIONS } from "../src/cfg/functions.ts";
// sqlops adds its functions to the table when loaded
import "../src/cfg/sqlops.ts";
import { MODULES } from "../src/cfg/modules.ts";
import { TRANSFORMATIONS } from "../src/cfg/transformations.ts";
import { envName, flagName } from "../src/config.ts";
import { PARAMS, PARAM_NAMES } from "../src/params.ts";
import { MHTTPD_PREFIXED, MHTTPD_VARS } from "../src/pv.ts";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function paramsTable(): string {
  const rows = PARAM_NAMES.map((name) => {
    const p = PARAMS[name];
    const d = p.default as unknown;
    const dflt = d === undefined || d === "" ? '""' : Array.isArray(d) ? (d.length ? JSON.stringify(d) : "(none)") : String(d);
    return `| \`${name}\` | ${p.type} | ${cell(dflt)} | \`${flagName(name)}\`, \`${envName(name)}\` | ${cell(p.doc)} Allowed: ${cell(p.allowed)}. |`;
  });
  return ["| parameter | cfg type | default | flag, environment | meaning |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}

function variablesTable(): string {
  const rows = [
    ...Object.entries(MHTTPD_VARS).map(([n, v]) => `| \`$mhttpd(${n})\` | ${cell(v.doc)} |`),
    ...Object.entries(MHTTPD_PREFIXED).map(([n, v]) => `| \`$mhttpd(${n}:Name)\` | ${cell(v.doc)} |`),
  ];
  return ["| variable | value |", "| --- | --- |", ...rows].join("\n");
}

function cfgTables(): string {
  const fns = Object.entries(FUNCTIONS).map(([n, f]) => `| \`${n}\` | ${f.module} | ${cell(f.doc)} |`);
  const trs = Object.entries(TRANSFORMATIONS).map(([n, t]) => `| \`{${n}}\` | ${cell(t.doc)} |`);
  const mods = Object.entries(MODULES).map(([n, m]) => `| \`${n}\` | ${cell(m.doc)} |`);
  return [
    "| cfg function | module | what it does |",
    "| --- | --- | --- |",
    ...fns,
    "",
    "| transformation | what it gives |",
    "| --- | --- |",
    ...trs,
    "",
    "| `loadmodule` | provides |",
    "| --- | --- |",
    ...mods,
  ].join("\n");
}

const SECTIONS: Record<string, () => string> = { params: paramsTable, variables: variablesTable, cfg: cfgTables };

const readmePath = new URL("../README.md", import.meta.url);
const readme = readFileSync(readmePath, "utf8");
let next = readme;
for (const [key, render] of Object.entries(SECTIONS)) {
  const begin = new RegExp(`<!-- ${key}:begin[^>]*-->`);
  const m = begin.exec(next);
  const end = next.indexOf(`<!-- ${key}:end -->`);
  if (!m || end < m.index) throw new Error(`README.md has no ${key} markers`);
  next = next.slice(0, m.index + m[0].length) + "\n" + render() + "\n" + next.slice(end);
}
if (process.argv.includes("--check")) {
  if (next !== readme) {
    console.error("README.md reference tables are stale: run npm run docs");
    process.exit(1);
  }
} else writeFileSync(readmePath, next);
