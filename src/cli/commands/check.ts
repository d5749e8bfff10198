/** `acme-renew check <name…> | --all`: the offline pre-check. */
import { worst, type ExitCode } from "../../report/exit.js";
import { isTerminal, writeOut } from "../../report/stdio.js";
import { checkOne, type CheckOutput } from "../../run/check-one.js";
import { FANOUT_MIN } from "../../run/fanout-limits.js";
import type { Precheck } from "../../run/precheck.js";
import { makeContext, selectNames, type GlobalArgs } from "../context.js";

export interface CheckArgs extends GlobalArgs {
  names?: string[];
  all?: boolean;
  json?: boolean;
}

export async function checkCommand(a: CheckArgs): Promise<ExitCode> {
  const ctx = makeContext(a);
  const now = ctx.now();
  const names = selectNames(ctx, a.names, a.all);
  // On a terminal: one table on stdout, and not the same facts again as log lines on the same terminal.
  const table = !a.json && isTerminal(1);
  const quiet = table && isTerminal(2) && ctx.log.format === "text";
  // What is printed at the end, made as each certificate is done: only the terminal's table needs
  // the Precheck records themselves (10,000 of them kept for --json were ~100 MiB).
  let results: Array<{ code: ExitCode; out: CheckOutput | null }>;
  if (!table && names.length >= FANOUT_MIN) {
    const { fanout, emitLogs } = await import("../../run/fanout.js");
    const { items, byWorkers, error } = await fanout(names, { job: "check", configDir: ctx.configs.dir, stateDir: ctx.stateDir, logFormat: ctx.log.format, now: now.getTime(), output: a.json ? "json" : "line" });
    ctx.log.debug("fanout", `${names.length} certificates, ${byWorkers} chunk(s) by worker threads`);
    emitLogs(items, ctx.log);
    // As one thread: the lines up to the certificate that failed unexpectedly, then the failure.
    if (error !== undefined) throw error;
    results = items.map((i) => i.out as { code: ExitCode; out: CheckOutput | null });
  } else {
    const o = { configs: ctx.configs, stateDir: ctx.stateDir, now, log: ctx.log, output: a.json ? "json" : table ? "record" : "line", quiet } as const;
    results = names.map((name) => checkOne(name, o));
  }
  const outs = results.flatMap((r) => (r.out === null ? [] : [r.out]));
  if (a.json) writeOut(`${JSON.stringify(outs, null, 2)}\n`);
  else if (table && outs.length) process.stdout.write((await import("../../report/check-table.js")).checkTable(outs as Precheck[], now, process.stdout));
  else if (outs.length) writeOut(`${outs.join("\n")}\n`);
  return worst(results.map((r) => r.code));
}
