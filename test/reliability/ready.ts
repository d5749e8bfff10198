/**
 * The boot step, `acme-renew ready`, under faults: a due certificate with the CA down (nothing
 * changes, exit 0, fast), kill -9 at random instants and while the placeholder is being written, and
 * a full file system. After every fault the certificate directory holds nothing, or a complete
 * placeholder pair that `check` recognises as a placeholder from the certificate alone (ready writes
 * no state.json) — never a mismatched pair, never a placeholder that passes for a real certificate.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { CliResult } from "../helpers/cli.js";
import { assertCleanOutput, assertNothingLost, fillFilesystem, mountTmpfs, newSandbox, probeTmpfs, rcli, rcliKillOnEvent, snapshotCert, type Sandbox } from "../helpers/reliability.js";
import { scenario } from "./faults.js";
import { NAME, dueManaged } from "./setup.js";

const DOWN = "https://127.0.0.1:1/dir";
const KILLS = Number(process.env.RELIABILITY_READY_KILLS ?? 60);

function emptySandbox(): Sandbox {
  const s = newSandbox();
  s.writeConfig(NAME, { server: DOWN, webroot: "/var/www", keepVersions: 100 });
  return s;
}

/** What a fault may leave: no certificate at all, or a placeholder pair that check recognises. */
async function assertNothingOrPlaceholder(s: Sandbox, label: string): Promise<"none" | "placeholder"> {
  const dir = join(s.stateDir, NAME);
  const c = await rcli(s, label, ["check", NAME, "--json"]);
  assertCleanOutput(c, `${label}: check`);
  const out = JSON.parse(c.stdout)[0] as { status: string; usable: boolean; dueReasons: string[] };
  assert.equal(c.code, 1, `${label}: check never calls what ready left usable\n${c.stdout}`);
  if (out.status === "missing") {
    assert.ok(!existsSync(join(dir, "cert.pem")) && !existsSync(join(dir, "key.pem")), `${label}: missing means neither file resolves`);
    return "none";
  }
  assert.equal(out.status, "due", `${label}: ${JSON.stringify(out)}`);
  assert.deepEqual(out.dueReasons, ["placeholder"], `${label}: recognised as a placeholder without state.json`);
  assert.equal(existsSync(join(dir, "state.json")), false, `${label}: ready writes no state`);
  assertNothingLost(s.stateDir, NAME, { versions: {}, current: null, pair: null }); // a complete, matching, consistent set
  return "placeholder";
}

async function readyAgain(s: Sandbox, label: string): Promise<CliResult> {
  const r = await rcli(s, label, ["ready", NAME]);
  assert.equal(r.code, 0, `${label}: ready after the fault\n${r.stderr}`);
  assertCleanOutput(r, label);
  assert.equal(await assertNothingOrPlaceholder(s, label), "placeholder");
  // A lock may remain only as the killed run left it (its owner dead: the next writer takes it over).
  const lock = join(s.stateDir, NAME, ".lock");
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, "utf8").split(" ")[0]);
    assert.ok(!pid || !existsSync(`/proc/${pid}`), `${label}: a lock of a live process (${pid}) left`);
  }
  return r;
}

export function registerReady(): void {
  scenario("ready-ca-down-due", 60_000, async () => {
    const { s, before } = dueManaged(DOWN);
    const r = await rcli(s, "ready-ca-down-due", ["ready", NAME]);
    assert.equal(r.code, 0, r.stderr);
    assertCleanOutput(r);
    assert.ok(r.ms < 5000, `${r.ms} ms`);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false, "nothing changed");
    assert.equal(existsSync(join(s.stateDir, NAME, ".lock")), false);
  });

  scenario("ready-kill-9", 240_000, async (t) => {
    // Kills at random instants of a placeholder write, then kills armed by the store itself (the
    // temporary version directory appears) 0–15 ms later; each followed by a check and a new ready.
    const normal = emptySandbox();
    const first = await rcli(normal, "ready-kill-9", ["ready", NAME]);
    assert.equal(first.code, 0, first.stderr);
    const d = Math.max(first.ms, 100);
    const seen = { none: 0, placeholder: 0, completed: 0 };
    for (let i = 0; i < KILLS; i++) {
      const s = emptySandbox();
      const byEvent = i % 2 === 1;
      let r;
      if (byEvent) {
        const vdir = join(s.stateDir, NAME, "versions");
        mkdirSync(vdir, { recursive: true });
        r = await rcliKillOnEvent(s, "ready-kill-9", ["ready", NAME], { watchDir: vdir, match: (e) => e.startsWith(".tmp-"), delayMs: Math.floor(Math.random() * 15), timeoutMs: 30_000 });
      } else {
        r = await rcliKillOnEvent(s, "ready-kill-9", ["ready", NAME], { watchDir: s.stateDir, match: () => false, delayMs: 0, timeoutMs: Math.floor(Math.random() * d * 1.2) });
      }
      if (r.code === 0) seen.completed++;
      const left = await assertNothingOrPlaceholder(s, `ready-kill-9 #${i}`);
      seen[left]++;
      await readyAgain(s, `ready-kill-9 #${i} (again)`);
    }
    t.diagnostic(`ready-kill-9: ${KILLS} kills (D = ${d} ms): left nothing ${seen.none}×, a placeholder ${seen.placeholder}× (run completed before the kill ${seen.completed}×)`);
    assert.ok(seen.none > 0 && seen.placeholder > 0, "kills landed both before and after the placeholder was in place");
  });

  scenario("ready-state-fs-full", 90_000, async () => {
    const probe = probeTmpfs();
    assert.ok(probe.ok, `needs root to mount a size-limited tmpfs (${probe.why})`);
    for (const free of [0, 8192]) {
      const label = `ready-state-fs-full (${free} bytes free)`;
      const s = emptySandbox();
      const unmount = mountTmpfs(s.stateDir, 1 << 20);
      try {
        const filler = fillFilesystem(s.stateDir, free);
        const r = await rcli(s, label, ["ready", NAME]);
        assert.equal(r.code, 1, `${label}: it can provide neither\n${r.stderr}`);
        assert.match(r.stderr, /writing a placeholder .*ENOSPC|a placeholder cannot be written: .*ENOSPC/, r.stderr);
        assertCleanOutput(r, label);
        assert.equal(r.stderr.trim().split("\n").length, 1, `${label}: one line\n${r.stderr}`);
        assert.equal(await assertNothingOrPlaceholder(s, label), "none");
        rmSync(filler);
        await readyAgain(s, `${label}, space freed`);
        const leftovers = readdirSync(join(s.stateDir, NAME, "versions")).filter((v) => v.startsWith("."));
        assert.deepEqual(leftovers, [], `${label}: the half-written version was tidied`);
        const snap = snapshotCert(s.stateDir, NAME);
        assert.equal(Object.keys(snap.versions).length, 1);
      } finally {
        unmount();
      }
    }
  });
}
