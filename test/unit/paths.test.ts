import { test } from "node:test";
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { certPaths } from "../../src/store/paths.js";

test("certPaths: the directory is join(stateDir, name) and the files in it, for every kind of state dir and name", () => {
  const dirs = ["/var/lib/acme", "/var/lib/acme/", "/var//lib/./acme", "/", "", ".", "rel/dir", "a/../b", "/x/..", "/var/lib/acme", "/other"];
  const names = ["example.com", "a..b", "x.", "_acme", "Ex-1", "..", ".", ".hidden", "a/b", "../up", "a b", "*.example.com"];
  for (const d of dirs)
    for (const n of names) {
      const p = certPaths(d, n);
      assert.equal(p.dir, join(d, n), `${JSON.stringify(d)} ${JSON.stringify(n)}`);
      assert.equal(resolve(p.state), resolve(d, n, "state.json"));
      assert.equal(resolve(p.pending), resolve(d, n, "pending.json"));
    }
});
