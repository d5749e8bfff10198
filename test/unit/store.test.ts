import { test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { install } from "../../src/store/install.js";
import { certPaths } from "../../src/store/paths.js";
import { acquireLock, lockHolder, LockBusy } from "../../src/store/lock.js";
import { inspect } from "../../src/inspect/read.js";
import { makeLeaf } from "../helpers/pki.js";

async function material(names = ["a.example.com"]) {
  const { key, cert, issuer } = await makeLeaf({ names });
  return { keyPem: key.pem, certPem: cert.toString("pem"), chainPem: issuer!.cert.toString("pem") };
}

test("install: stable symlinks through current, complete files, modes, versions kept and pruned", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-store-"));
  const p = certPaths(root, "a.example.com");
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const m = await material();
    ids.push(await install(p, m, { keep: 3, group: null, now: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) }));
    assert.equal(readFileSync(p.cert, "utf8").trim(), m.certPem.trim());
    assert.equal(readFileSync(p.key, "utf8").trim(), m.keyPem.trim());
    assert.equal(readFileSync(p.fullchain, "utf8"), `${m.certPem.trim()}\n${m.chainPem.trim()}\n`);
    assert.equal(readFileSync(p.full, "utf8"), `${m.keyPem.trim()}\n${m.certPem.trim()}\n${m.chainPem.trim()}\n`);
    const f = inspect(p);
    assert.equal(f.kind, "present");
    assert.ok(f.kind === "present" && f.keyMatches && f.chainPresent);
  }
  assert.equal(readlinkSync(p.current), join("versions", ids[4]!));
  for (const f of ["cert.pem", "key.pem", "chain.pem", "fullchain.pem", "full.pem"]) {
    assert.ok(lstatSync(join(p.dir, f)).isSymbolicLink(), f);
    assert.equal(readlinkSync(join(p.dir, f)), join("current", f));
  }
  assert.deepEqual(readdirSync(p.versions).sort(), ids.slice(2).sort(), "keeps the newest 3");
  assert.equal(statSync(p.key).mode & 0o777, 0o600);
  assert.equal(statSync(p.full).mode & 0o777, 0o600);
  assert.equal(statSync(p.cert).mode & 0o777, 0o644);
  assert.equal(statSync(p.dir).mode & 0o777, 0o750);
  assert.deepEqual(readdirSync(p.dir).filter((e) => e.includes(".tmp")), []);
});

test("install removes what killed runs left: temporary links and half-written state files", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-store-"));
  const p = certPaths(root, "a.example.com");
  await install(p, await material(), { keep: 3, group: null, now: new Date(Date.UTC(2026, 0, 1)) });
  const leftovers = [".state.json.0123456789ab.tmp", "cert.pem.tmp-deadbeef"];
  for (const f of leftovers) writeFileSync(join(p.dir, f), "x");
  writeFileSync(join(p.dir, "notes.tmp"), "an operator's file");
  await install(p, await material(), { keep: 3, group: null, now: new Date(Date.UTC(2026, 0, 2)) });
  const left = readdirSync(p.dir);
  for (const f of leftovers) assert.ok(!left.includes(f), `${f} removed`);
  assert.ok(left.includes("notes.tmp"), "files that are not ours stay");
});

test("install with a group: key files 0640 and owned by the group", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-store-"));
  const p = certPaths(root, "a.example.com");
  await install(p, await material(), { keep: 3, group: "daemon", now: new Date() });
  const st = statSync(p.key);
  assert.equal(st.mode & 0o777, 0o640);
  assert.equal(st.gid, Number(readFileSync("/etc/group", "utf8").split("\n").find((l) => l.startsWith("daemon:"))!.split(":")[2]));
  await assert.rejects(install(p, await material(), { keep: 3, group: "no-such-group-x", now: new Date() }), /group "no-such-group-x" does not exist/);
  assert.ok(inspect(p).kind === "present", "the failed install left the previous version in place");
});

test("install adopts plain files (lego layout) as a version before switching", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-store-"));
  const p = certPaths(root, "a.example.com");
  mkdirSync(p.dir, { recursive: true });
  const old = await material();
  writeFileSync(p.cert, old.certPem);
  writeFileSync(p.key, old.keyPem);
  writeFileSync(p.chain, old.chainPem);
  const m = await material();
  await install(p, m, { keep: 3, group: null, now: new Date() });
  assert.equal(readFileSync(p.cert, "utf8").trim(), m.certPem.trim());
  const adopted = readdirSync(p.versions).find((v) => v.endsWith("-adopted"));
  assert.ok(adopted, "the old files were kept as a version");
  assert.equal(readFileSync(join(p.versions, adopted, "cert.pem"), "utf8"), old.certPem);
});

