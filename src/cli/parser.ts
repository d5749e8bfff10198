/** The full command line: yargs built from definitions.ts. Loaded only when the fast path (fastpath.ts) declines. */
import yargs, { type Argv, type Options } from "yargs";
import { jsonSchema } from "../config/schema.js";
import { forgetHookVars } from "../hooks/env.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import { VERSION } from "../util/build-info.js";
import { checkCommand } from "./commands/check.js";
import { deleteCommand } from "./commands/delete.js";
import { readyCommand } from "./commands/ready.js";
import { runCommand } from "./commands/run.js";
import { validateCommand } from "./commands/validate.js";
import { UsageError, type GlobalArgs } from "./context.js";
import { COMMANDS, GLOBAL_OPTIONS, PROGRAM, SUMMARY, type CommandDef, type HandlerName, type OptionDef } from "./definitions.js";
import { completeWords, completionScript } from "./completion.js";

type Handler<A> = (a: A) => ExitCode | Promise<ExitCode>;

export type Handlers = Record<HandlerName, Handler<never>>;

const HANDLERS: Handlers = {
  check: checkCommand,
  ready: readyCommand,
  run: runCommand,
  validate: validateCommand,
  doctor: async (a) => (await import("./commands/doctor.js")).doctorCommand(a),
  status: async (a) => (await import("./commands/status.js")).statusCommand(a),
  import: async (a) => (await import("./commands/import.js")).importCommand(a),
  revoke: async (a) => (await import("./commands/revoke.js")).revokeCommand(a),
  account: async (a) => (await import("./commands/account.js")).accountCommand(a),
  "serve-http01": async (a) => (await import("./commands/serve-http01.js")).serveHttp01Command(a),
  // Static: a chunk of its own would split the offline path's shared chunks into more files.
  delete: deleteCommand,
  completion: (a: { shell?: string }) => {
    process.stdout.write(completionScript(a.shell));
    return EXIT.OK;
  },
  schema: () => {
    process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
    return EXIT.OK;
  },
};

/** The names positional and --all of a command that works on certificates. */
function selection(y: Argv, kind: NonNullable<CommandDef["selection"]>): Argv {
  return y
    .positional("names", { type: "string", array: true, describe: "certificate names (config file names without .json)" })
    .option("all", { type: "boolean", describe: kind === "all-by-default" ? "every certificate in the config dir (also without names)" : "every certificate in the config dir" });
}

/** The options as yargs takes them (without the man page's `arg`). */
function yargsOptions(o: Record<string, OptionDef> = {}): Record<string, Options> {
  return Object.fromEntries(Object.entries(o).map(([k, { arg: _arg, ...v }]) => [k, v]));
}

function builder(def: CommandDef) {
  return (y: Argv): Argv => {
    let b = def.selection ? selection(y, def.selection) : y;
    for (const [k, p] of Object.entries(def.positionals ?? {})) b = b.positional(k, p);
    b = b.options(yargsOptions(def.options));
    for (const [cmd, what] of def.examples ?? []) b = b.example(cmd, what);
    return b;
  };
}

/**
 * Help text width: the terminal's, else $COLUMNS, else 80. (yargs' own default caps it at 80; the
 * build gives yargs cliui's wrap-ansi line breaker, which keeps words whole — scripts/build.mjs.)
 */
function helpWidth(): number {
  const cols = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS);
  return Number.isInteger(cols) && cols > 0 ? Math.max(40, cols) : 80;
}

/** The yargs definition of the whole command line, `wrap` turning each handler into yargs' callback. */
export function define(argv: string[], wrap: (h: Handler<never>) => (args: unknown) => Promise<void>, handlers: Handlers = HANDLERS): Argv {
  let y = yargs(argv)
    .scriptName(PROGRAM)
    .usage(`$0 <command> [options]\n\n${SUMMARY}`)
    .options(yargsOptions(GLOBAL_OPTIONS))
    .env("ACME_RENEW");
  for (const def of COMMANDS) y = y.command(def.command, def.describe, builder(def), wrap(handlers[def.handler]));
  return (
    y
      // `--get-yargs-completions`, which the completion scripts call: yargs' own answers plus certificate names.
      .completion("completion-words", false, completeWords)
      .demandCommand(1, "name a command")
      .wrap(helpWidth())
      .strict()
      .help()
      .version(VERSION)
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      })
  );
}

/**
 * Parses argv and runs the chosen command. Returns its exit code, or null when yargs handled the
 * invocation itself (--help, --version). `onArgs` sees the global args before the handler runs.
 */
export async function parseAndRun(argv: string[], onArgs: (a: GlobalArgs) => void, handlers: Handlers = HANDLERS): Promise<ExitCode | null> {
  let code: ExitCode | null = null;
  const wrap =
    (h: Handler<never>) =>
    async (args: unknown) => {
      onArgs(args as GlobalArgs);
      code = await h(args as never);
    };
  // Called by a hook: its ACME_RENEW_* variables are the hook's, not options (yargs' .env()).
  forgetHookVars(process.env);
  await define(argv, wrap, handlers).parseAsync();
  return code;
}
