/** The offline pre-check of one certificate: config → inspect → state → decide. No network. */
import type { CertConfig } from "../config/types.js";
import { allNames } from "../config/types.js";
import { decide, type Decision } from "../decide/decide.js";
import type { Policy } from "../decide/policy.js";
import type { Inspection } from "../inspect/facts.js";
import { inspect } from "../inspect/read.js";
import { readState } from "../state/file.js";
import type { CertState } from "../state/model.js";
import { certPaths, type CertPaths } from "../store/paths.js";
import { readPending, type Pending } from "../store/pending.js";
import type { Logger } from "../report/log.js";
import { BUILD_TIME } from "../util/build-info.js";
import { judgeNew, type Judgement } from "./judge.js";

export interface Precheck {
  config: CertConfig;
  paths: CertPaths;
  inspection: Inspection;
  state: CertState;
  decision: Decision;
  /** A certificate the CA issued that a run has not installed yet, with the verdict on it. */
  pending: (Judgement & { pending: Pending }) | null;
  /** pending.json exists but cannot be used. */
  pendingProblem: string | null;
}

export function policyOf(c: CertConfig): Policy {
  return { names: allNames(c), keyType: c.keyType, validMinDays: c.validMinDays, clockFloor: BUILD_TIME, ari: c.ari, server: c.server, profile: c.profile };
}

export function precheck(config: CertConfig, stateDir: string, now: Date, log: Logger): Precheck {
  const paths = certPaths(stateDir, config.name);
  const inspection = inspect(paths);
  const { state, problem } = readState(paths.state);
  if (problem) log.warn("state-unusable", problem, { cert: config.name });
  const policy = policyOf(config);
  const decision = decide(inspection, state, policy, now);
  const read = readPending(paths);
  let pending: Precheck["pending"] = null;
  if (read.pending) {
    const j = judgeNew(read.pending.material, read.pending, state, policy, now, paths.pending);
    // Never replace a certificate put in place since (by another run, or by hand) with an older one.
    const inPlace = inspection.kind === "present" && decision.usable ? inspection.notAfter : null;
    const older = inPlace !== null && j.facts.kind === "present" && inPlace.getTime() >= j.facts.notAfter.getTime();
    pending = older ? { ...j, ok: false, decision: { ...j.decision, reasons: [`it expires before the certificate in place (${inPlace.toISOString()})`] }, pending: read.pending } : { ...j, pending: read.pending };
  }
  return { config, paths, inspection, state, decision, pending, pendingProblem: read.problem };
}
