/**
 * kill -9 at a random instant during `run`, many times: after every kill, `check` must report a usable
 * matching pair, `current` must point at a complete version and no earlier version may be missing.
 *
 * Lanes run in parallel, one certificate (sandbox) each, all against the shared Pebble through the
 * shared webroot. Lane 0 starts every iteration from plain (lego-style) files, so kills also land in the
 * adoption of plain files; the other lanes keep renewing an acme-renew-managed directory.
 *
 * Phase 1 (RELIABILITY_KILL_ITERATIONS, default 200): the kill delay is drawn from the measured
 * duration D of normal runs (same lanes, same load): half the iterations uniformly over [0, D], half in
 * the last 400 ms of D, where the store is written.
 * Phase 2 (RELIABILITY_KILL_EVENT_ITERATIONS, default 60): the kill is armed by the store itself (inotify
 * on versions/: the temporary directory of a new version appears) and lands 0–40 ms later, i.e. while
 * the version is written, renamed, `current` swapped, the state written.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeCertDir } from "../helpers/pki.js";
import { mkdirSync } from "node:fs";
import type { CliResult } from "../helpers/cli.js";
import { assertNothingLost, copyCertDir, newSandbox, rcli, rcliKillOnEvent, snapshotCert, type CertSnapshot, type Sandbox } from "../helpers/reliability.js";
import { scenario } from "./faults.js";
import { EMAIL, NAME, S } from "./setup.js";
import { PEM_FILES } from "../../src/store/paths.js";

/** Small seeded PRNG (mulberry32) so that a failing sequence can be replayed with RELIABILITY_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Lane {
  i: number;
  s: Sandbox;
  plain: boolean;
  plainTemplate: string;
}

type Stage =
  | "completed"
  | "before-lock"
  | "holding-lock"
  | "writing-version"
  | "version-written-not-current"
  | "swapping-symlink"
  | "mid-adoption"
  | "after-commit"
  | "writing-state";

const WRITE_STAGES: ReadonlySet<Stage> = new Set(["writing-version", "version-written-not-current", "swapping-symlink", "mid-adoption", "writing-state"]);

function listing(s: Sandbox): { dir: string[]; versions: string[] } {
  const dir = join(s.stateDir, NAME);
  return {
    dir: existsSync(dir) ? readdirSync(dir) : [],
    versions: existsSync(join(dir, "versions")) ? readdirSync(join(dir, "versions")) : [],
  };
}

function currentOf(s: Sandbox): string | null {
  try {
    return readlinkSync(join(s.stateDir, NAME, "current")).split("/").pop() ?? null;
  } catch {
    return null;
  }
}

/** Where in the run the kill landed, judged from what it left on disk. */
function classify(s: Sandbox, pre: { dir: string[]; versions: string[] }, before: CertSnapshot, lane: Lane): Stage {
  const now = listing(s);
  const fresh = (xs: string[], old: string[]) => xs.filter((x) => !old.includes(x));
  const newDir = fresh(now.dir, pre.dir);
  const newVersions = fresh(now.versions, pre.versions);
  const cur = currentOf(s);
  if (newVersions.some((v) => v.startsWith(".tmp-"))) return "writing-version";
  if (newDir.some((e) => /\.tmp-[0-9a-f]+$/.test(e))) return "swapping-symlink";
  const complete = newVersions.filter((v) => !v.startsWith("."));
  if (complete.some((v) => v !== cur && !v.endsWith("-adopted"))) return "version-written-not-current";
  if (lane.plain) {
    const kinds = PEM_FILES.map((f) => lstatSync(join(s.stateDir, NAME, f)).isSymbolicLink());
    if (kinds.some(Boolean) && !kinds.every(Boolean)) return "mid-adoption";
    if (cur?.endsWith("-adopted")) return "mid-adoption";
  }
  if (newDir.some((e) => /^\.state\.json\..*\.tmp$/.test(e))) return "writing-state";
  if (cur !== before.current && cur !== null) return "after-commit";
  if (now.dir.includes(".lock")) return "holding-lock";
  return "before-lock";
}

function resetPlain(lane: Lane): void {
  rmSync(join(lane.s.stateDir, NAME), { recursive: true, force: true });
  cpSync(join(lane.plainTemplate, NAME), join(lane.s.stateDir, NAME), { recursive: true });
  // An empty versions/ (as acme-renew creates before it takes the lock), so that phase 2 can watch it.
  mkdirSync(join(lane.s.stateDir, NAME, "versions"));
}

