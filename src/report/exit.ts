/** The tool's exit codes (sysexits where one fits). */
export const EXIT = {
  OK: 0,
  /** No usable certificate / hard failure. */
  FAILURE: 1,
  /** No CA-issued certificate yet, but a self-signed placeholder is in place (services can start). */
  PLACEHOLDER: 3,
  /** Command-line usage error (EX_USAGE). */
  USAGE: 64,
  /** Renewal failed (or reload hooks failed, or backing off) but the current certificate is still valid (EX_TEMPFAIL). */
  SOFT_FAILURE: 75,
  /** Configuration error (EX_CONFIG). */
  CONFIG: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Severity order used to combine the outcomes of several certificates: the worst wins. */
const RANK: Record<ExitCode, number> = { 0: 0, 75: 1, 3: 2, 1: 3, 64: 4, 78: 5 };

export function worst(codes: Iterable<ExitCode>): ExitCode {
  let w: ExitCode = EXIT.OK;
  for (const c of codes) if (RANK[c] > RANK[w]) w = c;
  return w;
}
