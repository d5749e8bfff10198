/** `acme-renew run <name…> | --all`: renew what is due, `--concurrency` certificates at a time. */
import { ConfigError } from "../../config/errors.js";
import { checkHttpsUrl } from "../../config/names.js";
import type { CertConfig } from "../../config/types.js";
import { EXIT, worst, type ExitCode } from "../../report/exit.js";
import { isTerminal, writeOut } from "../../report/stdio.js";
import type { Item } from "../../run/fanout-jobs.js";
import type { RunResult } from "../../run/result.js";
import { FANOUT_MIN } from "../../run/fanout-limits.js";
import { runOne } from "../../run/run-one.js";
import { makeContext, selectNames, UsageError, type GlobalArgs } from "../context.js";
import { createNotifier, type Notifier } from "../../systemd/notify.js";

export interface RunArgs extends GlobalArgs {
  names?: string[];
  all?: boolean;
  json?: boolean;
  force?: boolean;
  timeout?: number;
  concurrency?: number;
  dryRun?: boolean;
  server?: string;
}

/** Runs `work` over `items` with at most `limit` at once, in order of start. */
async function pool<T, R>(items: T[], limit: number, work: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}

/** A person's terminal: stderr a TTY, text logs, and not under systemd (which sets INVOCATION_ID for every unit). */
function onTerminal(logFormat: string, env: NodeJS.ProcessEnv): boolean {
  return isTerminal(2) && logFormat === "text" && !env.INVOCATION_ID && !env.JOURNAL_STREAM && !env.NOTIFY_SOCKET;
}

