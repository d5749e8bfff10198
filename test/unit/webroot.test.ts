import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
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
    await s.close();
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

/**
 * Symlink attacks: whoever can write the webroot (the web server's user, a site's owner) plants a
 * symbolic link where acme-renew writes, hoping it creates, overwrites, chmods or deletes a file
 * elsewhere. Each level — .well-known, acme-challenge, the token file — is refused, naming the path,
 * and nothing outside the webroot changes.
 */
function attackSetup() {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-webroot-"));
  const www = join(root, "www");
  const outside = join(root, "outside");
  mkdirSync(www);
  mkdirSync(outside);
  const victim = join(outside, "victim");
  writeFileSync(victim, "precious", { mode: 0o600 });
  return { root, www, outside, victim };
}

function snapshot(dir: string): string {
  return JSON.stringify(readdirSync(dir).sort().map((e) => [e, lstatSync(join(dir, e)).mode, lstatSync(join(dir, e)).isFile() ? readFileSync(join(dir, e), "utf8") : ""]));
}

const refusal = (path: string) => (e: unknown) => e instanceof AcmeFailure && e.cls === "local" && e.message.includes(path) && /symbolic link/.test(e.message);

test("webroot: .well-known as a symbolic link (to a directory, or dangling) is refused, nothing written through it", async () => {
  for (const dangling of [false, true]) {
    const a = attackSetup();
    const target = dangling ? join(a.outside, "not-yet") : a.outside;
    symlinkSync(target, join(a.www, ".well-known"));
    if (!dangling) mkdirSync(join(a.outside, "acme-challenge"));
    const before = snapshot(a.outside);
    await assert.rejects(new WebrootSolver(a.www).prepare(task), refusal(join(a.www, ".well-known")));
    assert.equal(snapshot(a.outside), before, "nothing changed outside the webroot");
    if (!dangling) assert.deepEqual(readdirSync(join(a.outside, "acme-challenge")), []);
    assert.equal(existsSync(join(a.outside, "not-yet")), false);
  }
});

test("webroot: .well-known/acme-challenge as a symbolic link is refused", async () => {
  for (const dangling of [false, true]) {
    const a = attackSetup();
    mkdirSync(join(a.www, ".well-known"));
    symlinkSync(dangling ? join(a.outside, "not-yet") : a.outside, join(a.www, ".well-known", "acme-challenge"));
    const before = snapshot(a.outside);
    await assert.rejects(new WebrootSolver(a.www).prepare(task), refusal(join(a.www, ".well-known", "acme-challenge")));
    assert.equal(snapshot(a.outside), before, "nothing created outside the webroot");
    assert.equal(existsSync(join(a.outside, "not-yet")), false);
  }
});

test("webroot: a token file that is a symbolic link is refused: the target is neither overwritten, chmodded nor created", async () => {
  for (const dangling of [false, true]) {
    const a = attackSetup();
    const dir = join(a.www, ".well-known", "acme-challenge");
    mkdirSync(dir, { recursive: true });
    const target = dangling ? join(a.outside, "created") : a.victim;
    symlinkSync(target, join(dir, task.token));
    const before = snapshot(a.outside);
    await assert.rejects(new WebrootSolver(a.www).prepare(task), refusal(join(dir, task.token)));
    assert.equal(snapshot(a.outside), before, "victim unchanged (content and mode), nothing created");
    assert.equal(statSync(a.victim).mode & 0o777, 0o600);
  }
});

test("webroot: a leftover token file from a killed run is replaced; a directory swapped for a link before cleanup does not make cleanup delete elsewhere", async () => {
  const a = attackSetup();
  const dir = join(a.www, ".well-known", "acme-challenge");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, task.token), "stale");
  const s = new WebrootSolver(a.www);
  await s.prepare(task);
  assert.equal(readFileSync(join(dir, task.token), "utf8"), task.keyAuthorization);
  // Between prepare and cleanup the attacker moves acme-challenge away and links it to a directory
  // holding a file with the token's name.
  renameSync(dir, join(a.www, ".well-known", "moved"));
  writeFileSync(join(a.outside, task.token), "precious too");
  symlinkSync(a.outside, dir);
  await s.cleanup(task);
  await s.close();
  assert.equal(readFileSync(join(a.outside, task.token), "utf8"), "precious too", "the file behind the link survives");
  assert.equal(existsSync(join(a.www, ".well-known", "moved", task.token)), false, "our own file (in the directory we wrote to) is gone");
});

test("webroot: a token that is not base64url (a hostile CA: ../) is refused", async () => {
  const a = attackSetup();
  await assert.rejects(new WebrootSolver(a.www).prepare({ ...task, token: "../../outside/victim" }), (e: unknown) => e instanceof AcmeFailure && /token/.test(e.message));
  assert.equal(readFileSync(a.victim, "utf8"), "precious");
});