test("lock: second taker waits then gets LockBusy; a dead owner's lock is taken over", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-lock-"));
  const file = join(root, ".lock");
  const l = await acquireLock(file, 1000);
  const t0 = Date.now();
  await assert.rejects(acquireLock(file, 300), LockBusy);
  assert.ok(Date.now() - t0 >= 250, "waited");
  await l.release();
  const l2 = await acquireLock(file, 100);
  await l2.release();
  // A lock left by a process that died (kill -9): a pid that no longer exists.
  const child = spawn(process.execPath, ["-e", "0"]);
  await new Promise((r) => child.on("exit", r));
  writeFileSync(file, `${child.pid} 12345`);
  const l3 = await acquireLock(file, 1000);
  assert.equal(readFileSync(file, "utf8").split(" ")[0], String(process.pid));
  await l3.release();
  assert.throws(() => statSync(file));
});

test("lock: many concurrent takers, exactly one holder at a time", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-lock-"));
  const file = join(root, ".lock");
  writeFileSync(file, "999999999 1"); // stale from the start: all race to reap it
  let inside = 0;
  let max = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      const l = await acquireLock(file, 10_000);
      inside++;
      max = Math.max(max, inside);
      await new Promise((r) => setTimeout(r, 10));
      inside--;
      await l.release();
    }),
  );
  assert.equal(max, 1);
});

test("lock: the file's content never decides — an empty file nobody holds is free, a held one (even empty) is busy", async () => {
  // CI on Node 26 at load 27 found two holders with the old pid-file lock: a taker read the empty
  // file of an owner still writing its name and removed it as stale. With flock(2) the kernel says
  // who holds it; what the file says is for messages only.
  const root = mkdtempSync(join(tmpdir(), "acme-renew-lock-"));
  const file = join(root, ".lock");
  writeFileSync(file, "");
  // A free lock is taken at once; the generous wait only covers spawning flock(1) on a loaded machine.
  const l = await acquireLock(file, 10_000);
  assert.equal(readFileSync(file, "utf8").split(" ")[0], String(process.pid), "an empty file nobody holds is free");
  await l.release();
  // Another process holds it and has written nothing (util-linux flock, as a holder before its write).
  writeFileSync(file, "");
  // Its own process group: `sleep` inherits the locked descriptor, so both must go at the end.
  const holder = spawn("flock", ["-x", file, "sleep", "30"], { stdio: "ignore", detached: true });
  try {
    for (let i = 0; i < 100 && !(await lockHolder(file)); i++) await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(acquireLock(file, 300), LockBusy, "a held lock is busy whatever its content");
    assert.equal(readFileSync(file, "utf8"), "", "and left alone");
  } finally {
    process.kill(-holder.pid!, "SIGKILL");
  }
  await new Promise((r) => holder.on("exit", r));
  const l2 = await acquireLock(file, 10_000);
  await l2.release();
});

test("pair proof: inspect skips the key import for the installed bytes, and re-checks when a file changes", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-store-"));
  const p = certPaths(root, "a.example.com");
  const m = await material();
  const id = await install(p, m, { keep: 3, group: null, now: new Date() });
  assert.ok(readFileSync(join(p.versions, id, ".pair-verified"), "utf8").includes('"key"'));
  const ok = inspect(p);
  assert.ok(ok.kind === "present" && ok.keyMatches);
  // Swap in another key (same type): the hash no longer matches, the full check finds the mismatch.
  const other = await material();
  writeFileSync(join(p.versions, id, "key.pem"), other.keyPem);
  const bad = inspect(p);
  assert.ok(bad.kind === "present" && !bad.keyMatches);
  writeFileSync(join(p.versions, id, "key.pem"), "garbage");
  assert.equal(inspect(p).kind, "unreadable");
  await assert.rejects(install(p, { ...m, keyPem: other.keyPem }, { keep: 3, group: null, now: new Date() }), /key does not belong/);
});

