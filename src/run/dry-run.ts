/**
 * `run --dry-run`: the whole order — account, challenges, finalize, download, verify — against the
 * staging server, and nothing else: no lock, no pending.json, no install, no state, no hooks; the
 * certificate's directory is not even created. The staging account is kept under accounts/ like
 * any other, so daily dry runs do not register a new account each time.
 */
import { X509Certificate } from "node:crypto";
import { asFailure, describe } from "../acme/errors.js";
import type { OpContext } from "../acme/transport.js";
import type { CertConfig } from "../config/types.js";
import { issue } from "../renew/issue.js";
import { EXIT } from "../report/exit.js";
import { SECOND } from "../util/time.js";
import type { RunOptions, RunResult } from "./result.js";

export async function dryRun(c: CertConfig, server: string, o: RunOptions): Promise<RunResult> {
  const log = o.log.child({ cert: c.name });
  const timeoutS = o.timeout ?? c.timeout;
  const ctx: OpContext & { signal: AbortSignal } = { requests: 0, signal: AbortSignal.timeout(timeoutS * SECOND) };
  const onStage = (stage: string) => void o.notify?.status(`${c.name}: dry run: ${stage}`);
  log.notice("dry-run", `dry run against ${server}: nothing is installed, no state is written, no hooks run`, { server });
  try {
    const m = await issue({
      config: { ...c, server },
      stateDir: o.stateDir,
      log,
      ctx,
      deadlineAt: Date.now() + timeoutS * SECOND,
      networkDown: false,
      reuseKeyPem: null,
      replacesCertId: null,
      onStage,
    });
    const cert = new X509Certificate(m.certPem);
    const notAfter = new Date(cert.validTo);
    const msg = `dry run ok: ${server} issued serial ${cert.serialNumber.toLowerCase()}, valid until ${notAfter.toISOString()} (verified, then discarded)`;
    log.notice("dry-run-ok", msg, { requests: ctx.requests });
    return { name: c.name, outcome: "dry-run", code: EXIT.OK, message: msg, notAfter };
  } catch (e) {
    const f = asFailure(e);
    const msg = `dry run failed (${f.cls}): ${describe(f)}`;
    log.error("dry-run-failed", msg, { class: f.cls, requests: ctx.requests });
    return { name: c.name, outcome: "failure", code: f.cls === "config" ? EXIT.CONFIG : EXIT.FAILURE, message: msg };
  }
}
