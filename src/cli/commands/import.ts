/** `acme-renew import certbot|lego|acme.sh|nixos [DIR] [--write]`: take over another client's certificates without re-issuing them. */
import { resolve } from "node:path";
import { FIELDS } from "../../config/fields.js";
import { acmesh } from "../../import/acmesh.js";
import { prepare, writeOne, type Prepared } from "../../import/apply.js";
import { certbot } from "../../import/certbot.js";
import { certSummary } from "../../import/common.js";
import { lego } from "../../import/lego.js";
import { nixos } from "../../import/nixos.js";
import { ImportError, type Importer } from "../../import/plan.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { precheck } from "../../run/precheck.js";
import { makeContext, UsageError, type GlobalArgs } from "../context.js";

export const IMPORTERS: Record<string, Importer> = { certbot, lego, "acme.sh": acmesh, nixos };

export interface ImportArgs extends GlobalArgs {
  tool: string;
  dir?: string;
  write?: boolean;
  set?: string[];
  only?: string[];
}

/** --set FIELD=VALUE: a config field and a JSON value (a bare word is a string). */
export function parseSet(items: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    const field = eq > 0 ? item.slice(0, eq) : item;
    if (eq <= 0) throw new UsageError(`--set ${item}: expected FIELD=VALUE`);
    if (!Object.hasOwn(FIELDS, field)) throw new UsageError(`--set ${field}: not a config field (acme-renew schema lists them)`);
    const text = item.slice(eq + 1);
    try {
      out[field] = JSON.parse(text);
    } catch {
      out[field] = text;
    }
  }
  return out;
}

function render(p: Prepared, tool: string): string {
  const lines = [`# ${p.file}  <- ${tool} ${p.plan.source}`];
  lines.push(p.plan.cert ? `#   adopts: ${certSummary(p.plan.cert)}` : "#   adopts: nothing (no certificate to take over)");
  for (const n of p.plan.notes) lines.push(`#   ${n}`);
  for (const n of p.open) lines.push(`#   needs ${n.field}: ${n.why}`);
  // The peer's account (and its agreement to the CA's terms) is not reused: the first renewal registers one.
  if (p.config && !p.config.acceptTerms)
    lines.push(`#   acceptTerms: not set: ${tool}'s account is not reused, and registering acme-renew's own needs "acceptTerms": true (--set acceptTerms=true, or in defaults.json); until then a renewal fails with exit 78`);
  return `${lines.join("\n")}\n${p.content}`;
}

export async function importCommand(a: ImportArgs): Promise<ExitCode> {
  const ctx = makeContext(a);
  const importer = IMPORTERS[a.tool];
  if (!importer) throw new UsageError(`import: unknown tool "${a.tool}" (${Object.keys(IMPORTERS).join(", ")})`);
  const set = parseSet(a.set ?? []);
  const dir = resolve(a.dir ?? importer.defaultDir(process.env));
  let read;
  try {
    read = await importer.read(dir);
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    ctx.log.error("import", e.message);
    return e.code === 64 ? EXIT.USAGE : EXIT.CONFIG;
  }
  let { plans, problems } = read;
  if (a.only?.length) {
    const known = new Set([...plans.map((p) => p.name), ...problems.map((p) => p.name)]);
    const unknown = a.only.filter((n) => !known.has(n));
    if (unknown.length) throw new UsageError(`--only ${unknown.join(", ")}: no such certificate in ${dir} (found: ${[...known].join(", ") || "none"})`);
    plans = plans.filter((p) => a.only!.includes(p.name));
    problems = problems.filter((p) => a.only!.includes(p.name));
  }
  if (!plans.length && !problems.length) {
    ctx.log.error("import", `${dir}: no ${importer.tool} certificates in it`);
    return EXIT.USAGE;
  }
  const prepared = prepare(plans, { tool: importer.tool, configs: ctx.configs, stateDir: ctx.stateDir, set });
  process.stdout.write(prepared.map((p) => render(p, importer.tool)).join("\n"));
  for (const p of problems) ctx.log.error("import", p.message, { cert: p.name });
  for (const p of prepared) for (const m of p.problems) ctx.log.error("import", m, { cert: p.plan.name });
  const blocked = problems.length + prepared.filter((p) => p.problems.length).length;
  if (blocked) {
    const total = plans.length + problems.length;
    if (total > 1) ctx.log.error("import", `${blocked} of ${total} certificates cannot be imported as they are${a.write ? ": nothing written" : ""} (--only NAME picks certificates)`);
    return EXIT.CONFIG;
  }
  if (!a.write) {
    ctx.log.info("import", `${prepared.length} config(s) shown; --write writes them and adopts ${prepared.filter((p) => p.plan.cert).length} certificate(s) into ${ctx.stateDir}`);
    return EXIT.OK;
  }
  const now = ctx.now();
  for (const p of prepared) {
    try {
      const version = await writeOne(p, ctx.stateDir, now, (m) => ctx.log.warn("store", m, { cert: p.plan.name }));
      const check = precheck(p.config!, ctx.stateDir, now, ctx.log);
      ctx.log.notice("imported", `wrote ${p.file}${version ? `, adopted the certificate as version ${version}` : ""}; check: ${check.decision.status}${check.decision.reasons.length ? ` (${check.decision.reasons.join("; ")})` : ""}`, { cert: p.plan.name, status: check.decision.status });
    } catch (e) {
      ctx.log.error("import", `${p.plan.name}: ${(e as NodeJS.ErrnoException).code ?? ""} ${(e as Error).message}; this certificate is left as it was`.replace(/: {2}/, ": "), { cert: p.plan.name });
      return EXIT.FAILURE;
    }
  }
  return EXIT.OK;
}
