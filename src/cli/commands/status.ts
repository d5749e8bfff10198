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

export async function statusCommand(a: GlobalArgs & { names?: string[]; all?: boolean; json?: boolean; prometheus?: string; cluster?: boolean }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const names = namesOrAll(ctx, a.names, a.all);
  const now = ctx.now();
  const rows: StatusRow[] = [];
  const views: Array<{ name: string; view: import("../../doctor/cluster.js").ClusterView }> = [];
  let code: ExitCode = EXIT.OK;
  for (const name of names) {
    try {
      const config = ctx.configs.load(name);
      const p = precheck(config, ctx.stateDir, now, ctx.log);
      rows.push(statusRow(p, now));
      // --cluster (the only part of status that connects): the shared record and the lock in etcd.
      if (a.cluster && config.cluster) views.push({ name, view: await (await import("../../doctor/cluster.js")).clusterView(config, p) });
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
  } else if (a.json) {
    const byName = new Map(views.map((v) => [v.name, v.view]));
    process.stdout.write(`${JSON.stringify(a.cluster ? rows.map((r) => ({ ...r, cluster: byName.get(r.name) ?? null })) : rows, null, 2)}\n`);
  } else {
    process.stdout.write(statusTable(rows, process.stdout.isTTY ? { width: process.stdout.columns, colour: colourFor(process.stdout) } : {}));
    if (views.length) process.stdout.write(`\n${(await import("../../doctor/cluster.js")).renderClusterViews(views)}`);
  }
  if (views.some((v) => v.view.error)) code = code === EXIT.OK ? EXIT.FAILURE : code;
  return code;
}
