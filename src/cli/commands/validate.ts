/** `acme-renew validate [name…]`: configs only. */
import { ConfigError } from "../../config/errors.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { makeContext, namesOrAll, type GlobalArgs } from "../context.js";

export function validateCommand(a: GlobalArgs & { names?: string[]; all?: boolean }): ExitCode {
  const ctx = makeContext(a);
  const names = namesOrAll(ctx, a.names, a.all);
  let code: ExitCode = EXIT.OK;
  for (const name of names) {
    try {
      ctx.configs.load(name);
      ctx.log.info("config-ok", "configuration is valid", { cert: name });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.log.error("config-error", e.message, { cert: name });
      code = EXIT.CONFIG;
    }
  }
  return code;
}
