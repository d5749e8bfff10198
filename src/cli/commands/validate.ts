/** `acme-renew validate [name…]`: configs only (and whether their `group` exists). */
import { ConfigError } from "../../config/errors.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { gidOf } from "../../store/group.js";
import { makeContext, namesOrAll, type GlobalArgs } from "../context.js";

export async function validateCommand(a: GlobalArgs & { names?: string[]; all?: boolean; groupCheck?: boolean }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const names = namesOrAll(ctx, a.names, a.all);
  let code: ExitCode = EXIT.OK;
  for (const name of names) {
    try {
      const c = ctx.configs.load(name);
      // NSS (getent): a child process, fine here; `check` does not resolve groups (offline, fast).
      if (c.group && a.groupCheck !== false) await gidOf(c.group).catch((e: Error) => Promise.reject(new ConfigError(c.file, "group", e.message)));
      ctx.log.info("config-ok", "configuration is valid", { cert: name });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.log.error("config-error", e.message, { cert: name });
      code = EXIT.CONFIG;
    }
  }
  return code;
}
