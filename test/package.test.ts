// The package as a user gets it: `npm pack` (which builds dist/ and the
// declarations), the tarball installed into an empty folder, then the commands the
// README gives, on each runtime: the import, a consumer's tsc, the mhttpd command
// serving in the process of the runtime that runs it. Then the clone's own
// commands (npm run start:deno with workers, the command with --runtime), and
// `deno publish --dry-run` for JSR (offline: it needs no registry).
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { FIXTURES, ROOT, RUNTIMES, fields, httpRequest, startServer, type Runtime } from "./_harness.ts";

const run = promisify(execFile);
const BIN = path.join(ROOT, "node_modules", ".bin");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const ROUTE = path.join(FIXTURES, "cfg", "defines.cfg");
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string; engines: { node: string } };

/** A route that tells which process and runtime answer. */
const WHO_ROUTE = `export default function (_evname, KSR) {
  const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";
  const pid = typeof Deno !== "undefined" ? Deno.pid : process.pid;
  KSR.microhttpd.mhttpd_reply(200, "OK", "text/plain", "runtime=" + runtime + "\\npid=" + pid + "\\n");
}
`;

/** The consumer's program: the README's import, used. */
const USE = `import { createFetchHandler, KSR } from "mhttpd";
const handler = createFetchHandler({ route: (_evname, ksr) => ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", "url " + ksr.pv.get("$mhttpd(url)")) });
const response = await handler.fetch(new Request("http://example.test/from-the-package"));
console.log(typeof KSR.pv.get, response.status, await response.text());
`;

/** mhttpd/hono in the consumer's own Hono app, with hono's cors in front. */
const USE_HONO = `import { Hono } from "hono";
import { cors } from "hono/cors";
import { mhttpd } from "mhttpd/hono";
const app = new Hono();
app.use(cors());
app.all("/kamailio/*", mhttpd({ route: (_evname, ksr) => ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", "url " + ksr.pv.get("$mhttpd(url)")), max_body_size: "64k" }));
const response = await app.request("/kamailio/from-the-package", { headers: { origin: "https://a.example" } });
console.log(response.status, response.headers.get("access-control-allow-origin"), await response.text());
`;

/** A consumer's TypeScript against the package's declarations. */
const TYPED = `import { createFetchHandler, KSR, type FetchHandler, type KsrApi, type Params } from "mhttpd";
import { Hono } from "hono";
import { mhttpd, type MhttpdHandler } from "mhttpd/hono";

export default function route(_evname: string, ksr: KsrApi): void {
  ksr.microhttpd.mhttpd_reply(200, "OK", "text/plain", \`url \${ksr.pv.get("$mhttpd(url)")}\`);
}
const handler: FetchHandler = createFetchHandler({ route, params: { max_body_size: "64k" } });
const size: Params["max_body_size"] = handler.params.max_body_size;
export const summary: string = \`\${size} \${typeof KSR.pv.get}\`;
const hono: MhttpdHandler = mhttpd({ route, max_body_size: "64k" });
export const app = new Hono().all("/kamailio/*", hono);
export const loaded: Promise<void> = hono.ready;
`;

