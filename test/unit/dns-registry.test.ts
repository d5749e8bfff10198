/** The provider codes config accepts, the modules that implement them, and README's table agree. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DNS_PROVIDER_CODES } from "../../src/config/dns-providers.js";
import { PROVIDERS } from "../../src/dns/providers/index.js";
import { ROOT } from "../helpers/cli.js";

test("every code config accepts has a module, and every module is reachable", async () => {
  assert.deepEqual([...new Set(Object.values(DNS_PROVIDER_CODES))].sort(), Object.keys(PROVIDERS).sort());
  for (const [code, load] of Object.entries(PROVIDERS)) {
    const d = await load();
    assert.equal(d.code, code, `the module for ${code} says it is ${d.code}`);
    assert.ok(d.required.length || code === "exec", `${code} names its required variables`);
  }
});

test("README's provider table lists every code and alias", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### dns-01 providers"));
  const rows = [...section.matchAll(/^\| (`[a-z0-9-]+`(?:, `[a-z0-9-]+`)*) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([a-z0-9-]+)`/g)].map((c) => c[1]!));
  assert.deepEqual([...rows].sort(), Object.keys(DNS_PROVIDER_CODES).sort());
});
