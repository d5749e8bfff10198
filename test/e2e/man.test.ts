/**
 * acme-renew(1) (issue 15): man/acme-renew.1 is what the command definitions render (npm run man), groff
 * reads it without a warning, it names every command and option --help shows, and npm packs it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { manPage } from "../../src/cli/man.js";
import { COMMANDS } from "../../src/cli/definitions.js";
import { ROOT, runCli } from "../helpers/cli.js";

const FILE = join(ROOT, "man/acme-renew.1");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; files: string[]; man: string[] };

test("man/acme-renew.1 is up to date with the command definitions (npm run man)", () => {
  assert.equal(readFileSync(FILE, "utf8"), manPage(pkg.version));
});

test("groff renders it without a single warning", () => {
  const r = spawnSync("groff", ["-man", "-Tutf8", "-ww", "-z", FILE], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
});

test("the page has every command and every option --help shows for it", async () => {
  const r = spawnSync("groff", ["-man", "-Tutf8", "-P", "-cbou", FILE], { encoding: "utf8", timeout: 30_000, env: { ...process.env, MANWIDTH: "200" } });
  assert.equal(r.status, 0, r.stderr);
  // Hyphens and line breaks as groff sets them: compare words.
  const page = r.stdout.replace(/\u2010/g, "-").replace(/-\n\s*/g, "-").replace(/\s+/g, " ");
  for (const c of COMMANDS) {
    const name = c.command.split(" ")[0]!;
    assert.match(page, new RegExp(`acme-renew ${name}\\b`), name);
    const help = await runCli([name, "--help"], { env: { COLUMNS: "200" } });
    assert.equal(help.code, 0, help.stderr);
    for (const opt of new Set(help.stdout.match(/--[a-z][a-z-]*/g) ?? [])) assert.ok(page.includes(opt), `${name}: ${opt} of --help is in the man page`);
  }
});

test("npm packs the man page and declares it (package.json files and man)", () => {
  assert.ok(pkg.files.includes("man"));
  assert.deepEqual(pkg.man, ["man/acme-renew.1"]);
  const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  assert.ok(files.includes("man/acme-renew.1"), files.join("\n"));
});
