/**
 * Item 3 of issue 11: a failed reload is state, and is retried. The reload hooks of an installed
 * certificate are owed until they succeed: every `run` (due or not) runs them again; `status`, the
 * exit code (75) and the Prometheus textfile show it. Real Pebble, stub systemctl, built CLI.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { baseConfig, stubSystemctl } from "../helpers/acme-fixtures.js";

const NAME = "hooks.example.com";

function state(stateDir: string) {
  return JSON.parse(readFileSync(join(stateDir, NAME, "state.json"), "utf8"));
}
const calls = (root: string) => (existsSync(join(root, "systemctl.log")) ? readFileSync(join(root, "systemctl.log"), "utf8").split("\n").filter(Boolean).length : 0);

describe("reload hooks owed until they succeed", { timeout: 240_000 }, () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble();
  });
  after(async () => {
    await pebble?.stop();
  });

  test("reload fails: 75, stored; the next (not due) runs reload again, 75 each, shown by status and metrics; then it works: 0, cleared", async () => {
    const s = sandbox();
    const bin = stubSystemctl(s.root, 1);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    s.writeConfig(NAME, { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, reloadServices: ["nginx.service"] });
    const r = await s.cli(["run", NAME], { env });
    assert.equal(r.code, 75, r.stderr);
    assert.equal(calls(s.root), 1);
    assert.deepEqual([state(s.stateDir).hooksPending.attempts, state(s.stateDir).lastOutcome], [1, "hook-failed"]);

    const r2 = await s.cli(["run", NAME], { env });
    assert.equal(r2.code, 75, r2.stderr);
    assert.match(r2.stderr, /running the reload hooks owed since/);
    assert.equal(calls(s.root), 2, "not due, and still reloaded again");
    assert.equal(state(s.stateDir).hooksPending.attempts, 2);

    const row = JSON.parse((await s.cli(["status", "--json", NAME])).stdout)[0];
    assert.equal(row.hooksPending, true);
    assert.match((await s.cli(["status", NAME])).stdout, /hook-failed \(hooks owed\)/);
    const prom = join(s.root, "acme.prom");
    assert.equal((await s.cli(["status", "--prometheus", prom, NAME])).code, 0);
    assert.match(readFileSync(prom, "utf8"), /^acme_renew_hooks_pending\{name="hooks\.example\.com"\} 1$/m);

    stubSystemctl(s.root, 0);
    const r3 = await s.cli(["run", NAME], { env });
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stderr, /the owed reload hooks succeeded/);
    assert.equal(calls(s.root), 3);
    assert.equal(state(s.stateDir).hooksPending, null);
    assert.equal(state(s.stateDir).lastOutcome, "renewed");
    assert.equal((await s.cli(["status", "--prometheus", prom, NAME])).code, 0);
    assert.match(readFileSync(prom, "utf8"), /^acme_renew_hooks_pending\{name="hooks\.example\.com"\} 0$/m);

    const r4 = await s.cli(["run", NAME], { env, wrapper: ["unshare", "-n"] });
    assert.equal(r4.code, 0, r4.stderr);
    assert.equal(calls(s.root), 3, "nothing owed: no reload, no network");
  });

  test("a run killed in its hooks: the next run owes them and runs them", async () => {
    const s = sandbox();
    const bin = stubSystemctl(s.root, 0);
    const marker = join(s.root, "killed-once");
    // postRun's shell is a child of acme-renew: the first time, it kills acme-renew (kill -9).
    const postRun = `if [ ! -e "${marker}" ]; then touch "${marker}"; kill -9 $PPID; sleep 5; fi; echo ran >> "${join(s.root, "postrun.log")}"`;
    s.writeConfig(NAME, { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, reloadServices: ["nginx.service"], postRun });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const r = await s.cli(["run", NAME], { env });
    assert.equal(r.code, null, `killed in postRun\n${r.stderr}`);
    assert.ok(state(s.stateDir).hooksPending, "the install recorded the hooks as owed before running them");
    const r2 = await s.cli(["run", NAME], { env });
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(readFileSync(join(s.root, "postrun.log"), "utf8"), "ran\n");
    assert.equal(calls(s.root), 2, "nginx reloaded by the killed run and again by the next");
    assert.equal(state(s.stateDir).hooksPending, null);
  });
});
