/**
 * `acme-renew delete <name>` (issue 15): refused while the config names the certificate (unless
 * --force); gone as a whole (one rename under the lock, then removal: kill -9 at any instant leaves
 * the certificate complete or gone, and the next delete removes what was left aside); bad input gets
 * one line, exit 64, and nothing changes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireLock } from "../../src/store/lock.js";
import { CLI, sandbox, type CliResult } from "../helpers/cli.js";
import { writeCertDir } from "../helpers/pki.js";
import { treeHash } from "../helpers/tree-hash.js";

const NAME = "old.example.com";
const errorLines = (r: CliResult) => r.stderr.split("\n").filter((l) => l.startsWith("error:"));

async function withCert() {
  const s = sandbox();
  await writeCertDir(s.stateDir, NAME, { names: [NAME] });
  writeFileSync(join(s.stateDir, NAME, "state.json"), JSON.stringify({ version: 1, consecutiveFailures: 0 }));
  return s;
}

test("delete removes the certificate's directory once no config names it; nothing is left aside", async () => {
  const s = await withCert();
  const r = await s.cli(["delete", NAME]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /deleted .*old\.example\.com/);
  assert.deepEqual(readdirSync(s.stateDir), []);
});

test("delete refuses while the config exists (64, one line, nothing changed); --force deletes and keeps the config", async () => {
  const s = await withCert();
  s.writeConfig(NAME, { webroot: "/var/www" });
  const hash = treeHash(s.configDir, s.stateDir);
  const r = await s.cli(["delete", NAME]);
  assert.equal(r.code, 64, r.stderr);
  assert.equal(errorLines(r).length, 1, r.stderr);
  assert.match(errorLines(r)[0]!, /old\.example\.com\.json still names this certificate: remove the config first, or give --force/);
  assert.equal(treeHash(s.configDir, s.stateDir), hash);
  const f = await s.cli(["delete", NAME, "--force"]);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stderr, /old\.example\.com\.json remains: the next run orders a new certificate/);
  assert.ok(!existsSync(join(s.stateDir, NAME)));
  assert.ok(existsSync(join(s.configDir, `${NAME}.json`)));
  const check = await s.cli(["check", NAME]);
  assert.match(check.stdout, /\tmissing\t/);
});

test("unknown or malformed names: one line, 64, nothing changed", async () => {
  const s = await withCert();
  const hash = treeHash(s.configDir, s.stateDir);
  for (const [name, why] of [
    ["nope.example.com", /no certificate "nope\.example\.com" in /],
    ["../etc", /"\.\.\/etc" is not a certificate name/],
    ["accounts/x", /is not a certificate name/],
  ] as const) {
    const r = await s.cli(["delete", name]);
    assert.equal(r.code, 64, r.stderr);
    assert.equal(errorLines(r).length, 1, r.stderr);
    assert.match(errorLines(r)[0]!, why);
  }
  assert.equal(treeHash(s.configDir, s.stateDir), hash);
});

test("while another process holds the certificate's lock: exit 1, nothing deleted", async () => {
  const s = await withCert();
  const hash = treeHash(s.stateDir);
  const lock = await acquireLock(join(s.stateDir, NAME, ".lock"), 1000);
  try {
    const r = await s.cli(["delete", NAME]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(errorLines(r)[0]!, /another run holds .*\.lock .*nothing deleted/);
  } finally {
    await lock.release();
  }
  assert.equal(treeHash(s.stateDir), hash);
});

/** A certificate with many files, so that the removal after the rename takes a while. */
async function bulky() {
  const s = await withCert();
  const bulk = join(s.stateDir, NAME, "versions", "20250101T000000Z-000000");
  mkdirSync(bulk, { recursive: true });
  for (let f = 0; f < 400; f++) writeFileSync(join(bulk, `f${f}`), "x".repeat(512));
  s.writeConfig(NAME, { webroot: "/var/www", ari: false });
  return s;
}

test("kill -9 at random instants of a delete, and right after its rename: the certificate is complete (check: valid) or gone, never half; the next delete finishes", { timeout: 300_000 }, async (t) => {
  // How long one delete takes here: the kills are spread over that.
  const probe = await bulky();
  const full = await probe.cli(["delete", NAME, "--force"]);
  assert.equal(full.code, 0, full.stderr);
  let gone = 0;
  let kept = 0;
  let aside = 0;
  for (let i = 0; i < 24; i++) {
    const s = await bulky();
    const child = spawn(process.execPath, [CLI, "--config-dir", s.configDir, "--state-dir", s.stateDir, "delete", NAME, "--force"], { stdio: "ignore" });
    const exited = new Promise((r) => child.once("exit", r));
    if (i % 2 === 0) await new Promise((r) => setTimeout(r, Math.random() * full.ms * 1.2));
    else {
      // The instant the directory is moved aside: the removal is under way.
      const w = watch(s.stateDir);
      await Promise.race([new Promise((r) => w.on("change", (_e, f) => String(f).startsWith(".deleted-") && r(null))), exited]);
      w.close();
    }
    child.kill("SIGKILL");
    await exited;
    if (existsSync(join(s.stateDir, NAME))) {
      kept++;
      const check = await s.cli(["check", NAME]);
      assert.equal(check.code, 0, `left in place, it is whole: ${check.stderr}`);
    } else gone++;
    let leftovers = 0;
    if (readdirSync(s.stateDir).length) {
      leftovers += readdirSync(s.stateDir).filter((e) => e.startsWith(".deleted-")).length;
      const again = await s.cli(["delete", NAME, "--force"]);
      assert.equal(again.code, 0, again.stderr);
    }
    assert.deepEqual(readdirSync(s.stateDir), [], "nothing left aside");
    aside += leftovers;
  }
  t.diagnostic(`${aside} killed runs left a directory aside, which the next delete removed`);
  t.diagnostic(`one delete: ${full.ms} ms; killed runs: ${gone} had deleted the certificate, ${kept} had not yet`);
  assert.ok(gone >= 6, `the kills after the rename found it gone (${gone})`);
});
