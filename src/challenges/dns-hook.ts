/**
 * dns-01 through an executable, with lego's `exec` provider protocol:
 *   HOOK present _acme-challenge.<domain>. <value>
 *   HOOK cleanup _acme-challenge.<domain>. <value>
 * Run with an argument array (no shell). After `present`, wait until the TXT record is visible.
 */
import { Resolver } from "node:dns/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { AcmeFailure } from "../acme/errors.js";
import { allNames } from "../config/types.js";
import { hookEnv } from "../hooks/env.js";
import { describeEnd, outputLines, runProgram } from "../hooks/spawn.js";
import type { ChallengeTask, Solver, SolverContext } from "./solver.js";

/** What this solver needs of the dns01 challenge config (dnsHook). */
export interface DnsHook {
  hook: string;
  resolver: string | null;
  propagationTimeout: number;
}

export const txtName = (identifier: string) => `_acme-challenge.${identifier}.`;

export class DnsHookSolver implements Solver {
  readonly type = "dns-01" as const;
  constructor(
    private readonly c: DnsHook,
    private readonly ctx: SolverContext,
  ) {}

  private async hook(action: "present" | "cleanup", t: ChallengeTask): Promise<void> {
    const fqdn = txtName(t.identifier);
    const timeoutMs = this.ctx.config.hookTimeout * 1000;
    const r = await runProgram(this.c.hook, [action, fqdn, t.keyAuthorization], {
      timeoutMs,
      signal: this.ctx.signal,
      env: hookEnv({ ACME_RENEW_CERT_NAME: this.ctx.config.name, ACME_RENEW_DOMAINS: allNames(this.ctx.config).join(" ") }),
    });
    for (const line of outputLines(r, 50)) this.ctx.log.info("dns-hook-output", line, { cert: this.ctx.config.name, action });
    if (!r.ok) throw new AcmeFailure("local", `dnsHook ${this.c.hook} ${action} ${fqdn}: ${describeEnd(r, timeoutMs)}`);
  }

  async prepare(t: ChallengeTask): Promise<void> {
    await this.hook("present", t);
    await this.waitVisible(t);
  }

  /** Polls the TXT record until it carries the value (bounded by dnsPropagationTimeout). */
  private async waitVisible(t: ChallengeTask): Promise<void> {
    const limit = this.c.propagationTimeout * 1000;
    if (limit === 0) return;
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    if (this.c.resolver) resolver.setServers([this.c.resolver]);
    const name = txtName(t.identifier).slice(0, -1);
    const deadline = Date.now() + limit;
    let last = "";
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        const records = await resolver.resolveTxt(name);
        if (records.some((chunks) => chunks.join("") === t.keyAuthorization)) return;
        last = `${records.length} other TXT record(s)`;
      } catch (e) {
        last = (e as NodeJS.ErrnoException).code ?? String(e);
      }
      if (Date.now() + delay > deadline || this.ctx.signal.aborted)
        throw new AcmeFailure("local", `TXT ${name} not visible after ${this.c.propagationTimeout}s (${last})${this.c.resolver ? ` via ${this.c.resolver}` : ""}`);
      await sleep(delay, undefined, { signal: this.ctx.signal }).catch(() => {});
    }
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    await this.hook("cleanup", t);
  }

  async close(): Promise<void> {}
}
