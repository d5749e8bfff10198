/**
 * Shell completion, from yargs: `acme-renew completion [bash|zsh]` prints yargs' script for that
 * shell; the script calls `acme-renew --get-yargs-completions <words>`, answered by yargs from the
 * command definitions, plus the certificate names of the config dir for commands that take them.
 */
import yargs from "yargs";
import { ConfigLoader } from "../config/load.js";
import { COMMANDS, PROGRAM } from "./definitions.js";

const TAKES_NAMES = new Set(COMMANDS.filter((c) => c.selection || c.handler === "delete").map((c) => c.command.split(" ")[0]!));

type Done = (completions: string[]) => void;
type Defaults = (onCompleted?: (err: Error | null, completions: string[] | undefined) => void) => void;

/** yargs' completion function (the fallback form): its own words, then certificate names. */
export function completeWords(current: string, argv: Record<string, unknown>, defaults: Defaults, done: Done): void {
  defaults((err, words) => {
    const out = err ? [] : (words ?? []);
    // The words so far, the program's name first (the scripts pass the whole command line).
    const typed = ((argv._ as unknown[] | undefined) ?? []).map(String);
    const at = typed.findIndex((w) => TAKES_NAMES.has(w));
    if (at >= 0 && !current.startsWith("-")) {
      const zsh = /zsh/.test(process.env.SHELL ?? "") || /zsh/.test(process.env.ZSH_NAME ?? "");
      try {
        const given = new Set(typed.slice(at + 1));
        for (const n of new ConfigLoader(String(argv["config-dir"] ?? "/etc/acme-renew")).listNames()) {
          if (n.startsWith(current) && !given.has(n)) out.push(zsh ? `${n}:certificate` : n);
        }
      } catch {
        /* no readable config dir: no names */
      }
    }
    done(out);
  });
}

/** yargs' completion script for `shell` (default: the one $SHELL names). */
export function completionScript(shell?: string): string {
  const zsh = shell ? shell === "zsh" : /zsh/.test(process.env.SHELL ?? "");
  // yargs picks its template from $SHELL when the instance is made: make one for the shell asked for.
  const saved = process.env.SHELL;
  process.env.SHELL = zsh ? "/bin/zsh" : "/bin/bash";
  let script = "";
  try {
    yargs(["completion"])
      .scriptName(PROGRAM)
      .completion("completion")
      .exitProcess(false)
      .parse(["completion"], {}, (_err, _argv, output) => {
        script = output;
      });
  } finally {
    if (saved === undefined) delete process.env.SHELL;
    else process.env.SHELL = saved;
  }
  return script.endsWith("\n") ? script : `${script}\n`;
}
