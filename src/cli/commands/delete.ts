/** `acme-renew delete <name> [--force]`: a certificate's files, versions and state, gone as one. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkCertName } from "../../config/names.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { DeleteIncomplete, leftovers, removeCertDir, removeLeftovers } from "../../store/delete.js";
import { LockBusy } from "../../store/lock.js";
import { certPaths } from "../../store/paths.js";
import { makeContext, UsageError, type GlobalArgs } from "../context.js";

export async function deleteCommand(a: GlobalArgs & { name: string; force?: boolean }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const why = checkCertName(a.name);
  if (why) throw new UsageError(`delete: "${a.name}" is not a certificate name: ${why}`);
  const config = join(ctx.configs.dir, `${a.name}.json`);
  const paths = certPaths(ctx.stateDir, a.name);
  if (!existsSync(paths.dir)) {
    if (!(await leftovers(paths)).length) throw new UsageError(`delete: no certificate "${a.name}" in ${ctx.stateDir}`);
    // Only what an interrupted delete left aside: finish it.
    await removeLeftovers(paths);
    ctx.log.notice("deleted", `removed what an interrupted delete of ${a.name} left in ${ctx.stateDir}`, { cert: a.name });
    return EXIT.OK;
  }
  if (existsSync(config) && !a.force) {
    ctx.log.error("delete", `${config} still names this certificate: remove the config first, or give --force (then the next run orders a new certificate)`, { cert: a.name });
    return EXIT.USAGE;
  }
  try {
    await removeCertDir(paths);
  } catch (e) {
    if (e instanceof LockBusy) {
      ctx.log.error("delete", `another run holds ${e.file} (${e.owner}): nothing deleted, try again when it is done`, { cert: a.name });
      return EXIT.FAILURE;
    }
    if (e instanceof DeleteIncomplete) {
      ctx.log.error("delete", `${a.name}: ${e.message}; the next delete of ${a.name} removes it`, { cert: a.name });
      return EXIT.FAILURE;
    }
    ctx.log.error("delete", `${paths.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; nothing deleted`, { cert: a.name });
    return EXIT.FAILURE;
  }
  ctx.log.notice("deleted", `deleted ${paths.dir}${existsSync(config) ? `; ${config} remains: the next run orders a new certificate` : ""}`, { cert: a.name });
  return EXIT.OK;
}
