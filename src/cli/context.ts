/** What every command gets from the global options: logger, config loader, clock, selection. */
import { ConfigLoader } from "../config/load.js";
import { Logger, type LogFormat } from "../report/log.js";

export interface GlobalArgs {
  configDir: string;
  stateDir: string;
  logFormat: LogFormat;
}

export class UsageError extends Error {}

export interface Context {
  log: Logger;
  configs: ConfigLoader;
  stateDir: string;
  /** The clock (tests fake it in the child process, see test/helpers/fake-clock.ts). */
  now: () => Date;
}

export function makeContext(a: GlobalArgs): Context {
  return { log: new Logger(a.logFormat), configs: new ConfigLoader(a.configDir), stateDir: a.stateDir, now: () => new Date() };
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
