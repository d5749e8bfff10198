/**
 * `acme-renew account show|deactivate`: the ACME account of a (server, email), as stored under
 * <state-dir>/accounts/ and as the CA sees it. Deactivating (RFC 8555 §7.3.6) cannot be undone: the
 * account's directory is then moved aside (kept for the record, never used again), so the next order
 * registers a new account where acceptTerms allows it.
 */
import { rename } from "node:fs/promises";
import { accountFiles, storedAccountUrl } from "../acme/account-files.js";
import { readAccount } from "../acme/account.js";
import { AcmeFailure, describe } from "../acme/errors.js";
import { AcmeSession, sessionFor, type SessionOptions } from "../acme/session.js";
import { opContext } from "../acme/transport.js";
import type { CertConfig } from "../config/types.js";
import type { Logger } from "../report/log.js";
import { SECOND } from "../util/time.js";

export interface AccountView {
  server: string;
  email: string | null;
  /** The certificates whose configs use this account. */
  certificates: string[];
  dir: string;
  /** An account key exists (else: none registered yet from this host). */
  key: boolean;
  url: string | null;
  /** What the CA says: valid, deactivated, revoked; null when not asked or not answered. */
  status: string | null;
  contact: string[] | null;
  /** Why the CA could not be asked. */
  error: string | null;
}

function sessionOptions(c: CertConfig, stateDir: string, log: Logger, signal: AbortSignal): SessionOptions {
  return sessionFor(c, {
    // Looking an account up or deactivating it never registers one.
    acceptTerms: false,
    stateDir,
    log,
    signal,
    requestTimeoutMs: 30 * SECOND,
    deadlineAt: Date.now() + Math.min(c.timeout, 120) * SECOND,
  });
}

/** One view per (server, email) among `configs`, in order of first use. */
export function accountsOf(configs: CertConfig[], stateDir: string): Array<{ config: CertConfig; view: AccountView }> {
  const out = new Map<string, { config: CertConfig; view: AccountView }>();
  for (const c of configs) {
    const files = accountFiles(stateDir, c.server, c.email);
    const seen = out.get(files.dir);
    if (seen) {
      seen.view.certificates.push(c.name);
      continue;
    }
    out.set(files.dir, { config: c, view: { server: c.server, email: c.email, certificates: [c.name], dir: files.dir, key: false, url: storedAccountUrl(files, c.server), status: null, contact: null, error: null } });
  }
  return [...out.values()];
}

/** Fills in the key and what the CA says about the account (POST-as-GET of its URL). */
export async function askCa(e: { config: CertConfig; view: AccountView }, stateDir: string, log: Logger): Promise<void> {
  const v = e.view;
  const files = accountFiles(stateDir, v.server, v.email);
  v.key = (await readAccount(files, v.server)).keyPem !== null;
  if (!v.key) return;
  const signal = AbortSignal.timeout(120 * SECOND);
  try {
    await opContext.run({ requests: 0, signal }, async () => {
      const s = await AcmeSession.open(sessionOptions(e.config, stateDir, log, signal));
      v.url = s.accountUrl;
      const r = await s.get<{ status?: string; contact?: string[] }>("account", s.accountUrl!);
      v.status = typeof r.data?.status === "string" ? r.data.status : null;
      v.contact = Array.isArray(r.data?.contact) ? r.data.contact.filter((x) => typeof x === "string") : null;
    });
  } catch (err) {
    const f = err instanceof AcmeFailure ? err : new AcmeFailure("local", (err as Error)?.message ?? String(err));
    // A deactivated account: the CA refuses requests signed by it.
    if (f.cls === "unauthorized" && v.url) v.status = "deactivated or unknown to the CA";
    v.error = `${f.cls}: ${describe(f)}`;
  }
}

/** Deactivates the account at the CA, then moves its directory aside. Returns the account URL. Throws AcmeFailure. */
export async function deactivateAccount(c: CertConfig, stateDir: string, log: Logger, now: Date): Promise<{ url: string; movedTo: string }> {
  const files = accountFiles(stateDir, c.server, c.email);
  if ((await readAccount(files, c.server)).keyPem === null) throw new AcmeFailure("local", `no ACME account for ${c.server}${c.email ? ` and ${c.email}` : ""} in ${files.dir}: nothing to deactivate`);
  const signal = AbortSignal.timeout(120 * SECOND);
  const url = await opContext.run({ requests: 0, signal }, async () => {
    const s = await AcmeSession.open(sessionOptions(c, stateDir, log, signal));
    const r = await s.post<{ status?: string }>("deactivate account", s.accountUrl!, { status: "deactivated" });
    if (r.data?.status !== "deactivated") throw new AcmeFailure("acme", `deactivate account: the CA answered with status ${String(r.data?.status)}`);
    return s.accountUrl!;
  });
  // One rename: a run reading the account finds the old one (which the CA now refuses) or none.
  const movedTo = `${files.dir}.deactivated-${now.toISOString().replace(/[:.]/g, "-")}`;
  await rename(files.dir, movedTo);
  return { url, movedTo };
}
