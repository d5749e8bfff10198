/**
 * Where Node's compile cache goes (src/cli/compile-cache.ts): only the unit's CACHE_DIRECTORY, and
 * only while it is a directory of ours that nobody else can write (compiled code runs unverified).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileCacheDir } from "../../src/cli/compile-cache.js";

const dir = (uid: number, mode: number, isDir = true) => () => ({ uid, mode, isDirectory: () => isDir });

test("compile cache: CACHE_DIRECTORY (systemd CacheDirectory=), its first entry, ours and 0700/0755", () => {
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/var/cache/acme-renew:/var/cache/other" }, 990, dir(990, 0o40700)), "/var/cache/acme-renew/node-compile-cache");
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/var/cache/acme-renew" }, 0, dir(0, 0o40755)), "/var/cache/acme-renew/node-compile-cache");
});

test("compile cache: none outside a unit (root at a shell, the service user whose home is the state dir)", () => {
  assert.equal(compileCacheDir({}, 0, dir(0, 0o40700)), null);
  assert.equal(compileCacheDir({ HOME: "/var/lib/acme-renew", XDG_CACHE_HOME: "/x" }, 990, dir(990, 0o40700)), null);
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "relative" }, 990, dir(990, 0o40700)), null);
});

test("compile cache: none in a directory someone else owns or can write, nor where there is none", () => {
  // root running by hand with the unit's variable: the directory belongs to the service user.
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/var/cache/acme-renew" }, 0, dir(990, 0o40700)), null);
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/c" }, 990, dir(990, 0o40770)), null, "group-writable");
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/c" }, 990, dir(990, 0o40707)), null, "world-writable");
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/c" }, 990, dir(990, 0o100600, false)), null, "a file");
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/c" }, 990, () => undefined), null, "missing");
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/c" }, 990, () => { throw new Error("EACCES"); }), null);
});

test("compile cache: none when Node's own variables say so", () => {
  assert.equal(compileCacheDir({ NODE_COMPILE_CACHE: "/tmp/c", CACHE_DIRECTORY: "/c" }, 0, dir(0, 0o40700)), null, "Node enabled it itself");
  assert.equal(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: "1", CACHE_DIRECTORY: "/c" }, 0, dir(0, 0o40700)), null);
});
