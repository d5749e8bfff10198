/** What one certificate's run came to. */
import type { ExitCode } from "../report/exit.js";

export type RunOutcome = "not-due" | "renewed" | "soft-failure" | "failure" | "hook-failed" | "busy" | "waiting" | "config-error";

export interface RunResult {
  name: string;
  outcome: RunOutcome;
  code: ExitCode;
  message: string;
  notAfter?: Date;
}
