/** `acme-renew doctor [name…]`: checks for a person to read. */
import { doctor, render } from "../../doctor/doctor.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { makeContext, namesOrAll, type GlobalArgs } from "../context.js";

export async function doctorCommand(a: GlobalArgs & { names?: string[]; all?: boolean; json?: boolean }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const names = namesOrAll(ctx, a.names, a.all);
  const results = await doctor(ctx.configs, names, ctx.stateDir, ctx.now(), ctx.log);
  process.stdout.write(a.json ? `${JSON.stringify(results, null, 2)}\n` : render(results));
  return results.some((r) => r.findings.some((f) => f.mark === "fail")) ? EXIT.FAILURE : EXIT.OK;
}
