/** Where Node's compile cache goes (src/cli/compile-cache.ts): the systemd unit's, root's, a user's, or nowhere. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileCacheDir } from "../../src/cli/compile-cache.js";

const home = () => "/home/u";

test("compile cache: CACHE_DIRECTORY (systemd CacheDirectory=) first, its first entry", () => {
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/var/cache/acme-renew:/var/cache/other" }, 990, home), "/var/cache/acme-renew/node-compile-cache");
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "/var/cache/acme-renew" }, 0, home), "/var/cache/acme-renew/node-compile-cache");
});

test("compile cache: root without systemd → /var/cache/acme-renew; a user → XDG_CACHE_HOME or ~/.cache", () => {
  assert.equal(compileCacheDir({}, 0, home), "/var/cache/acme-renew/node-compile-cache");
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: "/x/cache" }, 1000, home), "/x/cache/acme-renew/node-compile-cache");
  assert.equal(compileCacheDir({}, 1000, home), "/home/u/.cache/acme-renew/node-compile-cache");
  // Relative paths are nobody's cache: XDG says to ignore them.
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: "rel" }, 1000, home), "/home/u/.cache/acme-renew/node-compile-cache");
  assert.equal(compileCacheDir({ CACHE_DIRECTORY: "rel" }, 1000, home), "/home/u/.cache/acme-renew/node-compile-cache");
});

test("compile cache: none when Node's own variables say so, or there is no home", () => {
  assert.equal(compileCacheDir({ NODE_COMPILE_CACHE: "/tmp/c" }, 0, home), null, "Node enabled it itself");
  assert.equal(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: "1", CACHE_DIRECTORY: "/var/cache/acme-renew" }, 0, home), null);
  assert.equal(compileCacheDir({}, 1000, () => { throw new Error("no home"); }), null);
  assert.equal(compileCacheDir({}, 1000, () => ""), null);
});
