/**
 * After a certificate was actually renewed: reload the services that use it, then run postRun.
 * Each hook has a timeout (its whole process tree is stopped then, see spawn.ts); a failed hook is
 * reported and never undoes the new certificate.
 */
import type { CertConfig } from "../config/types.js";
import { allNames } from "../config/types.js";
import type { Logger } from "../report/log.js";
import type { CertPaths } from "../store/paths.js";
import { SECOND } from "../util/time.js";
import { hookEnv as withHookVars } from "./env.js";
import { describeEnd, outputLines, runProgram, type SpawnResult } from "./spawn.js";

export interface HookFailure {
  hook: string;
  why: string;
}

function logOutput(log: Logger, hook: string, r: SpawnResult): void {
  for (const line of outputLines(r, 100)) log.info("hook-output", line, { hook });
  if (r.leftovers) log.warn("hook-leftovers", `${hook}: processes it started still held its output; they were stopped`, { hook });
}

/** The environment postRun sees: paths and names, never interpolated into the command. */
export function hookEnv(c: CertConfig, p: CertPaths): NodeJS.ProcessEnv {
  return withHookVars({
    ACME_RENEW_CERT_NAME: c.name,
    ACME_RENEW_DOMAINS: allNames(c).join(" "),
    ACME_RENEW_CERT_DIR: p.dir,
    ACME_RENEW_CERT: p.cert,
    ACME_RENEW_KEY: p.key,
    ACME_RENEW_CHAIN: p.chain,
    ACME_RENEW_FULLCHAIN: p.fullchain,
    ACME_RENEW_FULL: p.full,
  });
}

/** `unset`: variables postRun must not inherit from our environment (the DNS provider's credentials). */
export async function runHooks(c: CertConfig, p: CertPaths, log: Logger, o: { unset?: readonly string[] } = {}): Promise<HookFailure[]> {
  const failures: HookFailure[] = [];
  const timeoutMs = c.hookTimeout * SECOND;
  for (const unit of c.reloadServices) {
    const hook = `reload ${unit}`;
    const r = await runProgram("systemctl", ["try-reload-or-restart", "--no-block", unit], { timeoutMs });
    logOutput(log, hook, r);
    if (!r.ok) failures.push({ hook, why: describeEnd(r, timeoutMs) });
    else log.info("reload", `asked systemd to reload ${unit}`, { unit });
  }
  if (c.postRun) {
    const env = hookEnv(c, p);
    for (const k of o.unset ?? []) delete env[k];
    const r = await runProgram("/bin/sh", ["-c", c.postRun], { timeoutMs, cwd: p.dir, env });
    logOutput(log, "postRun", r);
    if (!r.ok) failures.push({ hook: "postRun", why: describeEnd(r, timeoutMs) });
    else log.info("post-run", "postRun finished");
  }
  for (const f of failures) log.warn("hook-failed", `${f.hook}: ${f.why}; the new certificate is installed, a service may still serve the old one`, { hook: f.hook });
  return failures;
}
