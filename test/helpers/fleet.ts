/**
 * A fleet of installed certificates for the fan-out tests (run/fanout.ts): `n` names h<i>.example.com,
 * most valid and not due (installed, facts record, one key for all), and at chosen positions the cases
 * that come out differently: a config error, no certificate, due but backing off, reload hooks owed,
 * due with a group that does not exist (a config error found only when renewing).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificate } from "../../src/crypto/certs.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import { install } from "../../src/store/install.js";
import { certPaths } from "../../src/store/paths.js";
import { DAY, testCa } from "./pki.js";

export interface Fleet {
  etc: string;
  state: string;
  names: string[];
}

export type Special = "config-error" | "missing" | "backoff" | "hooks-owed" | "bad-group";

const name = (i: number) => `h${String(i).padStart(5, "0")}.example.com`;

export async function makeFleet(n: number, special: Record<number, Special> = {}, now = Date.now()): Promise<Fleet> {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-fleet-"));
  const etc = join(root, "etc");
  const state = join(root, "state");
  mkdirSync(etc);
  mkdirSync(state);
  const ca = await testCa();
  const key = await generateKeyPair("ec256");
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const nm = name(i);
    names.push(nm);
    const kind = special[i];
    const config = { webroot: "/var/www", server: "https://127.0.0.1:1/dir", acceptTerms: true, ari: false, placeholder: false, ...(kind === "hooks-owed" ? { postRun: "true" } : {}), ...(kind === "bad-group" ? { group: "acme-renew-no-such-group" } : {}) };
    writeFileSync(join(etc, `${nm}.json`), kind === "config-error" ? '{"webroot": "/var/www", "keyType": "dsa1024"}' : JSON.stringify(config));
    if (kind === "missing") continue;
    // 89 days, 9 of them left (due) for the backoff and bad-group cases, else 88.
    const notBefore = new Date(now - (kind === "backoff" || kind === "bad-group" ? 80 : 1) * DAY);
    const cert = await createCertificate({ names: [nm], key, issuer: ca, notBefore, notAfter: new Date(notBefore.getTime() + 89 * DAY) });
    await install(certPaths(state, nm), { keyPem: key.pem, certPem: cert.toString("pem"), chainPem: ca.cert.toString("pem") }, { keep: 3, group: null, now: new Date(now) });
    const s: Record<string, unknown> = { version: 1 };
    if (kind === "backoff") Object.assign(s, { consecutiveFailures: 2, answeredFailures: 2, nextAttemptAt: new Date(now + 3600_000).toISOString(), lastAttempt: new Date(now - 60_000).toISOString(), lastError: { class: "network", message: "connect ECONNREFUSED" } });
    if (kind === "hooks-owed") s.hooksPending = { since: new Date(now - 3600_000).toISOString(), attempts: 1, lastError: "postRun: exit 1" };
    writeFileSync(join(state, nm, "state.json"), JSON.stringify(s));
  }
  return { etc, state, names };
}
