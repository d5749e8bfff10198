/**
 * dns-01 through a DNS provider (src/dns/providers/): follow CNAMEs from `_acme-challenge.<name>` (as
 * lego does), set the TXT record at the last name, then wait until every authoritative server of its
 * zone serves it (src/dns/propagation.ts) before the CA is told to look. Records at one name are set
 * side by side, except for providers that hold one value per name (lego's Sequential ones): obtain()
 * then solves one authorization at a time, and a record at a name already used in this run waits
 * the provider's sequence interval. Cleanup always runs, with its own time bound, also after the
 * run's deadline.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { AcmeFailure } from "../acme/errors.js";
import { DEFAULT_RETRY } from "../acme/retry.js";
import { allNames, type DnsChallenge } from "../config/types.js";
import { followCname } from "../dns/cname.js";
import { DnsError } from "../dns/client.js";
import { waitAuthoritative } from "../dns/propagation.js";
import type { TxtRecord } from "../dns/provider.js";
import { createProvider, providerFor, type LiveProvider, type Phase, type PreparedProvider } from "../dns/setup.js";
import { fqdn } from "../dns/wire.js";
import type { ChallengeTask, Solver, SolverContext } from "./solver.js";

/** Cleanup gets this long of its own, whatever is left of the run's deadline. */
const CLEANUP_MS = 30_000;

interface Placed {
  record: TxtRecord;
  cleaned: boolean;
}

interface Ready extends LiveProvider {
  prepared: PreparedProvider;
}

export class Dns01Solver implements Solver {
  readonly type = "dns-01" as const;
  private ready: Promise<Ready> | null = null;
  private readonly placed = new Map<ChallengeTask, Placed>();
  private readonly removedAt = new Map<string, number>();
  /** The bound the provider's calls run under: the run's, then cleanup's own. */
  private phase: Phase;

  constructor(
    private readonly c: DnsChallenge,
    private readonly ctx: SolverContext,
  ) {
    this.phase = { signal: ctx.signal, retry: ctx.retry ?? { policy: DEFAULT_RETRY, deadlineAt: Date.now() + ctx.config.timeout * 1000, networkDown: false } };
  }

  private get name(): string {
    return this.c.code;
  }

  private setup(): Promise<Ready> {
    this.ready ??= (async () => {
      const log = this.ctx.log;
      const cert = this.ctx.config;
      const prepared = await providerFor(cert, this.c, (m) => log.warn("dns-credentials", m, { cert: cert.name }));
      const live = createProvider(prepared, { log, resolvers: this.c.resolvers, phase: () => this.phase, cert: { name: cert.name, domains: allNames(cert), hook: this.c.hook, hookTimeout: cert.hookTimeout } });
      return { prepared, ...live };
    })();
    return this.ready;
  }

  /** A provider's or lookup's failure as the renewal sees it, secrets redacted. */
  private failure(e: unknown, what: string, redact: (s: string) => string): AcmeFailure {
    if (e instanceof AcmeFailure) return new AcmeFailure(e.cls, redact(e.message), e.extra);
    if (e instanceof DnsError) {
      const cls = this.phase.signal.aborted ? "timeout" : e.kind === "network" ? "network" : "dns";
      return new AcmeFailure(cls, `dns-01 ${what}: ${redact(e.message)}`);
    }
    return new AcmeFailure("local", `dns-01 ${what}: ${redact((e as Error)?.message ?? String(e))}`, { cause: e });
  }

  /** Sequential providers: the provider's sequence interval since the last record at `name` was removed. */
  private async pause(name: string, seconds: number): Promise<void> {
    const last = this.removedAt.get(name);
    if (last === undefined) return;
    const wait = last + seconds * 1000 - Date.now();
    if (wait <= 0) return;
    this.ctx.log.info("dns-sequential", `${name}: ${this.name} holds one value per name; waiting ${Math.ceil(wait / 1000)}s after the previous one (its sequence interval)`, { cert: this.ctx.config.name });
    await sleep(wait, undefined, { signal: this.phase.signal }).catch(() => {});
  }

