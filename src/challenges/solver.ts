/** One interface for every challenge type: put the answer in place, take it away again (the factory: factory.ts). */
import type { RetryContext } from "../acme/retry.js";
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
  /** dns-01: the key authorization itself (token.thumbprint), for lego's exec RAW mode. */
  rawKeyAuthorization?: string;
}

export interface Solver {
  readonly type: ChallengeType;
  prepare(t: ChallengeTask): Promise<void>;
  cleanup(t: ChallengeTask): Promise<void>;
  /**
   * True when two answers cannot be in place at once (a DNS provider holding one value per name):
   * authorizations are then solved one after the other, each cleaned up before the next. Cleanup of
   * a task may be called more than once.
   */
  sequential?(): Promise<boolean>;
  /** Releases what the solver holds for all tasks (listeners). Always called, also after failures. */
  close(): Promise<void>;
}

export interface SolverContext {
  config: CertConfig;
  log: Logger;
  signal: AbortSignal;
  /** The run's in-run retry policy and deadline (DNS provider calls retry like CA calls). */
  retry?: RetryContext;
}
