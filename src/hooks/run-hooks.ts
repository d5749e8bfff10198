/**
 * After a certificate was actually renewed: reload the services that use it, then run postRun.
 * Each hook has a timeout; a failed hook is reported and never undoes the new certificate.
 */
import { execa, type Result } from "execa";
import type { CertConfig } from "../config/types.js";
import { allNames } from "../config/types.js";
import type { Logger } from "../report/log.js";
import type { CertPaths } from "../store/paths.js";

export interface HookFailure {
  hook: string;
  why: string;
}

function why(r: Result, timeoutS: number): string {
  if (r.timedOut) return `timed out after ${timeoutS}s`;
  if (r.exitCode !== undefined) return `exit code ${r.exitCode}`;
  if (r.signal) return `killed by ${r.signal}`;
  return r.originalMessage ?? "failed to start";
}

function logOutput(log: Logger, hook: string, r: Result): void {
  const text = typeof r.all === "string" ? r.all : "";
  for (const line of text.split("\n").filter(Boolean).slice(0, 100)) log.info("hook-output", line, { hook });
}

/** The environment postRun sees: paths and names, never interpolated into the command. */
export function hookEnv(c: CertConfig, p: CertPaths): Record<string, string> {
  return {
    ACME_RENEW_CERT_NAME: c.name,
    ACME_RENEW_DOMAINS: allNames(c).join(" "),
    ACME_RENEW_CERT_DIR: p.dir,
    ACME_RENEW_CERT: p.cert,
    ACME_RENEW_KEY: p.key,
    ACME_RENEW_CHAIN: p.chain,
    ACME_RENEW_FULLCHAIN: p.fullchain,
    ACME_RENEW_FULL: p.full,
  };
}

/** `unset`: variables postRun must not inherit from our environment (the DNS provider's credentials). */
export async function runHooks(c: CertConfig, p: CertPaths, log: Logger, o: { unset?: readonly string[] } = {}): Promise<HookFailure[]> {
  const failures: HookFailure[] = [];
  const timeout = c.hookTimeout * 1000;
  for (const unit of c.reloadServices) {
    const r = await execa("systemctl", ["try-reload-or-restart", "--no-block", unit], { timeout, reject: false, all: true, stdin: "ignore" });
    logOutput(log, `reload ${unit}`, r);
    if (r.failed) failures.push({ hook: `reload ${unit}`, why: why(r, c.hookTimeout) });
    else log.info("reload", `asked systemd to reload ${unit}`, { unit });
  }
  if (c.postRun) {
    // NOTIFY_SOCKET is ours: a hook must not change the unit's status.
    const r = await execa("/bin/sh", ["-c", c.postRun], { timeout, reject: false, all: true, stdin: "ignore", cwd: p.dir, env: { ...Object.fromEntries((o.unset ?? []).map((k) => [k, undefined])), ...hookEnv(c, p), NOTIFY_SOCKET: undefined } });
    logOutput(log, "postRun", r);
    if (r.failed) failures.push({ hook: "postRun", why: why(r, c.hookTimeout) });
    else log.info("post-run", "postRun finished");
  }
  for (const f of failures) log.warn("hook-failed", `${f.hook}: ${f.why}; the new certificate is installed, a service may still serve the old one`, { hook: f.hook });
  return failures;
}