  async sequential(): Promise<boolean> {
    return !!(await this.setup()).prepared.definition.sequential;
  }

  async prepare(t: ChallengeTask): Promise<void> {
    const r = await this.setup();
    const log = this.ctx.log;
    const cert = this.ctx.config.name;
    const start = fqdn(`_acme-challenge.${t.identifier}`);
    let target = start;
    if (!/^(1|t|true)$/i.test(process.env.LEGO_DISABLE_CNAME_SUPPORT ?? "")) {
      try {
        const followed = await followCname(r.lookup, start);
        target = followed.target;
        if (followed.chain.length > 1) log.info("dns-cname", `${start} is delegated: ${followed.chain.join(" → ")}; the record goes at ${target}`, { cert });
      } catch (e) {
        throw this.failure(e, `CNAME lookup of ${start} (via ${r.lookup.describe()})`, r.redact);
      }
    }
    const record: TxtRecord = { fqdn: target, value: t.keyAuthorization, domain: t.identifier, token: t.token, keyAuthorization: t.rawKeyAuthorization ?? t.keyAuthorization };
    const timing = r.prepared.timing;
    if (r.prepared.definition.sequential) await this.pause(target, timing.sequenceInterval ?? 60);
    this.placed.set(t, { record, cleaned: false });
    try {
      await r.provider.present(record);
    } catch (e) {
      throw this.failure(e, `present ${target}`, r.redact);
    }
    log.info("dns-present", `TXT ${target} set through ${this.name}`, { cert });
    const timeoutS = this.c.propagationTimeout ?? timing.propagationTimeout;
    if (!this.c.propagationCheck || timeoutS === 0) return;
    const left = this.phase.retry.deadlineAt - Date.now();
    const byDeadline = left < timeoutS * 1000;
    try {
      const w = await waitAuthoritative(r.lookup, target, record.value, {
        timeoutMs: Math.min(timeoutS * 1000, Math.max(0, left)),
        maxIntervalMs: timing.pollingInterval * 1000,
        signal: this.phase.signal,
        onWait: (pending) => log.info("dns-waiting", `TXT ${target}: waiting for ${pending}`, { cert }),
      });
      log.info("dns-propagated", `TXT ${target} served by every authoritative server of ${w.zone} (${w.nameservers.join(", ")}) after ${(w.ms / 1000).toFixed(1)}s`, { cert });
    } catch (e) {
      // Out of time because the run's deadline came first: that is the run's timeout, not the provider's fault.
      if (byDeadline && e instanceof DnsError && e.kind === "timeout") throw new AcmeFailure("timeout", `dns-01 propagation check of ${target}: deadline reached (${r.redact(e.message)})`);
      throw this.failure(e, `propagation check of ${target}`, r.redact);
    }
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    const p = this.placed.get(t);
    if (!p || p.cleaned) return;
    const r = await this.setup();
    // The run may be past its deadline (that may be why we clean up): cleanup has its own bound.
    const run = this.phase;
    this.phase = { signal: AbortSignal.timeout(CLEANUP_MS), retry: { ...run.retry, deadlineAt: Date.now() + CLEANUP_MS } };
    try {
      await r.provider.cleanup(p.record);
      p.cleaned = true;
      this.removedAt.set(p.record.fqdn, Date.now());
      this.ctx.log.info("dns-cleanup", `TXT ${p.record.fqdn} removed through ${this.name}`, { cert: this.ctx.config.name });
    } catch (e) {
      throw this.failure(e, `cleanup ${p.record.fqdn}`, r.redact);
    } finally {
      this.phase = run;
    }
  }

  async close(): Promise<void> {
    if (this.ready) (await this.ready.catch(() => null))?.http.close();
  }
}
