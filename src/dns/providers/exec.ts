/**
 * exec: lego's external-program provider (providers/dns/exec). `EXEC_PATH` — or the config's
 * `dnsHook`, the same thing — is run through hooks/spawn.ts (own process group, hookTimeout, the
 * run's deadline), with lego's arguments:
 *   default         PROGRAM present|cleanup <effective FQDN> <TXT value>
 *   EXEC_MODE=RAW   PROGRAM present|cleanup -- <domain> <token> <key authorization>
 * The effective FQDN is the name after CNAME following, as lego passes it. Like lego's, the provider
 * is sequential (EXEC_SEQUENCE_INTERVAL); the propagation check is the one every provider gets.
 * The program's environment: ours (without NOTIFY_SOCKET), the certificate's environmentFile and
 * credentialFiles entries (its credentials), ACME_RENEW_CERT_NAME and ACME_RENEW_DOMAINS. Its output
 * is logged with the values of those entries redacted.
 */
import { AcmeFailure } from "../../acme/errors.js";
import { ConfigError } from "../../config/errors.js";
import { hookEnv } from "../../hooks/env.js";
import { describeEnd, outputLines, runProgram } from "../../hooks/spawn.js";
import type { ProviderEnv } from "../env.js";
import { redactor } from "../errors.js";
import { defineProvider, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { LEGO_DEFAULTS } from "../timing.js";

const P = "EXEC_";
/** lego's exec defaults: dns01.DefaultPropagationTimeout, DefaultPollingInterval; the sequence interval is the propagation timeout's default. */
const DEFAULTS = { propagationTimeout: LEGO_DEFAULTS.propagationTimeout, pollingInterval: LEGO_DEFAULTS.pollingInterval, sequenceInterval: LEGO_DEFAULTS.propagationTimeout };

interface Config {
  program: string;
  /** "dnsHook" or "EXEC_PATH": how messages name the program. */
  via: string;
  raw: boolean;
}

function configure(env: ProviderEnv, opts: { hook: string | null }) {
  const program = opts.hook ?? env.require(`${P}PATH`);
  const mode = env.get(`${P}MODE`);
  if (mode !== undefined && mode !== "RAW") throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${P}MODE: expected RAW or unset (lego's default mode), got "${mode.slice(0, 20)}"`);
  const timing = {
    propagationTimeout: env.seconds(`${P}PROPAGATION_TIMEOUT`, DEFAULTS.propagationTimeout),
    pollingInterval: Math.max(1, env.seconds(`${P}POLLING_INTERVAL`, DEFAULTS.pollingInterval)),
    sequenceInterval: env.seconds(`${P}SEQUENCE_INTERVAL`, DEFAULTS.sequenceInterval),
    // exec has no TTL or HTTP knob in lego: the program decides.
    ttl: LEGO_DEFAULTS.ttl,
    httpTimeout: 30,
  };
  return { config: { program, via: opts.hook ? "dnsHook" : `${P}PATH`, raw: mode === "RAW" }, timing };
}

class Exec implements DnsProvider {
  /** The certificate's own entries (environmentFile, credentialFiles): the program's credentials. */
  private readonly own: Record<string, string>;
  private readonly redact: (s: string) => string;

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {
    this.own = ctx.env.ownEntries();
    const secretValues = Object.entries(this.own)
      .filter(([k]) => !k.startsWith(P) && !k.endsWith("_FILE"))
      .map(([, v]) => v);
    this.redact = redactor(() => secretValues);
  }

  private async run(action: "present" | "cleanup", r: TxtRecord): Promise<void> {
    const args = this.c.raw ? [action, "--", r.domain, r.token, r.keyAuthorization] : [action, r.fqdn, r.value];
    const timeoutMs = this.ctx.cert.hookTimeout * 1000;
    const env = hookEnv({ ACME_RENEW_CERT_NAME: this.ctx.cert.name, ACME_RENEW_DOMAINS: this.ctx.cert.domains.join(" ") }, { ...process.env, ...this.own });
    const res = await runProgram(this.c.program, args, { timeoutMs, signal: this.ctx.signal, env });
    for (const line of outputLines(res, 50)) this.ctx.log.info("dns-hook-output", this.redact(line), { cert: this.ctx.cert.name, action });
    const what = this.c.raw ? `${action} -- ${r.domain}` : `${action} ${r.fqdn}`;
    if (res.ok) return;
    // Stopped by the run's deadline: the run's timeout. Anything else (exit status, hookTimeout, not startable) is the program's answer, not retried in the run.
    const cls = res.end === "aborted" ? "timeout" : "local";
    throw new AcmeFailure(cls, `${this.c.via} ${this.c.program} ${what}: ${this.redact(describeEnd(res, timeoutMs))}`);
  }

  present(r: TxtRecord): Promise<void> {
    return this.run("present", r);
  }

  cleanup(r: TxtRecord): Promise<void> {
    return this.run("cleanup", r);
  }
}

export const definition = defineProvider<Config>({
  code: "exec",
  required: [`${P}PATH`],
  optional: [`${P}MODE`, `${P}PROPAGATION_TIMEOUT`, `${P}POLLING_INTERVAL`, `${P}SEQUENCE_INTERVAL`],
  // The program's credentials are its own variables (not ours to name): their values are redacted from its output.
  secrets: [],
  sequential: true,
  configure,
  create: (config, ctx) => new Exec(config, ctx),
});
