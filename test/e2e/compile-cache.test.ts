/**
 * Node's compile cache (Node 22+, src/cli/compile-cache.ts) in the unit's CACHE_DIRECTORY: written by
 * the first pre-check, read by the next; a directory others can write is not used; one that cannot be
 * written costs nothing but the cache — same output, same exit code, nothing on stderr about it.
 * Node 20 has none.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { writeCertDir } from "../helpers/pki.js";

const hasCache = Number(process.versions.node.split(".")[0]) >= 22;
/** The cache's files, each with its modification time. */
const files = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => `${d.name} ${statSync(join(d.parentPath, d.name)).mtimeMs}`) : [];

async function valid() {
  const s = sandbox();
  s.writeConfig("a.example.com", { webroot: "/var/www" });
  await writeCertDir(s.stateDir, "a.example.com", { names: ["a.example.com"] });
  return s;
}

test(`check keeps its compiled code in CACHE_DIRECTORY${hasCache ? "" : " (Node 20: no cache)"}`, async () => {
  const s = await valid();
  const cache = mkdtempSync(join(tmpdir(), "acme-renew-cache-"));
  // NODE_COMPILE_CACHE unset, as under systemd: the program enables the cache itself.
  const env = { NODE_COMPILE_CACHE: undefined, CACHE_DIRECTORY: cache };
  const first = await s.cli(["check", "a.example.com"], { env });
  assert.equal(first.code, 0, first.stderr);
  const written = files(join(cache, "node-compile-cache"));
  if (!hasCache) return assert.deepEqual(written, []);
  assert.equal(written.length, 1, "one entry: the offline core");
  const second = await s.cli(["check", "a.example.com"], { env });
  assert.equal(second.code, 0);
  assert.equal(second.stdout, first.stdout);
  assert.deepEqual(files(join(cache, "node-compile-cache")), written, "read, not written again (same file, same mtime)");
  // Turned off the way Node's own is.
  const off = mkdtempSync(join(tmpdir(), "acme-renew-cache-"));
  assert.equal((await s.cli(["check", "a.example.com"], { env: { ...env, CACHE_DIRECTORY: off, NODE_DISABLE_COMPILE_CACHE: "1" } })).code, 0);
  assert.deepEqual(files(off), []);
  // A directory the group may write: not ours alone, not used.
  const shared = mkdtempSync(join(tmpdir(), "acme-renew-cache-"));
  chmodSync(shared, 0o770);
  assert.equal((await s.cli(["check", "a.example.com"], { env: { ...env, CACHE_DIRECTORY: shared } })).code, 0);
  assert.deepEqual(files(shared), []);
});

test("a cache directory that cannot be written: the same check, nothing said about it", async () => {
  const s = await valid();
  // Ours and 0700 (so the program enables the cache), but a file stands where Node must make its
  // directory: it cannot write — for root too.
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-cache-"));
  writeFileSync(join(dir, "node-compile-cache"), "not a directory");
  const ref = await s.cli(["check", "a.example.com"], { env: { NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: "1" } });
  const r = await s.cli(["check", "a.example.com"], { env: { NODE_COMPILE_CACHE: undefined, CACHE_DIRECTORY: dir } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, ref.stdout);
  assert.equal(r.stderr, ref.stderr, "nothing on stderr about the cache");
  assert.equal(readFileSync(join(dir, "node-compile-cache"), "utf8"), "not a directory");
});
