/** The full command line, defined with yargs. Loaded only when the fast path (fastpath.ts) declines. */
import yargs, { type Argv } from "yargs";
import { jsonSchema } from "../config/schema.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import { checkCommand } from "./commands/check.js";
import { validateCommand } from "./commands/validate.js";
import { UsageError, type GlobalArgs } from "./context.js";

type Handler<A> = (a: A) => ExitCode | Promise<ExitCode>;

export interface Handlers {
  check: Handler<never>;
  run: Handler<never>;
  validate: Handler<never>;
  schema: Handler<never>;
  doctor: Handler<never>;
  status: Handler<never>;
}

const HANDLERS: Handlers = {
  check: checkCommand,
  run: async (a) => (await import("./commands/run.js")).runCommand(a),
  validate: validateCommand,
  doctor: async (a) => (await import("./commands/doctor.js")).doctorCommand(a),
  status: async (a) => (await import("./commands/status.js")).statusCommand(a),
  schema: () => {
    process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
    return EXIT.OK;
  },
};

function selection(y: Argv) {
  return y
    .positional("names", { type: "string", array: true, describe: "certificate names (config file names without .json)" })
    .option("all", { type: "boolean", describe: "every certificate in the config dir" });
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
  await yargs(argv)
    .scriptName("acme-renew")
    .usage("$0 <command> [options]\n\nBoot-safe ACME certificate renewal: looks at the certificate on disk first, talks to the CA only when needed.")
    .option("config-dir", { type: "string", default: "/etc/acme-renew", describe: "directory of <name>.json configs (env ACME_RENEW_CONFIG_DIR)" })
    .option("state-dir", { type: "string", default: "/var/lib/acme-renew", describe: "certificates and state (env ACME_RENEW_STATE_DIR)" })
    .option("log-format", { choices: ["auto", "journal", "json", "text"] as const, default: "auto" as const, describe: "log line format (stderr)" })
    .option("now", { type: "string", hidden: true, describe: "pretend the time is this (tests)" })
    // ACME_RENEW_DEBUG (read by the logger) must not be an "unknown argument" through .env() below.
    .option("debug", { type: "string", hidden: true, describe: "debug-level log lines (or env ACME_RENEW_DEBUG)" })
    .env("ACME_RENEW")
    .command(
      "check [names..]",
      "offline pre-check: is each certificate usable, is it due? (no network)",
      (y) => selection(y).option("json", { type: "boolean", describe: "one JSON object per certificate on stdout" }),
      wrap(handlers.check),
    )
    .command(
      "run [names..]",
      "renew what is due (pre-check first; the CA is contacted only when needed)",
      (y) =>
        selection(y)
          .option("force", { type: "boolean", describe: "renew even when not due" })
          .option("timeout", { type: "number", describe: "overall deadline in seconds (default: the config's timeout)" })
          .option("concurrency", { type: "number", default: 4, describe: "certificates renewed at once with --all" })
          .option("json", { type: "boolean", describe: "one JSON object per certificate on stdout" }),
      wrap(handlers.run),
    )
    .command("validate [names..]", "validate configuration files only", (y) => y.positional("names", { type: "string", array: true }), wrap(handlers.validate))
    .command(
      "status [names..]",
      "offline overview: expiry, decision, next renewal (window or ARI), last attempt and outcome, failures",
      (y) =>
        y
          .positional("names", { type: "string", array: true })
          .option("json", { type: "boolean", describe: "one JSON object per certificate" })
          .option("prometheus", { type: "string", describe: "write a node_exporter textfile (atomically) to this path instead" }),
      wrap(handlers.status),
    )
    .command(
      "doctor [names..]",
      "explain the state of certificates: config, files, permissions, lock, network, clock, disk, CA reachability",
      (y) => y.positional("names", { type: "string", array: true }).option("json", { type: "boolean" }),
      wrap(handlers.doctor),
    )
    .command(
      "schema",
      "print the JSON Schema of the config files",
      {},
      wrap(handlers.schema),
    )
    .demandCommand(1, "name a command")
    .strict()
    .help()
    .version()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .parseAsync();
  return code;
}
