/**
 * The DNS provider's side of a run: its variables are configuration (a missing one is exit 78,
 * found before the CA is asked), and they are credentials postRun must not inherit.
 * Loads the DNS code only for a dns-01 certificate (dnsHook is the exec provider).
 */
import { ConfigError } from "../config/errors.js";
import type { CertConfig } from "../config/types.js";
import { EXIT } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import type { RunResult } from "./result.js";

export async function providerProblem(c: CertConfig, log: Logger): Promise<RunResult | null> {
  if (c.challenge.type !== "dns01") return null;
  const { providerFor } = await import("../dns/setup.js");
  try {
    await providerFor(c, c.challenge, (m) => log.warn("dns-credentials", m));
    return null;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    log.error("config-error", e.message);
    return { name: c.name, outcome: "config-error", code: EXIT.CONFIG, message: e.message };
  }
}

/** Names of the provider's variables (from the environment, environmentFile or credentialFiles). */
export async function providerVariables(c: CertConfig): Promise<string[]> {
  if (c.challenge.type !== "dns01") return [];
  const { providerFor } = await import("../dns/setup.js");
  return (await providerFor(c, c.challenge, () => {}).catch(() => null))?.env.variables() ?? [];
}
