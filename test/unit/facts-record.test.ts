/**
 * The facts record (.facts.json) an install writes into its version directory, and the pre-check's
 * use of it: taken as recorded while cert.pem, key.pem and chain.pem keep their stat identity, else
 * ignored for the full check. A record must never make a certificate look better than its files are.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { install } from "../../src/store/install.js";
import { certPaths, type CertPaths } from "../../src/store/paths.js";
import { factsOf, inspect } from "../../src/inspect/read.js";
import { FACTS_FILE, recordedFacts } from "../../src/inspect/recorded.js";
import { decide } from "../../src/decide/decide.js";
import { emptyState } from "../../src/state/model.js";
import { installPlaceholder } from "../../src/renew/placeholder.js";
import { ConfigLoader } from "../../src/config/load.js";
import { DAY, makeLeaf, testCa, writeCertDir } from "../helpers/pki.js";
import { createCertificate } from "../../src/crypto/certs.js";
import { importKeyPair } from "../../src/crypto/keys.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import type { Inspection } from "../../src/inspect/facts.js";

const NAME = "a.example.com";

async function installed(o: Parameters<typeof makeLeaf>[0] = { names: [NAME] }): Promise<{ p: CertPaths; version: string }> {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-facts-"));
  const p = certPaths(root, NAME);
  const { key, cert, issuer } = await makeLeaf(o);
  await install(p, { keyPem: key.pem, certPem: cert.toString("pem"), chainPem: issuer!.cert.toString("pem") }, { keep: 3, group: null, now: new Date() });
  return { p, version: realpathSync(p.current) };
}

/** What the full check says about the files (the record not consulted). */
function fullCheck(version: string): Inspection {
  const read = (f: string) => readFileSync(join(version, f), "utf8");
  return factsOf({ cert: read("cert.pem"), key: read("key.pem"), chain: read("chain.pem") }, { cert: "cert.pem", key: "key.pem" });
}

const policy = { names: [NAME], keyType: "ec256", validMinDays: null, clockFloor: null, ari: false, server: "https://ca.example/dir", profile: null };
const judge = (p: CertPaths, now = new Date()) => decide(inspect(p), emptyState(), policy, now);

/** Rewrites `file` in place (same inode) and puts its mtime back to the nanosecond (touch -r): only ctime still tells. */
function rewriteKeepingMtime(file: string, data: string): void {
  const ref = `${file}.times`;
  execFileSync("touch", ["-r", file, ref]);
  writeFileSync(file, data);
  execFileSync("touch", ["-r", ref, file]);
  rmSync(ref);
}

test("install writes the facts record: the same facts as the full check, pinned to the files' stat identity", async () => {
  const { p, version } = await installed();
  assert.ok(existsSync(join(version, FACTS_FILE)), "the version directory has the record");
  const rec = JSON.parse(readFileSync(join(version, FACTS_FILE), "utf8"));
  for (const f of ["cert.pem", "key.pem", "chain.pem"]) {
    const st = statSync(join(version, f), { bigint: true });
    assert.deepEqual(rec.files[f], { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) }, f);
  }
  assert.deepEqual(recordedFacts(version), fullCheck(version));
  assert.deepEqual(inspect(p), fullCheck(version));
  assert.equal(judge(p).status, "valid");
});

test("the pre-check takes the record while the files are unchanged (no PEM read), and ignores it once one changes", async () => {
  const { p, version } = await installed();
  // A record that says something the files do not (another serial) shows whether it was used.
  const file = join(version, FACTS_FILE);
  const rec = JSON.parse(readFileSync(file, "utf8"));
  rec.facts.serialHex = "0badc0de";
  writeFileSync(file, JSON.stringify(rec));
  const i = inspect(p);
  assert.ok(i.kind === "present" && i.serialHex === "0badc0de", "the record was used");
  // Touch chain.pem (same bytes, new mtime): the full check runs and reads the real serial.
  const now = new Date();
  utimesSync(join(version, "chain.pem"), now, now);
  const j = inspect(p);
  assert.ok(j.kind === "present" && j.serialHex !== "0badc0de", "a changed file: the record is ignored");
  assert.deepEqual(j, fullCheck(version));
});

