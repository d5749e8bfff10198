/** `acme-renew status [name…] [--json] [--prometheus FILE]`: offline overview and metrics. */
import { resolve } from "node:path";
import { ConfigError } from "../../config/errors.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { prometheusText } from "../../report/prometheus.js";
import { statusRow, statusTable, type StatusRow } from "../../report/status.js";
import { colourFor } from "../../report/table.js";
import { precheck } from "../../run/precheck.js";
import { writeFileAtomic } from "../../store/atomic.js";
import { makeContext, namesOrAll, type GlobalArgs } from "../context.js";

export async function statusCommand(a: GlobalArgs & { names?: string[]; all?: boolean; json?: boolean; prometheus?: string }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const names = namesOrAll(ctx, a.names, a.all);
  const now = ctx.now();
  const rows: StatusRow[] = [];
  let code: ExitCode = EXIT.OK;
  for (const name of names) {
    try {
      rows.push(statusRow(precheck(ctx.configs.load(name), ctx.stateDir, now, ctx.log), now));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.log.error("config-error", e.message, { cert: name });
      code = EXIT.CONFIG;
    }
  }
  if (a.prometheus) {
    const file = resolve(a.prometheus);
    try {
      await writeFileAtomic(file, prometheusText(rows), 0o644);
    } catch (e) {
      ctx.log.error("prometheus", `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return EXIT.FAILURE;
    }
  } else if (a.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else process.stdout.write(statusTable(rows, process.stdout.isTTY ? { width: process.stdout.columns, colour: colourFor(process.stdout) } : {}));
  return code;
}
