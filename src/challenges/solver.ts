/** One interface for every challenge type: put the answer in place, take it away again (the factory: factory.ts). */
import type { CertConfig } from "../config/types.js";
import type { Logger } from "../report/log.js";

export type ChallengeType = "http-01" | "tls-alpn-01" | "dns-01";

export interface ChallengeTask {
  /** The authorization's identifier (without "*." for wildcards). */
  identifier: string;
  wildcard: boolean;
  token: string;
  /** The key authorization (http-01, tls-alpn-01) or its digest (dns-01), as the CA will check it. */
  keyAuthorization: string;
}

export interface Solver {
  readonly type: ChallengeType;
  prepare(t: ChallengeTask): Promise<void>;
  cleanup(t: ChallengeTask): Promise<void>;
  /** Releases what the solver holds for all tasks (listeners). Always called, also after failures. */
  close(): Promise<void>;
}

export interface SolverContext {
  config: CertConfig;
  log: Logger;
  signal: AbortSignal;
}