test("a key replaced in place (same size, mtime put back) is a mismatch, not the recorded pair", async () => {
  const { p, version } = await installed();
  const other = (await generateKeyPair("ec256")).pem;
  const keyFile = join(version, "key.pem");
  const before = statSync(keyFile, { bigint: true });
  assert.equal(Buffer.byteLength(other), Number(before.size), "same size: only the times can tell");
  rewriteKeepingMtime(keyFile, other);
  const after = statSync(keyFile, { bigint: true });
  assert.ok(after.ino === before.ino && after.size === before.size && after.mtimeNs === before.mtimeNs, "same inode, size and mtime");
  assert.equal(recordedFacts(version), null, "ctime changed: no recorded facts");
  const d = judge(p);
  assert.equal(d.status, "mismatch");
  assert.equal(d.usable, false);
});

test("a cert replaced by an expired one for the same key is expired; a recorded cert is judged against the clock like any other", async () => {
  const { p, version } = await installed();
  const ca = await testCa();
  const keyPem = readFileSync(join(version, "key.pem"), "utf8");
  const key = await importKeyPair(keyPem, "ec256");
  const expired = await createCertificate({ names: [NAME], key, issuer: ca, notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - DAY) });
  writeFileSync(join(version, "cert.pem"), expired.toString("pem"));
  const d = judge(p);
  assert.equal(d.status, "expired", d.reasons.join("; "));
  assert.equal(d.usable, false);
  // Unchanged files, but the clock past notAfter: the record holds dates, never "valid".
  const fresh = await installed();
  const f = inspect(fresh.p);
  assert.ok(f.kind === "present");
  const later = new Date(f.notAfter.getTime() + 1000);
  assert.equal(judge(fresh.p, later).status, "expired");
  assert.equal(judge(fresh.p, later).usable, false);
});

test("chain.pem emptied or removed: the full check sees no chain", async () => {
  const { p, version } = await installed();
  writeFileSync(join(version, "chain.pem"), "");
  const i = inspect(p);
  assert.ok(i.kind === "present" && !i.chainPresent);
  const b = await installed();
  rmSync(join(b.version, "chain.pem"));
  const j = inspect(b.p);
  assert.ok(j.kind === "present" && !j.chainPresent);
});

test("a corrupt, truncated, foreign or wrongly typed record is ignored, never fatal", async () => {
  const { p, version } = await installed();
  const truth = fullCheck(version);
  const file = join(version, FACTS_FILE);
  const good = readFileSync(file, "utf8");
  const rec = JSON.parse(good);
  const variants: Array<[string, string]> = [
    ["garbage", "\u0000\u0001 not json"],
    ["truncated", good.slice(0, good.length >> 1)],
    ["empty", ""],
    ["an array", "[]"],
    ["null", "null"],
    ["a newer version", JSON.stringify({ ...rec, version: 2 })],
    ["no files", JSON.stringify({ ...rec, files: undefined })],
    ["a file missing from files", JSON.stringify({ ...rec, files: { ...rec.files, "key.pem": undefined } })],
    ["ino as a number", JSON.stringify({ ...rec, files: { ...rec.files, "cert.pem": { ...rec.files["cert.pem"], ino: Number(rec.files["cert.pem"].ino) } } })],
    ["a bad date", JSON.stringify({ ...rec, facts: { ...rec.facts, notAfter: "someday" } })],
    ["keyMatches as a string", JSON.stringify({ ...rec, facts: { ...rec.facts, keyMatches: "true" } })],
    ["placeholder missing", JSON.stringify({ ...rec, facts: { ...rec.facts, placeholder: undefined } })],
    ["names not strings", JSON.stringify({ ...rec, facts: { ...rec.facts, names: [1] } })],
    ["another kind", JSON.stringify({ ...rec, facts: { ...rec.facts, kind: "missing" } })],
  ];
  for (const [what, text] of variants) {
    writeFileSync(file, text);
    assert.equal(recordedFacts(version), null, what);
    assert.deepEqual(inspect(p), truth, `${what}: the full check`);
  }
  // A record that is a directory, or unreadable to us, is no record either.
  writeFileSync(file, good);
  chmodSync(file, 0o000);
  if (process.getuid?.() !== 0) assert.equal(recordedFacts(version), null, "unreadable");
  chmodSync(file, 0o644);
  assert.deepEqual(recordedFacts(version), truth, "the intact record is used again");
});

