/** What every command gets from the global options: logger, config loader, clock, selection. */
import { ConfigLoader } from "../config/load.js";
import { Logger, type LogFormat } from "../report/log.js";

export interface GlobalArgs {
  configDir: string;
  stateDir: string;
  logFormat: LogFormat;
  now?: string;
}

export class UsageError extends Error {}

export interface Context {
  log: Logger;
  configs: ConfigLoader;
  stateDir: string;
  /** The clock. Tests inject a time with --now / ACME_RENEW_NOW. */
  now: () => Date;
}

export function makeContext(a: GlobalArgs): Context {
  let now = () => new Date();
  if (a.now) {
    const fixed = new Date(a.now);
    if (Number.isNaN(fixed.getTime())) throw new UsageError(`--now: not a date: ${a.now}`);
    now = () => fixed;
  }
  return { log: new Logger(a.logFormat), configs: new ConfigLoader(a.configDir), stateDir: a.stateDir, now };
}

/** The certificates a command works on: the names given, or all with --all. */
export function selectNames(ctx: Context, names: string[] | undefined, all: boolean | undefined): string[] {
  if (all && names?.length) throw new UsageError("give certificate names or --all, not both");
  if (all) return ctx.configs.listNames();
  if (!names?.length) throw new UsageError("name at least one certificate, or use --all");
  return names;
}

/** For commands that take all certificates by default (status, validate, doctor): names, --all, or neither. */
export function namesOrAll(ctx: Context, names: string[] | undefined, all: boolean | undefined): string[] {
  if (all && names?.length) throw new UsageError("give certificate names or --all, not both");
  return names?.length ? names : ctx.configs.listNames();
}
