/**
 * The reliability suite: named fault scenarios through the built CLI against a real Pebble, each
 * asserting the exit code and that nothing was lost (see README.md in this folder for the table).
 * Everything runs in this one process so that the last test sees the output of every CLI run.
 *
 *   npx tsc && node scripts/build.mjs && node --test build/test/reliability/*.test.js
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/cli.js";
import { exitCleanlyOnSignals, registerKeyMaterial, removeSandboxes, sandboxRoots, secretCount, secretLeaks, transcript } from "../helpers/reliability.js";
import { registerCluster } from "./cluster.js";
import { registerDnsScenarios } from "./dns.js";
import { registerFaultScenarios, scenario, scenarioNames } from "./faults.js";
import { registerFuzz } from "./fuzz.js";
import { registerKill9 } from "./kill9.js";
import { registerReady } from "./ready.js";
import { startShared, stopShared } from "./setup.js";

exitCleanlyOnSignals();

describe("reliability", { timeout: 1_200_000 }, () => {
  before(async () => {
    await startShared();
  });
  after(async () => {
    await stopShared();
    removeSandboxes();
  });

  // The fault scenarios mostly wait (deadlines, retries, a stuck order); the kill -9 loop mostly
  // computes. They run side by side; the kill delays follow the load (see kill9.ts).
  const concurrency = Math.max(1, Number(process.env.RELIABILITY_CONCURRENCY ?? 4));
  describe("scenarios", { concurrency: 2 }, () => {
    describe("faults", { concurrency }, () => {
      registerFaultScenarios();
      registerDnsScenarios();
      registerFuzz();
      registerReady();
    });
    describe("crashes", () => {
      registerKill9();
      registerCluster();
    });
  });

  describe("whole suite", () => {
    scenario("secrets-never-logged", 60_000, async (t) => {
      let keyLines = 0;
      for (const r of sandboxRoots()) keyLines += registerKeyMaterial(r);
      const n = secretCount();
      t.diagnostic(`${transcript.length} CLI runs checked for ${n.all} distinct secret strings (${n.explicit} explicit, the rest private-key lines; ${keyLines} key lines scanned)`);
      assert.ok(transcript.length >= 200, "the whole suite went through the wrapper");
      assert.ok(transcript.some((r) => r.debug), "some runs were made with ACME_RENEW_DEBUG=1");
      assert.ok(keyLines > 0 && n.explicit >= 7 && n.all > n.explicit, "key material and the explicit secrets are registered");
      assert.deepEqual(secretLeaks(), []);
    });

    test("readme-lists-every-scenario", { timeout: 10_000 }, () => {
      const readme = readFileSync(join(ROOT, "test/reliability/README.md"), "utf8");
      // The table of the "## Scenarios" section (other tables, e.g. the bugs found, name scenarios too).
      const section = readme.slice(readme.indexOf("\n## Scenarios"), readme.indexOf("\n## ", readme.indexOf("\n## Scenarios") + 1));
      const listed = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]!);
      assert.deepEqual([...listed].sort(), [...scenarioNames].sort(), "README.md's table names exactly the scenarios");
    });
  });
});
