/** The offline pre-check of one certificate: config → inspect → state → decide. No network. */
import type { CertConfig } from "../config/types.js";
import { allNames } from "../config/types.js";
import { decide, type Decision } from "../decide/decide.js";
import type { Inspection } from "../inspect/facts.js";
import { inspect } from "../inspect/read.js";
import { readState } from "../state/file.js";
import type { CertState } from "../state/model.js";
import { certPaths, type CertPaths } from "../store/paths.js";
import type { Logger } from "../report/log.js";
import { BUILD_TIME } from "../util/build-info.js";

export interface Precheck {
  config: CertConfig;
  paths: CertPaths;
  inspection: Inspection;
  state: CertState;
  decision: Decision;
}

export function precheck(config: CertConfig, stateDir: string, now: Date, log: Logger): Precheck {
  const paths = certPaths(stateDir, config.name);
  const inspection = inspect(paths);
  const { state, problem } = readState(paths.state);
  if (problem) log.warn("state-unusable", problem, { cert: config.name });
  const decision = decide(inspection, state, { names: allNames(config), keyType: config.keyType, validMinDays: config.validMinDays, clockFloor: BUILD_TIME, ari: config.ari }, now);
  return { config, paths, inspection, state, decision };
}