let work: string;
let consumer: string;
let tarballFiles: string[];

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), "mhttpd-package-"));
  consumer = path.join(work, "consumer");
  // npm pack runs prepack: dist/ (JavaScript and declarations) from the sources
  const { stdout } = await run(NPM, ["pack", "--json", "--pack-destination", work], { cwd: ROOT, maxBuffer: 1 << 26 });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  tarballFiles = packed.files.map((f) => f.path);
  mkdirSync(consumer);
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  // the dependencies come from npm's cache when it has them (npm ci filled it), else the
  // registry; hono, as an app that mounts mhttpd/hono depends on it itself
  const hono = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "hono", "package.json"), "utf8")).version as string;
  await run(NPM, ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(work, packed.filename), `hono@${hono}`], { cwd: consumer, maxBuffer: 1 << 26 });
  writeFileSync(path.join(consumer, "use.mjs"), USE);
  writeFileSync(path.join(consumer, "use-hono.mjs"), USE_HONO);
  writeFileSync(path.join(consumer, "typed.ts"), TYPED);
  writeFileSync(path.join(consumer, "who.mjs"), WHO_ROUTE);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("holds the built JavaScript, its declarations and the sources Bun runs, and nothing of bench/ or test/", () => {
    for (const file of ["bin/mhttpd.mjs", "dist/index.mjs", "dist/hono.mjs", "dist/types/hono.d.ts", "src/hono.ts", "dist/node.mjs", "dist/deno.mjs", "dist/node-typescript-compiler.mjs", "dist/types/index.d.ts", "src/index.ts", "adapters/bun.ts", "config/default.cfg", "LICENSE", "README.md", "package.json"]) {
      assert.ok(tarballFiles.includes(file), `${file} in the tarball`);
    }
    assert.deepEqual(tarballFiles.filter((f) => /^(bench|test|scripts|\.ci|node_modules)\//.test(f)), []);
    // Deno runs no TypeScript from an npm package: without the adapter's source, the command takes dist/deno.mjs
    assert.ok(!tarballFiles.includes("adapters/deno.ts"), "adapters/deno.ts stays out");
    // what dist/deno.mjs loads when needed ships with it
    const chunks = tarballFiles.filter((f) => /^dist\/deno-.*\.mjs$/.test(f));
    assert.ok(chunks.length > 0, "the Deno adapter's chunks");
  });

  it("says its license, its repository and the Node it needs", () => {
    const pkg = JSON.parse(readFileSync(path.join(consumer, "node_modules", "mhttpd", "package.json"), "utf8"));
    assert.equal(pkg.private, undefined);
    assert.equal(pkg.license, "MIT");
    assert.ok(pkg.repository?.url, "a repository");
    // .cfg routes use process.getBuiltinModule, new in Node 20.16
    assert.equal(pkg.engines.node, ">=20.16");
    const [major, minor] = process.versions.node.split(".").map(Number);
    assert.ok(major > 20 || (major === 20 && minor >= 16), `this Node (${process.versions.node}) is one the package says it runs on`);
  });

  for (const runtime of RUNTIMES) {
    it(`import { createFetchHandler, KSR } from "mhttpd" works on ${runtime}`, async () => {
      const cmd = { node: [process.execPath], bun: [path.join(BIN, "bun")], deno: [path.join(BIN, "deno"), "run", "-A"] }[runtime];
      const { stdout } = await run(cmd[0], [...cmd.slice(1), "use.mjs"], { cwd: consumer });
      assert.equal(stdout, "function 200 url /from-the-package\n");
    });

    it(`import { mhttpd } from "mhttpd/hono" mounts in a Hono app on ${runtime}`, async () => {
      const cmd = { node: [process.execPath], bun: [path.join(BIN, "bun")], deno: [path.join(BIN, "deno"), "run", "-A"] }[runtime];
      const { stdout } = await run(cmd[0], [...cmd.slice(1), "use-hono.mjs"], { cwd: consumer });
      assert.equal(stdout, "200 * url /kamailio/from-the-package\n");
    });
  }

  it("a consumer's tsc --module nodenext --strict compiles against its declarations", async () => {
    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const r = await run(process.execPath, [tsc, "--module", "nodenext", "--strict", "--noEmit", "typed.ts"], { cwd: consumer }).catch((e) => e);
    assert.equal(r.code ?? 0, 0, `tsc: ${r.stdout}${r.stderr}`);
    // and the declarations are real types, not any
    writeFileSync(path.join(consumer, "wrong.ts"), 'import { createFetchHandler } from "mhttpd";\nexport const n: number = createFetchHandler({ route: () => 1 }).params.access_log;\n');
    const wrong = await run(process.execPath, [tsc, "--module", "nodenext", "--strict", "--noEmit", "wrong.ts"], { cwd: consumer }).catch((e) => e);
    assert.match(wrong.stdout, /wrong\.ts\(2,14\): error TS2322/);
  });

  /** The installed command as each runtime runs it, in the README's words. */
  const COMMANDS: [Runtime, string, string[]][] = [
    ["node", "npx mhttpd", [process.platform === "win32" ? "npx.cmd" : "npx", "--no-install", "mhttpd"]],
    ["node", "node node_modules/.bin/mhttpd", [process.execPath, "node_modules/.bin/mhttpd"]],
    ["bun", "bunx --bun mhttpd", [path.join(BIN, "bunx"), "--bun", "mhttpd"]],
    ["bun", "bun node_modules/.bin/mhttpd", [path.join(BIN, "bun"), "node_modules/.bin/mhttpd"]],
    ["deno", "deno run -A npm:mhttpd", [path.join(BIN, "deno"), "run", "-A", "npm:mhttpd"]],
  ];
  for (const [runtime, label, command] of COMMANDS) {
    if (!RUNTIMES.includes(runtime)) continue;
    const launch = { command, cwd: consumer };
    // npx and bunx run the command as their child: the command itself starts no other
    const launcher = /^(npx|bunx) /.test(label);
    it(`${label} serves a route under ${runtime} in the process that runs the command, and --version names ${runtime}`, async () => {
      const version = await run(launch.command[0], [...launch.command.slice(1), "--version"], { cwd: consumer });
      assert.equal(version.stdout, `mhttpd ${PACKAGE.version} (${runtime})\n`);
      const srv = await startServer(runtime, ["who.mjs", "--listen-addr", "127.0.0.1", "--listen-port", "0"], { ...launch, timeoutMs: 30000 });
      let who: Record<string, string> = {};
      try {
        assert.match(srv.stdout(), new RegExp(`^mhttpd listening on http://127\\.0\\.0\\.1:\\d+ \\(${runtime}\\)$`, "m"));
        const r = await httpRequest(srv.port, "GET", "/who");
        who = fields(r.responses[0]?.body ?? "");
        assert.equal(who.runtime, runtime);
        if (!launcher) assert.equal(Number(who.pid), srv.proc.pid, "the process started serves, not a child of it");
        // the serving process is the runtime running the command (before, the command
        // was a Node process that started the runtime on adapters/*.ts)
        const cmdline = readFileSync(`/proc/${who.pid}/cmdline`, "utf8").split("\0").join(" ");
        assert.match(cmdline, /node_modules\/\.bin\/mhttpd |npm:mhttpd /, cmdline);
      } finally {
        if (launcher && who.pid) {
          // npm exec does not pass SIGTERM on to its child: stop the server, and the launcher ends with it
          const exited = new Promise<number | null>((resolve) => (srv.proc.exitCode !== null ? resolve(srv.proc.exitCode) : srv.proc.once("exit", resolve)));
          process.kill(Number(who.pid), "SIGTERM");
          assert.equal(await exited, 0, `${label} stops cleanly`);
        } else assert.equal((await srv.stop()).code, 0, `${label} stops cleanly`);
      }
    });
  }

  it("runs a .cfg route, the default route and an example copied out of the package (TypeScript)", async () => {
    // as a user starts from one: Deno runs no TypeScript under node_modules
    writeFileSync(path.join(consumer, "rest.ts"), readFileSync(path.join(consumer, "node_modules", "mhttpd", "examples", "rest.ts")));
    for (const runtime of RUNTIMES) {
      const command = COMMANDS.find(([r, label]) => r === runtime && !label.startsWith("npx"))![2];
      const local = ["--listen-addr", "127.0.0.1", "--listen-port", "0"];
      const cfg = await startServer(runtime, [ROUTE, "-A", "WITH_SHOUT", ...local], { command, cwd: consumer });
      const dflt = await startServer(runtime, local, { command, cwd: consumer });
      const example = await startServer(runtime, ["rest.ts", ...local], { command, cwd: consumer });
      try {
        assert.equal((await httpRequest(cfg.port, "GET", "/")).responses[0]?.body.toString(), "hello, shouting\n", runtime);
        assert.equal((await httpRequest(dflt.port, "POST", "/x", { body: "hi" })).responses[0]?.body.toString(), "<html><body>OK</body></html>", runtime);
        assert.equal((await httpRequest(example.port, "GET", "/api/users/2")).responses[0]?.body.toString(), '{"id":2,"name":"bob"}', runtime);
      } finally {
        await Promise.all([cfg.stop(), dflt.stop(), example.stop()]);
      }
    }
  });
});

