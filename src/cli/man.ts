/** acme-renew(1) in roff (man(7) macros), rendered from the command definitions that --help is built from. */
import type { PositionalOptions } from "yargs";
import { COMMANDS, ENVIRONMENT, EXIT_STATUS, FILES, GLOBAL_OPTIONS, PROGRAM, SUMMARY, type CommandDef, type OptionDef } from "./definitions.js";

/** Text safe in roff: backslashes escaped, hyphens as \-, other than ASCII as \[uXXXX], no line starting with a control character. */
function esc(s: string): string {
  return s
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/[^\x00-\x7f]/g, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`)
    .split("\n")
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join("\n");
}

/** The argument an option takes, as the synopsis shows it. */
function argName(o: OptionDef | PositionalOptions): string {
  if (o.choices) return `{${(o.choices as string[]).join("|")}}`;
  if (o.type === "boolean") return "";
  const a = ("arg" in o && o.arg) || String(o.type ?? "value").toUpperCase();
  return o.array ? `${a}...` : a;
}

function optionLine(name: string, o: OptionDef | PositionalOptions, positional = false): string[] {
  const type = argName(o);
  const head = positional ? `\\fI${esc(name)}\\fR` : `\\fB\\-\\-${esc(name)}\\fR${type ? ` \\fI${esc(type)}\\fR` : ""}`;
  const dflt = o.default !== undefined && o.default !== false && !(Array.isArray(o.default) && !o.default.length) ? ` (default: ${esc(String(o.default))})` : "";
  return [".TP", head, `${esc(String(o.describe ?? ""))}${dflt}`];
}

function synopsis(def: CommandDef): string {
  const [name, ...pos] = def.command.split(" ");
  const arg = (p: string) => {
    const key = p.slice(1, -1).replace(/\.\.$/, "");
    const choices = def.positionals?.[key]?.choices as string[] | undefined;
    return choices ? `{${choices.map((c) => `\\fB${esc(c)}\\fR`).join("|")}}` : `\\fI${esc(key)}\\fR${p.endsWith("..]") ? "..." : ""}`;
  };
  const args = pos.map((p) => (p.startsWith("<") ? arg(p) : `[${arg(p)}]`));
  if (def.selection === "required") args.splice(0, args.length, "{\\fIname\\fR... | \\fB\\-\\-all\\fR}");
  if (def.selection === "all-by-default") args.splice(0, args.length, "[\\fIname\\fR... | \\fB\\-\\-all\\fR]");
  const opts = Object.entries(def.options ?? {})
    .filter(([, o]) => !o.hidden)
    .map(([k, o]) => `[\\fB\\-\\-${esc(k)}\\fR${argName(o) ? ` \\fI${esc(argName(o))}\\fR` : ""}]`);
  return [`\\fB${PROGRAM} ${esc(name!)}\\fR`, ...args, ...opts].join(" ");
}

export function manPage(version: string): string {
  const out: string[] = [
    `.TH ACME\\-RENEW 1 "" "${PROGRAM} ${esc(version)}" "User Commands"`,
    ".SH NAME",
    `${PROGRAM} \\- ${esc(SUMMARY.replace(/\.$/, "").replace(/^./, (c) => c.toLowerCase()))}`,
    ".SH SYNOPSIS",
    ...COMMANDS.flatMap((c) => [".br", synopsis(c)]).slice(1),
    ".SH DESCRIPTION",
    esc("acme-renew looks at the certificate on disk before it talks to the CA. When the certificate is valid and not due, run exits 0 at once, without the network. When a renewal is due but fails, it exits 75 and the certificate that is still valid stays in place. The boot step, acme-renew ready, is offline only and writes a self-signed placeholder when there is no usable certificate, so that services always start."),
    ".SH COMMANDS",
  ];
  for (const c of COMMANDS) {
    out.push(".SS", synopsis(c), ".PP", esc(c.describe.replace(/^./, (x) => x.toUpperCase())) + ".");
    for (const d of c.details ?? []) out.push(".PP", esc(d));
    const pos: Array<[string, PositionalOptions]> = [...(c.selection ? ([["name", { describe: "certificate names (config file names without .json)" }]] as Array<[string, PositionalOptions]>) : []), ...Object.entries(c.positionals ?? {})];
    if (c.selection) out.push(".PP", esc(c.selection === "required" ? "Give certificate names or --all." : "Without names: every certificate (as with --all)."));
    for (const [k, p] of pos) out.push(...optionLine(k, p, true));
    if (c.selection) out.push(...optionLine("all", { type: "boolean", describe: "every certificate in the config dir" }));
    for (const [k, o] of Object.entries(c.options ?? {})) if (!o.hidden) out.push(...optionLine(k, o));
    for (const [cmd, what] of c.examples ?? []) out.push(".PP", esc(`${what}:`), ".RS", ".EX", esc(cmd), ".EE", ".RE");
  }
  out.push(".SH OPTIONS", esc("These apply to every command."));
  for (const [k, o] of Object.entries(GLOBAL_OPTIONS)) if (!o.hidden) out.push(...optionLine(k, o));
  out.push(".TP", "\\fB\\-\\-help\\fR", "Show help (also after a command).", ".TP", "\\fB\\-\\-version\\fR", "Show the version.");
  out.push(".SH EXIT STATUS", esc("With several certificates the worst outcome wins: 78 > 64 > 1 > 3 > 75 > 0."));
  for (const [code, what] of EXIT_STATUS) out.push(".TP", `\\fB${code}\\fR`, esc(what));
  out.push(".SH ENVIRONMENT");
  for (const [name, what] of ENVIRONMENT) out.push(".TP", `\\fB${esc(name)}\\fR`, esc(what));
  out.push(".SH FILES");
  for (const [path, what] of FILES) out.push(".TP", `\\fI${esc(path)}\\fR`, esc(what));
  out.push(".SH SEE ALSO", "\\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1), \\fBsystemd.timer\\fR(5); README.md and systemd/README.md of the package.");
  return `${out.join("\n")}\n`;
}
