/** Entry: fast path for plain `check`/`ready`/`run`, yargs for everything else; one place maps errors to exit codes. */
import { ConfigError } from "../config/errors.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import { Logger, type LogFormat } from "../report/log.js";
import { writeErr } from "../report/stdio.js";
import { checkCommand } from "./commands/check.js";
import { readyCommand } from "./commands/ready.js";
// In the offline core too: a timer's not-due run loads no chunk of its own (2 files, ~2 ms on Node 24).
import { runCommand } from "./commands/run.js";
import { UsageError, type GlobalArgs } from "./context.js";
import { fastParse } from "./fastpath.js";

/** For the entry, which waits for the journal at the end. */
export { Logger };

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  let logFormat: LogFormat = "auto";
  const seen = (a: GlobalArgs) => {
    logFormat = a.logFormat;
  };
  try {
    const fast = fastParse(argv, env);
    if (fast) {
      seen(fast);
      if (fast.command === "check") return await checkCommand(fast);
      if (fast.command === "ready") return await readyCommand(fast);
      return await runCommand(fast);
    }
    const code = await (await import("./parser.js")).parseAndRun(argv, seen);
    return code ?? EXIT.OK;
  } catch (e) {
    const log = new Logger(logFormat);
    if (e instanceof UsageError) {
      log.error("usage", e.message);
      writeErr("run acme-renew --help for usage\n");
      return EXIT.USAGE;
    }
    if (e instanceof ConfigError) {
      log.error("config-error", e.message);
      return EXIT.CONFIG;
    }
    log.error("internal-error", (e as Error)?.stack ?? String(e));
    return EXIT.FAILURE;
  }
}