const label = "kill-9-random-instant";

/**
 * One iteration: `start` runs (and kills) `run --force`; then where the kill landed is classified, and
 * check must say usable + valid, and nothing may be lost.
 */
async function iteration(lane: Lane, where: string, stages: Map<Stage, number>, start: () => Promise<CliResult>): Promise<void> {
  if (lane.plain) resetPlain(lane);
  // keepVersions is 100: start over before a success could prune (with many iterations per lane).
  else if (listing(lane.s).versions.length >= 90) {
    rmSync(join(lane.s.stateDir, NAME), { recursive: true, force: true });
    copyCertDir(S().template.stateDir, lane.s.stateDir, NAME);
  }
  const before = snapshotCert(lane.s.stateDir, NAME);
  const pre = listing(lane.s);
  const r = await start();
  let stage: Stage;
  if (r.code === null) {
    stage = classify(lane.s, pre, before, lane);
  } else {
    assert.equal(r.code, 0, `${where}: a run that was not killed succeeds\n${r.stderr}`);
    stage = "completed";
  }
  stages.set(stage, (stages.get(stage) ?? 0) + 1);
  const c = await rcli(lane.s, label, ["check", NAME, "--json"]);
  assert.equal(c.code, 0, `${where}, killed at stage ${stage}: check says usable\n${c.stdout}${c.stderr}`);
  const row = (JSON.parse(c.stdout) as Array<{ status: string; usable: boolean }>)[0]!;
  assert.equal(row.status, "valid", `${where}, stage ${stage}`);
  try {
    assertNothingLost(lane.s.stateDir, NAME, before);
  } catch (e) {
    (e as Error).message = `${where}, killed at stage ${stage}: ${(e as Error).message}`;
    throw e;
  }
}

function summarize(stages: Map<Stage, number>, n: number) {
  const killed = n - (stages.get("completed") ?? 0);
  const midWrite = [...stages].filter(([k]) => WRITE_STAGES.has(k)).reduce((a, [, c]) => a + c, 0);
  return { iterations: n, killed, killedWhileWritingTheStore: midWrite, stages: Object.fromEntries([...stages].sort()) };
}

