/**
 * `ready` for one certificate, the boot path: offline pre-check; exit 0 when something a service can
 * start with is on disk, else a placeholder (under the cert's lock), else 1. Never the network, never
 * the ACME library: the placeholder is made with node:crypto (src/crypto/self-signed.ts).
 */
import type { CertConfig } from "../config/types.js";
import { readiness } from "../decide/ready.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import { BUILD_TIME } from "../util/build-info.js";
import { precheck, type Precheck } from "./precheck.js";

export interface ReadyOptions {
  stateDir: string;
  log: Logger;
  now: () => Date;
}

/** How long `ready` waits for a renewal that holds the lock: services are waiting for us. */
const LOCK_WAIT_MS = 5000;

const errno = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);

function reportOk(p: Precheck, log: Logger, what: "usable" | "placeholder"): ExitCode {
  if (what === "usable") log.info("ready", `usable: ${p.decision.reasons.join("; ")}`, { status: p.decision.status, not_after: p.decision.notAfter ?? undefined });
  else log.notice("ready", `a self-signed placeholder is in place until the CA issues a certificate (valid until ${p.decision.notAfter?.toISOString()})`, { status: p.decision.status, not_after: p.decision.notAfter ?? undefined });
  return EXIT.OK;
}

export async function readyOne(config: CertConfig, o: ReadyOptions): Promise<ExitCode> {
  const log = o.log.child({ cert: config.name });
  const first = precheck(config, o.stateDir, o.now(), log);
  const r = readiness(first.inspection, first.decision, config.placeholder);
  if (r.action === "ok") return reportOk(first, log, r.what);
  if (r.action === "fail") {
    log.error("not-ready", r.why, { status: first.decision.status });
    return EXIT.FAILURE;
  }
  // Only this branch writes; everything it needs is loaded now, never on the path above.
  const [{ ensureCertDir }, { acquireLock, LockBusy }, { installPlaceholder }] = await Promise.all([
    import("../store/install.js"),
    import("../store/lock.js"),
    import("../renew/placeholder.js"),
  ]);
  let lock;
  try {
    await ensureCertDir(first.paths, null);
    lock = await acquireLock(first.paths.lock, LOCK_WAIT_MS);
  } catch (e) {
    if (e instanceof LockBusy) {
      // A renewal is under way. It may have installed something by now.
      const again = precheck(config, o.stateDir, o.now(), log);
      const r2 = readiness(again.inspection, again.decision, config.placeholder);
      if (r2.action === "ok") return reportOk(again, log, r2.what);
      log.error("not-ready", `no usable certificate (${again.decision.status}), and another run holds ${e.file} (${e.owner}): no placeholder written`);
      return EXIT.FAILURE;
    }
    log.error("not-ready", `no usable certificate (${first.decision.status}), and a placeholder cannot be written: ${first.paths.dir}: ${errno(e)}`);
    return EXIT.FAILURE;
  }
  try {
    // Decide again under the lock: a renewal may have finished while we took it.
    const p = precheck(config, o.stateDir, o.now(), log);
    const r2 = readiness(p.inspection, p.decision, config.placeholder);
    if (r2.action === "ok") return reportOk(p, log, r2.what);
    if (r2.action === "fail") {
      log.error("not-ready", r2.why, { status: p.decision.status });
      return EXIT.FAILURE;
    }
    const ph = await installPlaceholder(config, p.paths, o.now(), { clockFloor: BUILD_TIME });
    log.notice("placeholder", `no usable certificate (${p.decision.status}); wrote a self-signed placeholder (valid until ${ph.notAfter.toISOString()}) so that services can start; the renewal replaces it`, {
      serial: ph.serial,
      not_after: ph.notAfter,
    });
    return EXIT.OK;
  } catch (e) {
    log.error("not-ready", `no usable certificate (${first.decision.status}), and writing a placeholder in ${first.paths.dir} failed: ${errno(e)}`);
    return EXIT.FAILURE;
  } finally {
    await lock.release().catch(() => {});
  }
}
