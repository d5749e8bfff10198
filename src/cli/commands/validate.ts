/** `acme-renew validate [name…]`: configs only. */
import { ConfigError } from "../../config/errors.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { makeContext, type GlobalArgs } from "../context.js";

export function validateCommand(a: GlobalArgs & { names?: string[] }): ExitCode {
  const ctx = makeContext(a);
  const names = a.names?.length ? a.names : ctx.configs.listNames();
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
