/**
 * The npm package as a user gets it: `npm pack` → `npm install -g` of the tarball into a fresh prefix
 * (a global install takes no devDependencies) → the installed `acme-renew` runs on this Node line:
 * `--version`, `run` against a real Pebble (first issuance), `check`, and `run` again (not due).
 *
 * The Node line is the one running this test: its directory goes first on PATH, so npm and the
 * installed bin's `#!/usr/bin/env node` run on it too (.ci/run runs this once per line). The
 * install takes the dependencies from the npm registry by package.json's ranges, as a user's does.
 * Packed and installed sizes are printed as test diagnostics.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { baseConfig } from "../helpers/acme-fixtures.js";

interface Pkg {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Pkg;

const NODE_DIR = dirname(process.execPath);
/** PATH with this test's Node first: npm, and the bin's `#!/usr/bin/env node`, run on this line. */
const ENV = { ...process.env, PATH: `${NODE_DIR}:${process.env.PATH ?? "/usr/bin:/bin"}` };
/** The installed bin runs with PATH and HOME only (no ACME_RENEW_* of the caller's). */
const BIN_ENV = { PATH: ENV.PATH, HOME: process.env.HOME };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], o: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((res) => {
    execFile(file, args, { cwd: o.cwd ?? ROOT, env: o.env ?? ENV, timeout: o.timeoutMs ?? 120_000, killSignal: "SIGKILL", maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      res({ code, stdout, stderr: err && code === -1 ? `${stderr}\n${err.message}` : stderr });
    });
  });
}

/** Bytes under `dir` (regular files, as `du -sb --apparent-size` counts them) and package.json names. */
function walk(dir: string, acc = { bytes: 0, files: 0, packages: new Set<string>() }) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, acc);
    else if (e.isFile()) {
      acc.bytes += statSync(p).size;
      acc.files++;
      if (e.name === "package.json" && basenameIsPackageRoot(dir)) {
        const name = (JSON.parse(readFileSync(p, "utf8")) as { name?: string }).name;
        if (name) acc.packages.add(name);
      }
    }
  }
  return acc;
}

/** A directory right below node_modules/ (or node_modules/@scope/) is a package root. */
function basenameIsPackageRoot(dir: string): boolean {
  const parent = dirname(dir);
  return parent.endsWith("/node_modules") || dirname(parent).endsWith("/node_modules");
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

describe(`npm package on Node ${process.version}`, { timeout: 600_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "acme-renew-pkg-"));
  const prefix = join(tmp, "prefix");
  const bin = join(prefix, "bin", "acme-renew");
  let pebble: Pebble | undefined;

  before(() => mkdirSync(prefix));
  after(async () => {
    await pebble?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("PATH resolves `node` to the line under test", async () => {
    const r = await run("sh", ["-c", "node --version"]);
    assert.equal(r.stdout.trim(), process.version);
  });

  let tarball = "";
  test("npm pack: the built program, schema and systemd units, nothing of src/, test/ or build/", async (t) => {
    const r = await run("npm", ["pack", "--json", "--pack-destination", tmp]);
    assert.equal(r.code, 0, r.stderr);
    const [info] = JSON.parse(r.stdout) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
    assert.ok(info);
    tarball = join(tmp, info.filename);
    assert.equal(statSync(tarball).size, info.size);
    const paths = info.files.map((f) => f.path);
    for (const want of ["package.json", "README.md", "LICENSE", pkg.bin["acme-renew"]!, "schema/acme-renew.schema.json", "systemd/acme-renew@.service", "systemd/acme-renew@.timer"]) {
      assert.ok(paths.includes(want), `${want} is in the tarball`);
    }
    const stray = paths.filter((p) => !/^(dist|schema|systemd)\//.test(p) && !["package.json", "README.md", "LICENSE"].includes(p));
    assert.deepEqual(stray, [], "only dist/, schema/, systemd/, package.json, README.md and LICENSE are packed");
    t.diagnostic(`packed ${info.filename}: ${kib(info.size)} (${info.files.length} files, ${kib(info.unpackedSize)} unpacked)`);
  });

  test("npm install -g: no devDependencies, no engine warning for this line", async (t) => {
    assert.ok(tarball, "npm pack ran");
    const r = await run("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", tarball], { cwd: tmp, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EBADENGINE/i, "package.json engines (ours and the dependencies') accept this Node line");
    const installed = join(prefix, "lib", "node_modules", pkg.name);
    const all = walk(installed);
    const dev = Object.keys(pkg.devDependencies).filter((d) => all.packages.has(d));
    assert.deepEqual(dev, [], "no devDependency is installed");
    for (const d of Object.keys(pkg.dependencies)) {
      assert.ok(all.packages.has(d), `dependency ${d} is installed`);
    }
    assert.ok(existsSync(join(installed, "node_modules")), "dependencies are installed below the package");
    const deps = walk(join(installed, "node_modules"));
    t.diagnostic(`installed: ${kib(all.bytes)} in ${all.files} files, of which node_modules/ ${kib(deps.bytes)} (${deps.packages.size} packages)`);
  });

  test("acme-renew --version from another directory; --help and a usage error (yargs is bundled, not installed)", async () => {
    const r = await run(bin, ["--version"], { cwd: tmp, env: BIN_ENV });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${pkg.version}\n`);
    const h = await run(bin, ["--help"], { cwd: tmp, env: BIN_ENV });
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /Commands:[\s\S]*acme-renew run/);
    const u = await run(bin, ["frobnicate"], { cwd: tmp, env: BIN_ENV });
    assert.equal(u.code, 64, u.stderr);
  });

  test("run on Pebble (first issuance), check, run again (not due, offline); no runtime warnings", async () => {
    pebble = await startPebble();
    const etc = join(tmp, "etc");
    const state = join(tmp, "state");
    mkdirSync(etc);
    mkdirSync(state);
    writeFileSync(join(etc, "pkg.example.com.json"), JSON.stringify({ ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}` }));
    const g = ["--config-dir", etc, "--state-dir", state];
    const env = BIN_ENV;
    const first = await run(bin, [...g, "run", "pkg.example.com"], { cwd: tmp, env, timeoutMs: 180_000 });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /renewed, valid until/);
    const c = await run(bin, [...g, "check", "pkg.example.com", "--json"], { cwd: tmp, env });
    assert.equal(c.code, 0, c.stderr);
    assert.equal((JSON.parse(c.stdout) as Array<{ status: string }>)[0]?.status, "valid");
    const again = await run("unshare", ["-n", bin, ...g, "run", "pkg.example.com"], { cwd: tmp, env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /not-due/);
    for (const r of [first, c, again]) {
      assert.doesNotMatch(r.stderr, /\(node:\d+\) (\[\w+\] )?\w*Warning/, "Node printed no deprecation or experimental warning");
    }
  });
});
