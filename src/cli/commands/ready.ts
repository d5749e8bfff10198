/** `acme-renew ready <name…> | --all`: the boot path (offline; a placeholder when nothing is usable). */
import { ConfigError } from "../../config/errors.js";
import { EXIT, worst, type ExitCode } from "../../report/exit.js";
import { readyOne } from "../../run/ready.js";
import { makeContext, selectNames, type GlobalArgs } from "../context.js";

export interface ReadyArgs extends GlobalArgs {
  names?: string[];
  all?: boolean;
}

export async function readyCommand(a: ReadyArgs): Promise<ExitCode> {
  const ctx = makeContext(a);
  const codes: ExitCode[] = [];
  for (const name of selectNames(ctx, a.names, a.all)) {
    let config;
    try {
      config = ctx.configs.load(name);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.log.error("config-error", e.message, { cert: name });
      codes.push(EXIT.CONFIG);
      continue;
    }
    codes.push(await readyOne(config, { stateDir: ctx.stateDir, log: ctx.log, now: ctx.now }));
  }
  return worst(codes);
}
