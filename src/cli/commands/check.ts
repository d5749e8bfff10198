/** `acme-renew check <name…> | --all`: the offline pre-check. */
import { ConfigError } from "../../config/errors.js";
import { checkJson, checkLine } from "../../report/check.js";
import { EXIT, worst, type ExitCode } from "../../report/exit.js";
import { isTerminal, writeOut } from "../../report/stdio.js";
import { precheck, type Precheck } from "../../run/precheck.js";
import { makeContext, selectNames, type GlobalArgs } from "../context.js";

export interface CheckArgs extends GlobalArgs {
  names?: string[];
  all?: boolean;
  json?: boolean;
}

export async function checkCommand(a: CheckArgs): Promise<ExitCode> {
  const ctx = makeContext(a);
  const codes: ExitCode[] = [];
  // What is printed at the end, made as each certificate is done: only the terminal's table needs
  // the Precheck records themselves (10,000 of them kept for --json were ~100 MiB).
  const results: Precheck[] = [];
  const json: Array<Record<string, unknown>> = [];
  const lines: string[] = [];
  const now = ctx.now();
  // On a terminal: one table on stdout, and not the same facts again as log lines on the same terminal.
  const table = !a.json && isTerminal(1);
  const quiet = table && isTerminal(2) && ctx.log.format === "text";
  for (const name of selectNames(ctx, a.names, a.all)) {
    try {
      const p = precheck(ctx.configs.load(name), ctx.stateDir, now, ctx.log);
      if (a.json) json.push(checkJson(p));
      else if (table) results.push(p);
      else lines.push(checkLine(p));
      codes.push(p.decision.usable ? EXIT.OK : EXIT.FAILURE);
      const level = !p.decision.usable ? "error" : p.decision.validMinDaysClamped ? "warning" : p.decision.renew ? "notice" : "info";
      if (!quiet) ctx.log.log(level, "check", p.decision.reasons.join("; "), {
        cert: name,
        status: p.decision.status,
        usable: p.decision.usable,
        not_after: p.decision.notAfter ?? undefined,
        renew_at: p.decision.renewAt ?? undefined,
      });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.log.error("config-error", e.message, { cert: name });
      codes.push(EXIT.CONFIG);
    }
  }
  if (a.json) writeOut(`${JSON.stringify(json, null, 2)}\n`);
  else if (table && results.length) process.stdout.write((await import("../../report/check-table.js")).checkTable(results, now, process.stdout));
  else if (lines.length) writeOut(`${lines.join("\n")}\n`);
  return worst(codes);
}
