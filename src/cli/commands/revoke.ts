/** `acme-renew revoke <name> [--reason R]`: revoke the certificate on disk; the next run replaces it. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RevocationReason } from "../../acme/reasons.js";
import { ConfigError } from "../../config/errors.js";
import { checkCertName } from "../../config/names.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { revoke } from "../../run/revoke.js";
import { makeContext, UsageError, type GlobalArgs } from "../context.js";

export async function revokeCommand(a: GlobalArgs & { name: string; reason?: RevocationReason }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const why = checkCertName(a.name);
  if (why) throw new UsageError(`revoke: "${a.name}" is not a certificate name: ${why}`);
  const file = join(ctx.configs.dir, `${a.name}.json`);
  if (!existsSync(file)) throw new UsageError(`revoke: no certificate "${a.name}": ${file} does not exist`);
  let config;
  try {
    config = ctx.configs.load(a.name);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    ctx.log.error("config-error", e.message, { cert: a.name });
    return EXIT.CONFIG;
  }
  return revoke(config, { stateDir: ctx.stateDir, log: ctx.log, now: ctx.now, reason: a.reason ?? "unspecified" });
}
