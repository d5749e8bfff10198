/** The file backend (one host) against the storage contract, plus what only files can get wrong. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openFiles } from "../../src/cluster/open.js";
import { isClusterError } from "../../src/cluster/errors.js";
import { storageContract } from "../helpers/storage-contract.js";

async function fileTarget() {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-kv-"));
  mkdirSync(join(root, "locks"));
  const backend = await openFiles(join(root, "kv"), (name) => join(root, "locks", `${name}.lock`));
  let n = 0;
  return { backend, prefix: "/t", lockName: (tag: string) => `c-${tag}-${++n}`, root };
}

storageContract("file", fileTarget);

test("file: concurrent CAS from one version: exactly one wins, the others see its value", async () => {
  const { backend: b } = await fileTarget();
  const v0 = await b.storage.put("/race/x", Buffer.from("0"));
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => b.storage.compareAndSwap("/race/x", v0, Buffer.from(`w${i}`))));
  const wins = results.filter((r) => r.ok);
  assert.equal(wins.length, 1);
  const final = (await b.storage.get("/race/x"))!.value.toString();
  for (const r of results) if (!r.ok) assert.equal(r.current?.value.toString(), final);
});

test("file: a value file not written by acme-renew is a corrupt error naming its path", async () => {
  const { backend: b, root } = await fileTarget();
  await b.storage.put("/c/x", Buffer.from("ok"));
  writeFileSync(join(root, "kv", "c", "x"), "garbage without a header");
  await assert.rejects(b.storage.get("/c/x"), (e) => isClusterError(e, "corrupt") && e.message.includes(join(root, "kv", "c", "x")));
});

test("file: keys with '..', empty or hidden segments are refused", async () => {
  const { backend: b } = await fileTarget();
  for (const k of ["/a/../b", "/a//b", "/.locks/x", "/a/.hidden"]) await assert.rejects(b.storage.get(k), (e) => isClusterError(e, "config"), k);
});
