/**
 * The fan-out of `check`/`run --all` over worker threads (src/run/fanout.ts): the items, log lines
 * included, are those of one thread, in name order — also when a worker cannot start or dies
 * holding chunks it claimed. The CLI's output with and without it: test/e2e/fleet.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fanout } from "../../src/run/fanout.js";
import type { FanoutInput } from "../../src/run/fanout-jobs.js";
import { makeFleet, type Special } from "../helpers/fleet.js";

const SPECIAL: Record<number, Special> = { 3: "config-error", 150: "missing", 333: "backoff", 420: "hooks-owed", 599: "config-error" };
const fleet = makeFleet(600, SPECIAL);
const now = Date.now();
const input = async (job: FanoutInput["job"], more: Partial<FanoutInput> = {}): Promise<FanoutInput> => {
  const f = await fleet;
  return { job, configDir: f.etc, stateDir: f.state, logFormat: "text", now, ...more };
};
const helper = (f: string) => new URL(`../helpers/${f}`, import.meta.url);

for (const [job, more] of [["check", { output: "line" }], ["check", { output: "json" }], ["run", {}]] as const) {
  test(`${job} ${JSON.stringify(more)}: two threads give one thread's items, in name order`, async () => {
    const { names } = await fleet;
    const one = await fanout(names, await input(job, more), { threads: 1 });
    const two = await fanout(names, await input(job, more), { threads: 2 });
    // Workers alone (this thread would finish 600 before a worker has started).
    const workers = await fanout(names, await input(job, more), { threads: 3, mainTakesPart: false });
    assert.equal(one.byWorkers, 0);
    assert.equal(workers.byWorkers, 6, "the worker threads delivered every chunk");
    assert.equal(two.items.length, 600);
    assert.deepEqual(two.items, one.items);
    assert.deepEqual(workers.items, one.items);
    // The cases that differ are where they belong.
    const logs = two.items.map((i) => i.log as string);
    assert.match(logs[3]!, /^error: h00003\.example\.com: .*keyType/);
    if (job === "check") {
      assert.equal((two.items[150]!.out as { code: number }).code, 1);
      assert.equal((two.items[333]!.out as { code: number }).code, 0);
    } else {
      // No certificate, hooks owed: the main thread goes on with those (renewal, hooks), having logged nothing yet.
      assert.deepEqual([two.items[150], two.items[420]], [{ out: null, log: "" }, { out: null, log: "" }]);
      assert.equal((two.items[333]!.out as { outcome: string }).outcome, "waiting");
      assert.equal((two.items[1]!.out as { outcome: string }).outcome, "not-due");
    }
  });
}

test("a worker that cannot start, or dies holding chunks it claimed: the main thread does them", async () => {
  const { names } = await fleet;
  const one = await fanout(names, await input("check", { output: "line" }), { threads: 1 });
  const broken = await fanout(names, await input("check", { output: "line" }), { threads: 2, worker: helper("fanout-broken-worker.js"), mainTakesPart: false });
  // Workers alone: the dying ones claim chunks first, and this thread does them at the end.
  const dying = await fanout(names, await input("check", { output: "line" }), { threads: 3, worker: helper("fanout-dying-worker.js"), mainTakesPart: false });
  assert.equal(broken.byWorkers, 0);
  assert.equal(dying.byWorkers, 0);
  assert.deepEqual(broken.items, one.items);
  assert.deepEqual(dying.items, one.items);
});

test("journal: the records travel, not lines, for the main thread's logger to send", async () => {
  const { names } = await fleet;
  // From a worker (this thread not taking part): the records, their Date fields, cross over.
  const { items, byWorkers } = await fanout(names, await input("check", { output: "line", logFormat: "journal" }), { threads: 2, mainTakesPart: false });
  assert.equal(byWorkers, 6);
  const r = items[0]!.log;
  assert.ok(Array.isArray(r));
  assert.equal(r.length, 1);
  assert.equal(r[0]!.event, "check");
  assert.equal(r[0]!.level, "info");
  assert.equal(r[0]!.fields.cert, "h00000.example.com");
  assert.ok(r[0]!.fields.not_after instanceof Date);
});
