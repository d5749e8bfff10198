/** `acme-renew validate [name…]`: configs only: whether their `group` exists, whether the terms are accepted, a DNS provider's variables (no network). */
import { accountFiles, storedAccountUrl } from "../../acme/account-files.js";
import { ConfigError } from "../../config/errors.js";
import type { CertConfig } from "../../config/types.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { gidOf } from "../../store/group.js";
import { makeContext, namesOrAll, type GlobalArgs } from "../context.js";

/**
 * acceptTerms unset is an error unless an account is registered already for the certificate's
 * server and email (then `run` never needs to register one): what `run` would do, said early.
 */
function termsProblem(c: CertConfig, stateDir: string): { error: boolean; message: string } | null {
  if (c.acceptTerms) return null;
  if (storedAccountUrl(accountFiles(stateDir, c.server, c.email), c.server))
    return { error: false, message: `acceptTerms: not set; the account already registered with ${c.server} is used, but registering another (other server or email) needs "acceptTerms": true` };
  return { error: true, message: `config ${c.file}: acceptTerms: not set: registering an ACME account with ${c.server} means accepting its terms of service; set "acceptTerms": true here or in defaults.json` };
}

export async function validateCommand(a: GlobalArgs & { names?: string[]; all?: boolean; groupCheck?: boolean; credentials?: boolean }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const names = namesOrAll(ctx, a.names, a.all);
  let code: ExitCode = EXIT.OK;
  for (const name of names) {
    try {
      const c = ctx.configs.load(name);
      // NSS (getent): a child process, fine here; `check` does not resolve groups (offline, fast).
      if (c.group && a.groupCheck !== false) await gidOf(c.group).catch((e: Error) => Promise.reject(new ConfigError(c.file, "group", e.message)));
      // --no-credentials: where the provider's variables are not there (a Nix build sandbox; the unit has them).
      if (c.challenge.type === "dns01" && a.credentials !== false) {
        const { prepareProvider } = await import("../../dns/setup.js");
        await prepareProvider(c, c.challenge, process.env, (m) => ctx.log.warn("dns-credentials", m, { cert: name }));
      }
      const terms = termsProblem(c, ctx.stateDir);
      if (terms?.error) {
        ctx.log.error("config-error", terms.message, { cert: name });
        code = EXIT.CONFIG;
        continue;
      }
      if (terms) ctx.log.warn("config-ok", `configuration is valid; ${terms.message}`, { cert: name });
      else ctx.log.info("config-ok", "configuration is valid", { cert: name });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.log.error("config-error", e.message, { cert: name });
      code = EXIT.CONFIG;
    }
  }
  return code;
}
