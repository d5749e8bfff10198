import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebrootSolver } from "../../src/challenges/webroot.js";
import { AcmeFailure } from "../../src/acme/errors.js";

const task = { identifier: "a.example.com", wildcard: false, token: "tok-123", keyAuthorization: "tok-123.thumb" };

test("webroot: challenge file world-readable in directories the web server can enter, whatever the umask; cleanup removes it", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-webroot-"));
  const old = process.umask(0o027);
  try {
    const s = new WebrootSolver(root);
    await s.prepare(task);
    const file = join(root, ".well-known", "acme-challenge", "tok-123");
    assert.equal(readFileSync(file, "utf8"), "tok-123.thumb");
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.equal(statSync(join(root, ".well-known")).mode & 0o777, 0o755);
    assert.equal(statSync(join(root, ".well-known", "acme-challenge")).mode & 0o777, 0o755);
    await s.cleanup(task);
    assert.equal(existsSync(file), false);
    await s.prepare(task); // directories already there
    assert.equal(readFileSync(file, "utf8"), "tok-123.thumb");
  } finally {
    process.umask(old);
  }
});

test("webroot: a missing webroot or one below a file is a local failure naming the real cause", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-webroot-"));
  const missing = new WebrootSolver(join(root, "nope"));
  await assert.rejects(missing.prepare(task), (e: unknown) => e instanceof AcmeFailure && e.cls === "local" && /\(ENOENT: .*nope does not exist\)/.test(e.message));
  writeFileSync(join(root, "a-file"), "");
  const below = new WebrootSolver(join(root, "a-file", "www"));
  await assert.rejects(below.prepare(task), (e: unknown) => e instanceof AcmeFailure && /cannot write the challenge file \(ENOTDIR\)/.test(e.message));
});