test("pending.json: written 0600 whatever the umask, read back exactly; a damaged one is a problem, not an exception", async () => {
  const { savePending, readPending, removePending } = await import("../../src/store/pending.js");
  const root = mkdtempSync(join(tmpdir(), "acme-renew-pending-"));
  const p = certPaths(root, "a.example.com");
  mkdirSync(p.dir, { recursive: true });
  assert.deepEqual(readPending(p), { pending: null, problem: null });
  const m = await material();
  const kept = { material: m, server: "https://ca.example/dir", profile: null, names: ["a.example.com"], at: new Date(Date.UTC(2027, 0, 1)) };
  const old = process.umask(0);
  try {
    assert.deepEqual(await savePending(p, kept), []);
  } finally {
    process.umask(old);
  }
  assert.equal(statSync(p.pending).mode & 0o777, 0o600);
  assert.deepEqual(readPending(p), { pending: kept, problem: null });
  assert.deepEqual(readdirSync(p.dir), ["pending.json"], "no temporary file left");
  writeFileSync(p.pending, '{"version": 1, "keyPem": ');
  const bad = readPending(p);
  assert.equal(bad.pending, null);
  assert.match(bad.problem ?? "", /pending\.json is unusable/);
  await removePending(p);
  assert.deepEqual(readPending(p), { pending: null, problem: null });
});

test("judgeNew: the pre-check's verdict on a certificate before it is installed", async () => {
  const { judgeNew } = await import("../../src/run/judge.js");
  const { emptyState } = await import("../../src/state/model.js");
  const policy = { names: ["a.example.com"], keyType: "ec256", validMinDays: null, clockFloor: null, ari: true, server: "https://ca.example/dir", profile: null };
  const ordered = { server: policy.server, profile: null, names: ["a.example.com"] };
  const now = new Date();
  const good = await material();
  const j = judgeNew(good, ordered, emptyState(), policy, now, "x");
  assert.equal(j.ok, true, j.decision.reasons.join("; "));
  assert.equal(j.issued?.chain, true);
  // No chain from the CA: recorded, not due.
  const chainless = judgeNew({ ...good, chainPem: "" }, ordered, emptyState(), policy, now, "x");
  assert.equal(chainless.ok, true, chainless.decision.reasons.join("; "));
  assert.equal(chainless.issued?.chain, false);
  // A name the CA added: fine. A configured name missing: not installed.
  assert.equal(judgeNew(await material(["a.example.com", "b.example.com"]), ordered, emptyState(), policy, now, "x").ok, true);
  assert.equal(judgeNew(good, ordered, emptyState(), { ...policy, names: ["a.example.com", "c.example.com"] }, now, "x").ok, false);
  // Another key, or an expired certificate: not installed. Its dates making it due: installed (the clock's fault).
  assert.equal(judgeNew({ ...good, keyPem: (await material()).keyPem }, ordered, emptyState(), policy, now, "x").ok, false);
  assert.equal(judgeNew(good, ordered, emptyState(), policy, new Date(now.getTime() + 400 * 86_400_000), "x").ok, false);
  const late = judgeNew(good, ordered, emptyState(), policy, new Date(now.getTime() + 80 * 86_400_000), "x");
  assert.deepEqual([late.ok, late.decision.dueReasons], [true, ["window"]]);
});

test("precheck: a pending certificate older than the one in place is not installed", async () => {
  const { savePending } = await import("../../src/store/pending.js");
  const { precheck } = await import("../../src/run/precheck.js");
  const { Logger } = await import("../../src/report/log.js");
  const root = mkdtempSync(join(tmpdir(), "acme-renew-pending-old-"));
  const p = certPaths(root, "a.example.com");
  const config = { name: "a.example.com", file: "/etc/acme-renew/a.example.com.json", domain: "a.example.com", extraDomainNames: [], email: null, acceptTerms: true, server: "https://ca.example/dir", caBundle: null, keyType: "ec256" as const, reuseKey: false, validMinDays: null, challenge: { type: "webroot" as const, webroot: "/w" }, reloadServices: [], postRun: null, group: null, profile: null, preferredChain: null, eab: null, ari: false, placeholder: true, keepVersions: 3, timeout: 600, hookTimeout: 60, stagingServer: null, ocspMustStaple: false, cluster: null };
  const leaf = async (days: number) => {
    const { key, cert, issuer } = await makeLeaf({ names: ["a.example.com"], notAfter: new Date(Date.now() + days * 86_400_000) });
    return { keyPem: key.pem, certPem: cert.toString("pem"), chainPem: issuer!.cert.toString("pem") };
  };
  await install(p, await leaf(80), { keep: 3, group: null, now: new Date() });
  const kept = (m: Awaited<ReturnType<typeof leaf>>) => ({ material: m, server: config.server, profile: null, names: ["a.example.com"], at: new Date() });
  const quiet = new Logger("text", () => {});
  await savePending(p, kept(await leaf(40)));
  const older = precheck(config, root, new Date(), quiet).pending;
  assert.equal(older?.ok, false);
  assert.match(older!.decision.reasons.join(), /expires before the certificate in place/);
  await savePending(p, kept(await leaf(89)));
  assert.equal(precheck(config, root, new Date(), quiet).pending?.ok, true);
});
