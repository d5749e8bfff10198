/** One interface for every challenge type: put the answer in place, take it away again. */
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

/** Loads the module of the configured challenge only. */
export async function solverFor(ctx: SolverContext): Promise<Solver> {
  const c = ctx.config.challenge;
  switch (c.type) {
    case "webroot":
      return new (await import("./webroot.js")).WebrootSolver(c.webroot);
    case "listenHTTP":
      return new (await import("./http-listener.js")).HttpListenerSolver(c.host, c.port);
    case "listenTLS":
      return new (await import("./tls-alpn.js")).TlsAlpnSolver(c.host, c.port);
    case "dnsHook":
      return new (await import("./dns-hook.js")).DnsHookSolver(c, ctx);
  }
}
