/**
 * Reload hooks owed since an earlier install (they failed, or the run died before them): run again
 * by every `run`, due or not, until they succeed. Under the cert's lock; a run holding it is busy
 * with this certificate and runs the hooks itself after any install.
 */
import { providerVariables } from "./dns-provider.js";
import { runHooks } from "../hooks/run-hooks.js";
import { EXIT } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import { readState, writeState } from "../state/file.js";
import { apply } from "../state/transitions.js";
import { acquireLock, LockBusy } from "../store/lock.js";
import { SECOND } from "../util/time.js";
import type { Precheck } from "./precheck.js";
import type { RunOptions, RunResult } from "./result.js";

const LOCK_WAIT_MS = 5 * SECOND;

/** null: nothing was run (no hooks owed any more, or another run holds the lock). */
export async function retryHooks(p: Precheck, o: RunOptions, log: Logger): Promise<RunResult | null> {
  const c = p.config;
  let lock;
  try {
    lock = await acquireLock(p.paths.lock, LOCK_WAIT_MS);
  } catch (e) {
    if (e instanceof LockBusy) log.info("hooks-skipped", "another run holds the lock; the owed reload hooks are not run now");
    else log.warn("hooks-skipped", `cannot lock ${p.paths.lock}: ${(e as Error).message}`);
    return null;
  }
  try {
    const { state } = readState(p.paths.state);
    if (!state.hooksPending) return null;
    log.notice("hooks-retry", `running the reload hooks owed since ${state.hooksPending.since.toISOString()} (${state.hooksPending.attempts} failed run(s) so far)`);
    const failures = await runHooks(c, p.paths, log, { unset: await providerVariables(c) });
    const now = o.now();
    const message = failures.map((h) => `${h.hook}: ${h.why}`).join("; ");
    const next = apply(state, failures.length ? { type: "hook-failed", at: now, message } : { type: "hooks-ok", at: now });
    await writeState(p.paths.state, next).catch((e) => log.warn("state-write", `cannot write ${p.paths.state}: ${(e as Error).message}`));
    if (failures.length) return { name: c.name, outcome: "hook-failed", code: EXIT.SOFT_FAILURE, message };
    log.notice("hooks-ok", "the owed reload hooks succeeded");
    return { name: c.name, outcome: "hooks-ok", code: EXIT.OK, message: "reload hooks succeeded" };
  } finally {
    await lock.release();
  }
}
