/**
 * Drives one DNS provider module directly (no CA): prepare it from a set of variables as the CLI
 * would, then present/cleanup records. For the provider tests against real servers (BIND, Knot) and
 * the fake HTTP APIs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DnsServer } from "../../src/config/names.js";
import type { CertConfig, DnsChallenge } from "../../src/config/types.js";
import { canonicalProvider } from "../../src/config/dns-providers.js";
import { DEFAULT_RETRY } from "../../src/acme/retry.js";
import { Logger } from "../../src/report/log.js";
import { createProvider, prepareProvider, type LiveProvider, type PreparedProvider } from "../../src/dns/setup.js";
import type { TxtRecord } from "../../src/dns/provider.js";

export interface Driven extends LiveProvider {
  prepared: PreparedProvider;
  /** JSON log lines the provider wrote. */
  logs: Array<Record<string, unknown>>;
}

export function challenge(code: string, o: Partial<DnsChallenge> = {}): DnsChallenge {
  return {
    type: "dns01",
    provider: canonicalProvider(code)!,
    code,
    hook: null,
    resolvers: [],
    propagationCheck: true,
    propagationTimeout: null,
    environmentFile: null,
    credentialFiles: {},
    ...o,
  };
}

/** Prepares `code` with `vars` as the process environment (plus optional challenge fields). */
export async function driveProvider(
  code: string,
  vars: Record<string, string>,
  o: { resolvers?: DnsServer[]; challenge?: Partial<DnsChallenge>; timeoutMs?: number; retryBaseMs?: number; extraCa?: string } = {},
): Promise<Driven> {
  const logs: Array<Record<string, unknown>> = [];
  const log = new Logger("json", (l) => logs.push(JSON.parse(l) as Record<string, unknown>), {});
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-dnsp-"));
  const file = join(dir, "t.example.json");
  writeFileSync(file, "{}");
  const c = challenge(code, { resolvers: o.resolvers ?? [], ...o.challenge });
  const cert = { name: "t.example", file, hookTimeout: 10, timeout: 60, challenge: c } as unknown as CertConfig;
  const prepared = await prepareProvider(cert, c, vars, (m) => logs.push({ level: "warning", event: "dns-credentials", msg: m }));
  const deadlineAt = Date.now() + (o.timeoutMs ?? 30_000);
  const phase = { signal: AbortSignal.timeout(o.timeoutMs ?? 30_000), retry: { policy: { ...DEFAULT_RETRY, baseMs: o.retryBaseMs ?? 50, capMs: 200 }, deadlineAt, networkDown: false } };
  const live = createProvider(prepared, { log, resolvers: c.resolvers, phase: () => phase, cert: { name: cert.name, domains: [cert.name], hook: c.hook, hookTimeout: 10 }, ...(o.extraCa ? { extraCa: o.extraCa } : {}) });
  return { prepared, logs, ...live };
}

export function record(fqdn: string, value: string): TxtRecord {
  return { fqdn, value, domain: fqdn.replace(/^_acme-challenge\./, "").replace(/\.$/, ""), token: "token-x", keyAuthorization: `token-x.${value}` };
}