export function registerKill9(): void {
  scenario("kill-9-random-instant", 720_000, async (t) => {
    const total = Number(process.env.RELIABILITY_KILL_ITERATIONS ?? 200);
    const laneCount = Math.max(1, Number(process.env.RELIABILITY_KILL_LANES ?? 4));
    const seed = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31);
    const rnd = prng(seed);
    t.diagnostic(`kill-9: ${total} iterations over ${laneCount} lanes, seed ${seed} (replay: RELIABILITY_SEED=${seed})`);
    const { pebble, www, template } = S();

    const lanes: Lane[] = [];
    for (let i = 0; i < laneCount; i++) {
      const s = newSandbox();
      s.writeConfig(NAME, { server: pebble.directoryUrl, caBundle: pebble.caBundle, email: EMAIL, acceptTerms: true, webroot: www, keepVersions: 100 });
      cpSync(join(template.stateDir, "accounts"), join(s.stateDir, "accounts"), { recursive: true });
      const plainTemplate = join(s.root, "plain-template");
      const lane: Lane = { i, s, plain: i === 0, plainTemplate };
      if (lane.plain) {
        await writeCertDir(plainTemplate, NAME, { names: [NAME] });
        resetPlain(lane);
      } else {
        copyCertDir(template.stateDir, s.stateDir, NAME);
      }
      lanes.push(lane);
    }

    // 1. The duration of a normal run, measured under the same parallel load.
    const durations: number[] = [];
    await Promise.all(
      lanes.map(async (lane) => {
        for (let k = 0; k < 3; k++) {
          if (lane.plain) resetPlain(lane);
          const r = await rcli(lane.s, "kill-9-random-instant", ["run", NAME, "--force"]);
          assert.equal(r.code, 0, r.stderr);
          durations.push(r.ms);
        }
      }),
    );
    durations.sort((a, b) => a - b);
    t.diagnostic(`kill-9: normal run durations (ms): ${durations.join(", ")}`);

    // 2. Kills at a random instant of the run.
    const recent = [...durations];
    const stages = new Map<Stage, number>();
    const delays: number[] = [];
    const perLane = Math.ceil(total / laneCount);
    let done = 0;
    await Promise.all(
      lanes.map(async (lane) => {
        for (let k = 0; k < perLane && done < total; k++) {
          done++;
          const d = recent[Math.floor(rnd() * recent.length)]!;
          const delay = Math.round(rnd() < 0.5 ? Math.max(5, rnd() * d) : Math.max(5, d - rnd() * Math.min(400, d)));
          delays.push(delay);
          await iteration(lane, `phase 1, lane ${lane.i} iteration ${k} (delay ${delay} ms, seed ${seed})`, stages, async () => {
            const r = await rcli(lane.s, label, ["run", NAME, "--force"], { timeoutMs: delay });
            // A run that finished first is a fresh sample of a normal run's duration: the distribution
            // follows the load the machine is under.
            if (r.code === 0) {
              recent.push(r.ms);
              if (recent.length > 12) recent.shift();
            }
            return r;
          });
        }
      }),
    );

    // 2b. Kills armed by the store: a new version's temporary directory appeared.
    const eventTotal = Number(process.env.RELIABILITY_KILL_EVENT_ITERATIONS ?? 60);
    const eventStages = new Map<Stage, number>();
    let eventDone = 0;
    let armed = 0;
    await Promise.all(
      lanes.map(async (lane) => {
        for (let k = 0; k < Math.ceil(eventTotal / laneCount) && eventDone < eventTotal; k++) {
          eventDone++;
          const delay = Math.round(rnd() * 40);
          await iteration(lane, `phase 2, lane ${lane.i} iteration ${k} (${delay} ms after the first .tmp- entry, seed ${seed})`, eventStages, async () => {
            const r = await rcliKillOnEvent(lane.s, label, ["run", NAME, "--force"], {
              watchDir: join(lane.s.stateDir, NAME, "versions"),
              match: (e) => e.startsWith(".tmp-"),
              delayMs: delay,
              timeoutMs: 60_000,
            });
            if (r.triggered) armed++;
            return r;
          });
        }
      }),
    );

    // 3. Every lane recovers: a normal run takes the lock (the kernel dropped the killed holder's), prunes leftovers and succeeds.
    const stateTmpLeft: number[] = [];
    for (const lane of lanes) {
      const before = snapshotCert(lane.s.stateDir, NAME);
      const r = await rcli(lane.s, "kill-9-random-instant", ["run", NAME, "--force"], { timeoutMs: 90_000 });
      assert.equal(r.code, 0, `lane ${lane.i}: a normal run after the kills\n${r.stderr}`);
      assertNothingLost(lane.s.stateDir, NAME, before);
      const { dir, versions } = listing(lane.s);
      assert.ok(!dir.includes(".lock"), `lane ${lane.i}: no lock left`);
      assert.deepEqual(versions.filter((v) => v.startsWith(".")), [], `lane ${lane.i}: no half-written version left`);
      assert.deepEqual(dir.filter((e) => /\.tmp-[0-9a-f]+$/.test(e)), [], `lane ${lane.i}: no temporary symlink left`);
      stateTmpLeft.push(dir.filter((e) => /^\.state\.json\..*\.tmp$/.test(e)).length);
      JSON.parse(readFileSync(join(lane.s.stateDir, NAME, "state.json"), "utf8"));
    }

    const summary = {
      phase1: { ...summarize(stages, done), delayMs: { min: Math.min(...delays), max: Math.max(...delays) } },
      phase2: { ...summarize(eventStages, eventDone), armedByTheStore: armed },
      normalRunMs: { min: durations[0], median: durations[Math.floor(durations.length / 2)], max: durations[durations.length - 1] },
      lostOrMismatchedPairs: 0,
      leftoverStateTmpFiles: stateTmpLeft.reduce((a, b) => a + b, 0),
      seed,
    };
    t.diagnostic(`kill-9 summary: ${JSON.stringify(summary)}`);
    process.stderr.write(`# kill-9 summary: ${JSON.stringify(summary)}\n`);
    assert.ok(summary.phase1.killed >= done * 0.6, `most runs were actually killed (${summary.phase1.killed}/${done})`);
    assert.ok(armed >= eventDone * 0.8, `phase 2 kills were armed by the store (${armed}/${eventDone})`);
    assert.equal(summary.leftoverStateTmpFiles, 0, "the final normal run removed every half-written state file");
  });
}
