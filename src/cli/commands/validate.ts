/** `acme-renew validate [name…]`: configs only, and a DNS provider's variables (no network). */
import { ConfigError } from "../../config/errors.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { makeContext, namesOrAll, type GlobalArgs } from "../context.js";

export async function validateCommand(a: GlobalArgs & { names?: string[]; all?: boolean }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const names = namesOrAll(ctx, a.names, a.all);
  let code: ExitCode = EXIT.OK;
  for (const name of names) {
    try {
      const c = ctx.configs.load(name);
      if (c.challenge.type === "dns01" && !c.challenge.hook) {
        const { prepareProvider } = await import("../../dns/setup.js");
        await prepareProvider(c, c.challenge, process.env, (m) => ctx.log.warn("dns-credentials", m, { cert: name }));
      }
      ctx.log.info("config-ok", "configuration is valid", { cert: name });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.log.error("config-error", e.message, { cert: name });
      code = EXIT.CONFIG;
    }
  }
  return code;
}