describe("the clone's own commands", () => {
  it("npm run start:deno runs workers (it grants --allow-run)", { skip: !RUNTIMES.includes("deno") && "no deno in MHTTPD_TEST_RUNTIMES" }, async () => {
    // npm starts a shell that starts deno: the whole process group is stopped at the end
    const proc = spawn(NPM, ["run", "--silent", "start:deno", "--", path.join(consumer, "who.mjs"), "--workers", "2", "--listen-addr", "127.0.0.1", "--listen-port", "0"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (err += d));
    try {
      const deadline = Date.now() + 30000;
      while (!/mhttpd listening on http:\/\/127\.0\.0\.1:(\d+) \(deno\)/.test(out) && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      assert.ok(port > 0, `listening:\n${out}\n${err}`);
      const pids = new Set<string>();
      for (let i = 0; i < 40 && pids.size < 2; i++) {
        const r = await httpRequest(port, "GET", "/", { headers: { Connection: "close" } });
        pids.add(fields(r.responses[0]?.body ?? "").pid);
      }
      assert.equal(pids.size, 2, `two workers answer: ${[...pids].join(", ")}\n${err}`);
    } finally {
      try {
        process.kill(-proc.pid!, "SIGTERM");
      } catch {
        // gone already
      }
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once("exit", r)));
    }
  });

  for (const runtime of RUNTIMES) {
    it(`bin/mhttpd.mjs under ${runtime} serves in its own process; --runtime ${runtime} from Node runs it there`, async () => {
      const direct = { node: [process.execPath], bun: [path.join(BIN, "bun")], deno: [path.join(BIN, "deno"), "run", "-A"] }[runtime];
      const cases = [
        { command: [...direct, path.join(ROOT, "bin", "mhttpd.mjs")], sameProcess: true },
        { command: [process.execPath, path.join(ROOT, "bin", "mhttpd.mjs"), "--runtime", runtime], sameProcess: runtime === "node" },
      ];
      for (const { command, sameProcess } of cases) {
        const srv = await startServer(runtime, [path.join(consumer, "who.mjs"), "--listen-addr", "127.0.0.1", "--listen-port", "0"], { command, timeoutMs: 30000 });
        try {
          assert.match(srv.stdout(), new RegExp(`\\(${runtime}\\)$`, "m"));
          const pid = fields((await httpRequest(srv.port, "GET", "/")).responses[0]?.body ?? "").pid;
          if (sameProcess) assert.equal(Number(pid), srv.proc.pid, command.join(" "));
          else assert.notEqual(Number(pid), srv.proc.pid, `${command.join(" ")}: a child of the Node process`);
        } finally {
          assert.equal((await srv.stop()).code, 0, `${command.join(" ")} stops cleanly`);
        }
      }
    });
  }
});

describe("JSR", () => {
  it("deno publish --dry-run passes, and deno.json has the package's version", { skip: !RUNTIMES.includes("deno") && "no deno in MHTTPD_TEST_RUNTIMES" }, async () => {
    const deno = JSON.parse(readFileSync(path.join(ROOT, "deno.json"), "utf8"));
    assert.equal(deno.version, PACKAGE.version);
    assert.match(deno.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/);
    assert.equal(deno.exports["."], "./src/index.ts");
    // --allow-dirty: a working copy under test may hold changes
    const r = await run(path.join(BIN, "deno"), ["publish", "--dry-run", "--allow-dirty"], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 1 << 26 }).catch((e) => e);
    assert.match(`${r.stdout}${r.stderr}`, /Success Dry run complete/, `${r.stdout}${r.stderr}`);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /test\/|bench\//, "no tests or benchmarks in the JSR package");
  });
});