export async function runCommand(a: RunArgs): Promise<ExitCode> {
  const ctx = makeContext(a);
  const concurrency = a.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError("--concurrency must be a whole number from 1 to 64");
  if (a.timeout !== undefined && !(a.timeout >= 1 && a.timeout <= 86400)) throw new UsageError("--timeout must be between 1 and 86400 seconds");
  if (a.server !== undefined && !a.dryRun) throw new UsageError("--server is for --dry-run only (the config's server is where run orders)");
  const badServer = a.server !== undefined ? checkHttpsUrl(a.server) : null;
  if (badServer) throw new UsageError(`--server ${a.server}: ${badServer}`);
  if (a.dryRun && a.force) throw new UsageError("--dry-run orders whether or not a certificate is due: --force adds nothing");
  const results: RunResult[] = [];
  const configs: CertConfig[] = [];
  /** Dry runs: the staging server of each certificate. */
  const staging = new Map<string, string>();
  const names = selectNames(ctx, a.names, a.all);
  // Many certificates: the offline part (most are not due) on every core; the rest goes on here.
  // (--force and --dry-run order for every certificate: nothing to settle offline.)
  const settled = new Map<string, RunResult>();
  const fanoutConfigErrors = new Set<string>();
  let toLoad = names;
  if (!a.dryRun && !a.force && names.length >= FANOUT_MIN && !onTerminal(ctx.log.format, process.env)) {
    const { fanout, emitLogs } = await import("../../run/fanout.js");
    const { items, byWorkers, error } = await fanout(names, { job: "run", configDir: ctx.configs.dir, stateDir: ctx.stateDir, logFormat: ctx.log.format, now: ctx.now().getTime() });
    ctx.log.debug("fanout", `${names.length} certificates, ${byWorkers} chunk(s) by worker threads`);
    const isConfigError = (i: Item) => (i.out as RunResult | null)?.outcome === "config-error";
    // As one thread logs them: the config errors (found while loading) first.
    emitLogs(items.filter(isConfigError), ctx.log);
    emitLogs(items.filter((i) => !isConfigError(i)), ctx.log);
    if (error !== undefined) throw error; // the job catches what it can; not expected
    for (const [i, item] of items.entries()) if (item.out) settled.set(names[i]!, item.out as RunResult);
    for (const [i, item] of items.entries()) if (isConfigError(item)) fanoutConfigErrors.add(names[i]!);
    results.push(...[...settled.values()].filter((r) => fanoutConfigErrors.has(r.name)));
    toLoad = names.filter((n) => !settled.has(n));
  }
  for (const name of toLoad) {
    try {
      const c = ctx.configs.load(name);
      if (a.dryRun) {
        const server = a.server ?? c.stagingServer;
        if (!server) throw new ConfigError(c.file, "stagingServer", `not set, and server (${c.server}) is not Let's Encrypt production, whose staging server is the default: set "stagingServer" for --dry-run, or give --server URL`);
        staging.set(name, server);
      }
      configs.push(c);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.log.error("config-error", e.message, { cert: name });
      results.push({ name, outcome: "config-error", code: EXIT.CONFIG, message: e.message });
    }
  }
  const systemd = createNotifier(process.env, { debug: (m) => ctx.log.debug("sd-notify", m) });
  // On a person's terminal, several certificates: a status line (loaded only then).
  const progress = configs.length > 1 && onTerminal(ctx.log.format, process.env) ? new (await import("../../report/progress.js")).Progress(process.stderr, configs.length) : null;
  if (progress) ctx.log.redirect(progress.write);
  // The stages renewals report to systemd (STATUS=) feed the status line too.
  const notify: Notifier = progress ? { ...systemd, status: (t) => (progress.status(t), systemd.status(t)) } : systemd;
  // Fanned out: the certificates checked are all those with a config, not only those going on here.
  const checking = settled.size ? names.length - fanoutConfigErrors.size : configs.length;
  if (checking) void notify.status(checking === 1 && configs.length === 1 ? `${configs[0]!.name}: checking` : `checking ${checking} certificates`);
  const opts = { stateDir: ctx.stateDir, log: ctx.log, now: ctx.now, force: !!a.force, notify, ...(a.timeout !== undefined ? { timeout: a.timeout } : {}) };
  const ran = await pool(configs, concurrency, async (c) => {
    progress?.start(c.name);
    let r: RunResult;
    try {
      r = a.dryRun ? await (await import("../../run/dry-run.js")).dryRun(c, staging.get(c.name)!, opts) : await runOne(c, opts);
    } catch (e) {
      // One certificate's unexpected failure must not stop the others.
      ctx.log.error("internal-error", `${c.name}: ${(e as Error)?.stack ?? String(e)}`, { cert: c.name });
      r = { name: c.name, outcome: "failure" as const, code: EXIT.FAILURE, message: String(e) };
    }
    progress?.finish(c.name, r.outcome);
    return r;
  });
  // Config errors first, then every other certificate in name order, as a single thread has them.
  if (settled.size) {
    for (const r of ran) settled.set(r.name, r);
    // (A config error met while renewing — an unknown group, say — is a result in its place.)
    results.push(...names.flatMap((n) => { const r = settled.get(n); return r && !fanoutConfigErrors.has(n) ? [r] : []; }));
  } else results.push(...ran);
  if (progress) process.stderr.write(`${progress.end()}\n`);
  const code = worst(results.map((r) => r.code));
  if (systemd.enabled) await systemd.send({ STATUS: statusLine(results), EXIT_STATUS: String(code) });
  if (a.json) {
    const rows = results.map((r) => ({ name: r.name, outcome: r.outcome, exitCode: r.code, message: r.message, notAfter: r.notAfter?.toISOString() ?? null }));
    writeOut(`${JSON.stringify(rows, null, 2)}\n`);
  }
  return code;
}

/** The unit's final STATUS=: one certificate in full, several as counts. */
export function statusLine(results: RunResult[]): string {
  if (results.length === 1) {
    const r = results[0]!;
    const until = r.notAfter ? `, valid until ${r.notAfter.toISOString()}` : "";
    switch (r.outcome) {
      case "renewed":
        return `${r.name}: renewed${until}`;
      case "synced":
        return `${r.name}: synced from the cluster${until}`;
      case "not-due":
        return `${r.name}: not due${until}`;
      case "dry-run":
        return `${r.name}: dry run ok`;
      case "hooks-ok":
        return `${r.name}: owed reload hooks ran${until}`;
      case "hook-failed":
        return `${r.name}: reload hooks failed, cert valid${until}`;
      case "soft-failure":
      case "waiting":
      case "busy":
        if (r.code === 75) return `${r.name}: renewal failed, cert valid${until}`;
        // A configuration the CA cannot work with (terms not accepted): 78, the certificate still serves.
        if (r.outcome === "soft-failure" && r.code === 78) return `${r.name}: renewal failed (configuration), cert valid${until}`;
      // falls through: no usable certificate
      default:
        return `${r.name}: ${r.outcome}, ${r.code === 3 ? "placeholder in place" : "no usable certificate"}`;
    }
  }
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${v} ${k}`).join(", ");
}
