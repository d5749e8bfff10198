/** The full command line, defined with yargs. Loaded only when the fast path (fastpath.ts) declines. */
import yargs, { type Argv } from "yargs";
import { jsonSchema } from "../config/schema.js";
import { forgetHookVars } from "../hooks/env.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import { VERSION } from "../util/build-info.js";
import { checkCommand } from "./commands/check.js";
import { readyCommand } from "./commands/ready.js";
import { validateCommand } from "./commands/validate.js";
import { UsageError, type GlobalArgs } from "./context.js";

type Handler<A> = (a: A) => ExitCode | Promise<ExitCode>;

export interface Handlers {
  check: Handler<never>;
  ready: Handler<never>;
  run: Handler<never>;
  validate: Handler<never>;
  schema: Handler<never>;
  doctor: Handler<never>;
  status: Handler<never>;
}

const HANDLERS: Handlers = {
  check: checkCommand,
  ready: readyCommand,
  run: async (a) => (await import("./commands/run.js")).runCommand(a),
  validate: validateCommand,
  doctor: async (a) => (await import("./commands/doctor.js")).doctorCommand(a),
  status: async (a) => (await import("./commands/status.js")).statusCommand(a),
  schema: () => {
    process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
    return EXIT.OK;
  },
};

function selection(y: Argv, allByDefault = false) {
  return y
    .positional("names", { type: "string", array: true, describe: "certificate names (config file names without .json)" })
    .option("all", { type: "boolean", describe: allByDefault ? "every certificate in the config dir (also without names)" : "every certificate in the config dir" });
}

/**
 * Help text width: the terminal's, else $COLUMNS, else 80. (yargs' own default caps it at 80; the
 * build gives yargs cliui's wrap-ansi line breaker, which keeps words whole — scripts/build.mjs.)
 */
function helpWidth(): number {
  const cols = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS);
  return Number.isInteger(cols) && cols > 0 ? Math.max(40, cols) : 80;
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
  // Called by a hook: its ACME_RENEW_* variables are the hook's, not options (yargs' .env() below).
  forgetHookVars(process.env);
  await yargs(argv)
    .scriptName("acme-renew")
    .usage("$0 <command> [options]\n\nBoot-safe ACME certificate renewal: looks at the certificate on disk first, talks to the CA only when needed.")
    .option("config-dir", { type: "string", default: "/etc/acme-renew", describe: "directory of <name>.json configs (env ACME_RENEW_CONFIG_DIR)" })
    .option("state-dir", { type: "string", default: "/var/lib/acme-renew", describe: "certificates and state (env ACME_RENEW_STATE_DIR)" })
    .option("log-format", { choices: ["auto", "journal", "json", "text"] as const, default: "auto" as const, describe: "log line format (stderr)" })
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
      "ready [names..]",
      "boot path, offline: exit 0 when a usable certificate is on disk, else write a self-signed placeholder (no network, never waits for the CA)",
      (y) => selection(y),
      wrap(handlers.ready),
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
    .command(
      "validate [names..]",
      "validate configuration files (and that each group exists)",
      (y) =>
        selection(y, true)
          // --no-group-check: where the host's groups are not there (a Nix build sandbox).
          .option("group-check", { type: "boolean", default: true, describe: "resolve each group through NSS (getent); --no-group-check skips it" }),
      wrap(handlers.validate),
    )
    .command(
      "status [names..]",
      "offline overview: expiry, decision, next renewal (window or ARI), last attempt and outcome, failures",
      (y) =>
        selection(y, true)
          .option("json", { type: "boolean", describe: "one JSON object per certificate" })
          .option("prometheus", { type: "string", describe: "write a node_exporter textfile (atomically) to this path instead" }),
      wrap(handlers.status),
    )
    .command(
      "doctor [names..]",
      "explain the state of certificates: config, files, permissions, lock, network, clock, disk, CA reachability",
      (y) => selection(y, true).option("json", { type: "boolean", describe: "the findings as JSON" }),
      wrap(handlers.doctor),
    )
    .command(
      "schema",
      "print the JSON Schema of the config files",
      {},
      wrap(handlers.schema),
    )
    .demandCommand(1, "name a command")
    .wrap(helpWidth())
    .strict()
    .help()
    .version(VERSION)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .parseAsync();
  return code;
}