test("a placeholder's record says placeholder: the pre-check reports it as one", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-facts-"));
  writeFileSync(join(root, `${NAME}.json`), JSON.stringify({ webroot: "/var/www" }));
  const c = new ConfigLoader(root).load(NAME);
  const p = certPaths(join(root, "state"), NAME);
  await installPlaceholder(c, p, new Date());
  const version = realpathSync(p.current);
  const rec = recordedFacts(version);
  assert.ok(rec?.placeholder === true, "recorded as a placeholder");
  assert.deepEqual(rec, fullCheck(version));
  const d = judge(p);
  assert.ok(d.dueReasons.includes("placeholder"), d.reasons.join("; "));
  assert.equal(d.renew, true);
});

test("plain files adopted as a version carry no record: the full check, every time", async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-facts-"));
  await writeCertDir(root, NAME, { names: [NAME], wrongKey: true });
  const p = certPaths(root, NAME);
  // The next install adopts the plain files first (versions/<id>-adopted), then installs the new pair.
  const { key, cert, issuer } = await makeLeaf({ names: [NAME] });
  await install(p, { keyPem: key.pem, certPem: cert.toString("pem"), chainPem: issuer!.cert.toString("pem") }, { keep: 3, group: null, now: new Date() });
  const { readdirSync } = await import("node:fs");
  const adopted = readdirSync(p.versions).find((v) => v.endsWith("-adopted"));
  assert.ok(adopted, "the plain files were adopted");
  assert.equal(existsSync(join(p.versions, adopted!, FACTS_FILE)), false, "no record for files nobody verified");
  assert.equal(recordedFacts(join(p.versions, adopted!)), null);
  // And plain files in the cert dir itself (no current link) are read in full: the wrong key shows.
  const plainRoot = mkdtempSync(join(tmpdir(), "acme-renew-facts-"));
  await writeCertDir(plainRoot, NAME, { names: [NAME], wrongKey: true });
  assert.equal(judge(certPaths(plainRoot, NAME)).status, "mismatch");
});

test("installed and plain certificates in any order: each takes its record or its full check (the order inspect tries them in follows the last one)", async () => {
  const a = await installed();
  const b = await installed();
  const plainRoot = mkdtempSync(join(tmpdir(), "acme-renew-facts-"));
  await writeCertDir(plainRoot, NAME, { names: [NAME] });
  const plain = certPaths(plainRoot, NAME);
  // Records that say another serial show where they were used.
  for (const v of [a.version, b.version]) {
    const rec = JSON.parse(readFileSync(join(v, FACTS_FILE), "utf8"));
    rec.facts.serialHex = "0badc0de";
    writeFileSync(join(v, FACTS_FILE), JSON.stringify(rec));
  }
  const serial = (i: Inspection) => (i.kind === "present" ? i.serialHex : i.kind);
  const plainFull = fullCheck(plain.dir);
  for (const step of [a, plain, plain, a, b, plain, b, a]) {
    if ("p" in step) assert.equal(serial(inspect(step.p)), "0badc0de", "installed: the record");
    else assert.deepEqual(inspect(step), plainFull, "plain: the full check");
  }
  // A record whose file changed, right after one that was taken: the full check all the same.
  assert.equal(serial(inspect(a.p)), "0badc0de");
  const now = new Date();
  utimesSync(join(b.version, "chain.pem"), now, now);
  assert.deepEqual(inspect(b.p), fullCheck(b.version));
  assert.equal(serial(inspect(a.p)), "0badc0de");
});
