/** `acme-renew account show [name]` and `acme-renew account deactivate <name> [--yes]`. */
import { createInterface } from "node:readline/promises";
import { asFailure, describe } from "../../acme/errors.js";
import { ConfigError } from "../../config/errors.js";
import type { CertConfig } from "../../config/types.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { accountsOf, askCa, deactivateAccount } from "../../run/account.js";
import { makeContext, UsageError, type Context, type GlobalArgs } from "../context.js";

export interface AccountArgs extends GlobalArgs {
  action: "show" | "deactivate";
  name?: string;
  yes?: boolean;
  json?: boolean;
}

function load(ctx: Context, names: string[]): CertConfig[] {
  const out: CertConfig[] = [];
  for (const n of names) {
    try {
      out.push(ctx.configs.load(n));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (e.message.endsWith("no such file")) throw new UsageError(`account: no certificate "${n}": ${e.message}`);
      throw e;
    }
  }
  return out;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function accountCommand(a: AccountArgs): Promise<ExitCode> {
  const ctx = makeContext(a);
  try {
    if (a.action === "show") return await show(ctx, a);
    return await deactivate(ctx, a);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    ctx.log.error("config-error", e.message);
    return EXIT.CONFIG;
  }
}

async function show(ctx: Context, a: AccountArgs): Promise<ExitCode> {
  const accounts = accountsOf(load(ctx, a.name ? [a.name] : ctx.configs.listNames()), ctx.stateDir);
  for (const e of accounts) await askCa(e, ctx.stateDir, ctx.log);
  if (a.json) {
    process.stdout.write(`${JSON.stringify(accounts.map((e) => e.view), null, 2)}\n`);
  } else {
    for (const { view: v } of accounts) {
      const lines = [
        `server: ${v.server}`,
        `email: ${v.email ?? "(none)"}`,
        `certificates: ${v.certificates.join(", ")}`,
        `account: ${v.key ? (v.url ?? "(key, URL not known)") : "none yet (registered by the first order, with acceptTerms)"}`,
        ...(v.key ? [`status: ${v.status ?? "(the CA did not say)"}`, `contact: ${v.contact?.length ? v.contact.join(", ") : "(none)"}`] : []),
        `directory: ${v.dir}`,
        ...(v.error ? [`error: ${v.error}`] : []),
      ];
      process.stdout.write(`${lines.join("\n")}\n\n`);
    }
  }
  return accounts.some((e) => e.view.error) ? EXIT.FAILURE : EXIT.OK;
}

async function deactivate(ctx: Context, a: AccountArgs): Promise<ExitCode> {
  if (!a.name) throw new UsageError("account deactivate: name the certificate whose account (server and email) to deactivate");
  const [c] = load(ctx, [a.name]);
  const shared = accountsOf(load(ctx, ctx.configs.listNames()), ctx.stateDir).find((e) => e.config.server === c!.server && e.config.email === c!.email)?.view.certificates ?? [c!.name];
  const what = `the ACME account of ${c!.email ?? "(no email)"} at ${c!.server} (used by ${shared.join(", ")})`;
  if (!a.yes) {
    if (!process.stdin.isTTY || !process.stderr.isTTY) throw new UsageError(`account deactivate: would deactivate ${what}; not on a terminal to ask: give --yes`);
    if (!(await confirm(`Deactivate ${what}? The CA cannot undo this. [y/N] `))) {
      ctx.log.notice("account", "not deactivated");
      return EXIT.FAILURE;
    }
  }
  try {
    const r = await deactivateAccount(c!, ctx.stateDir, ctx.log, ctx.now());
    ctx.log.notice("account-deactivated", `deactivated ${r.url} (${what}); its key is kept in ${r.movedTo}; the next order registers a new account (acceptTerms)`);
    return EXIT.OK;
  } catch (e) {
    const f = asFailure(e);
    ctx.log.error("account", `not deactivated (${f.cls}): ${describe(f)}`);
    return f.cls === "config" ? EXIT.CONFIG : EXIT.FAILURE;
  }
}
