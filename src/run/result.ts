/** What one certificate's run came to, and what a run of it is given. */
import type { ExitCode } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import type { Notifier } from "../systemd/notify.js";

export type RunOutcome = "not-due" | "renewed" | "synced" | "soft-failure" | "failure" | "hook-failed" | "hooks-ok" | "busy" | "waiting" | "config-error" | "dry-run";

export interface RunResult {
  name: string;
  outcome: RunOutcome;
  code: ExitCode;
  message: string;
  notAfter?: Date;
}

export interface RunOptions {
  stateDir: string;
  log: Logger;
  now: () => Date;
  force: boolean;
  timeout?: number;
  /** sd_notify (a no-op outside systemd). */
  notify?: Notifier;
}
