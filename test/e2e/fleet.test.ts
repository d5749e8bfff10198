/**
 * `check --all` and `run --all` over 600 certificates fan out over worker threads (src/run/fanout.ts,
 * from 500 on): what they print, log and exit with is what the same certificates give in two
 * commands of 300 (one thread each). The workers' items themselves: test/unit/fanout.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.js";
import { makeFleet, type Fleet } from "../helpers/fleet.js";
import { worst, type ExitCode } from "../../src/report/exit.js";

const fleet = makeFleet(600, { 7: "config-error", 150: "missing", 333: "backoff", 480: "config-error" });
// run: no certificate would go to the CA (absent here), whose failure times are random: not in this fleet.
const runFleet = makeFleet(600, { 7: "config-error", 250: "bad-group", 333: "backoff", 420: "hooks-owed", 480: "config-error" });

const cli = (f: Fleet, args: string[]) => runCli(["--config-dir", f.etc, "--state-dir", f.state, ...args], { timeoutMs: 120_000 });
const halves = (f: Fleet) => [f.names.slice(0, 300), f.names.slice(300)];
/** The same configs, a state dir of its own (run writes state). */
const copy = (f: Fleet): Fleet => {
  const state = join(mkdtempSync(join(tmpdir(), "acme-renew-fleet-copy-")), "state");
  cpSync(f.state, state, { recursive: true, verbatimSymlinks: true });
  return { ...f, state };
};

for (const json of [false, true]) {
  test(`check --all${json ? " --json" : ""} over 600: the output, log and exit code of two checks of 300`, async () => {
    const f = await fleet;
    const extra = json ? ["--json"] : [];
    const all = await cli(f, ["check", "--all", ...extra]);
    const parts = [];
    for (const h of halves(f)) parts.push(await cli(f, ["check", ...h, ...extra]));
    assert.equal(all.code, worst(parts.map((p) => p.code as ExitCode)));
    assert.equal(all.code, 78);
    if (json) assert.deepEqual(JSON.parse(all.stdout), parts.flatMap((p) => JSON.parse(p.stdout)));
    else assert.equal(all.stdout, parts.map((p) => p.stdout).join(""));
    assert.equal(all.stderr, parts.map((p) => p.stderr).join(""));
    assert.equal(all.stderr.split("\n").filter(Boolean).length, 600);
    // It did fan out (else this compares one thread with itself).
    const debug = await runCli(["--config-dir", f.etc, "--state-dir", f.state, "check", "--all", ...extra], { env: { ACME_RENEW_DEBUG: "1" } });
    assert.match(debug.stderr, /600 certificates, \d+ chunk\(s\) by worker threads \[event=fanout\]/);
  });
}

test("run --all over 600 (not due, backing off, hooks owed, config errors, an unknown group found when renewing): the results and log of two runs of 300", async () => {
  const f = await runFleet;
  const a = copy(f);
  const b = copy(f);
  const all = await cli(a, ["run", "--all", "--json"]);
  const parts = [];
  for (const h of halves(b)) parts.push(await cli(b, ["run", ...h, "--json"]));
  assert.equal(all.code, worst(parts.map((p) => p.code as ExitCode)));
  assert.equal(all.code, 78);
  type Row = { name: string; outcome: string };
  const rows: Row[] = JSON.parse(all.stdout);
  const partRows: Row[] = parts.flatMap((p) => JSON.parse(p.stdout));
  const byName = (r: Row[]) => [...r].sort((x, y) => x.name.localeCompare(y.name));
  assert.deepEqual(byName(rows), byName(partRows));
  // As one thread orders them: config errors first, then by name.
  assert.deepEqual(rows.slice(0, 2).map((r) => [r.name, r.outcome]), [["h00007.example.com", "config-error"], ["h00480.example.com", "config-error"]]);
  assert.deepEqual(rows.slice(2).map((r) => r.name), f.names.filter((n) => n !== "h00007.example.com" && n !== "h00480.example.com"));
  assert.equal(rows.find((r) => r.name === "h00420.example.com")?.outcome, "hooks-ok");
  assert.equal(rows.find((r) => r.name === "h00333.example.com")?.outcome, "waiting");
  // A config error of the renewal itself (the group) is a result in its place, and counts.
  assert.equal(rows.find((r) => r.name === "h00250.example.com")?.outcome, "config-error");
  assert.equal(rows.length, 600);
  // The same lines (the main thread's own certificates log after the fanned-out ones), config errors first.
  const lines = (s: string) => s.split("\n").filter(Boolean).sort();
  assert.deepEqual(lines(all.stderr), lines(parts.map((p) => p.stderr).join("")));
  assert.deepEqual(all.stderr.split("\n").slice(0, 2).map((l) => /^error: (h\d+\.example\.com): config /.exec(l)?.[1]), ["h00007.example.com", "h00480.example.com"]);
  // And the owed hooks are recorded as run, as by a single thread.
  assert.equal(JSON.parse(readFileSync(join(a.state, "h00420.example.com", "state.json"), "utf8")).hooksPending ?? null, null);
});
