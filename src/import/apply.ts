/**
 * From plans to files: the config each plan would write (checked by the config loader, defaults.json
 * merged), what stands in the way, and — all or nothing — the writing: the certificate adopted as a
 * version through the store's install, then the config created (never over an existing one).
 */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "../config/errors.js";
import { CHALLENGE_FIELDS } from "../config/fields.js";
import type { ConfigLoader } from "../config/load.js";
import type { CertConfig } from "../config/types.js";
import { writeFileExclusive } from "../store/atomic.js";
import { install } from "../store/install.js";
import { acquireLock } from "../store/lock.js";
import { certPaths, PEM_FILES, type CertPaths } from "../store/paths.js";
import type { ImportPlan } from "./plan.js";

export interface Prepared {
  plan: ImportPlan;
  /** <config-dir>/<name>.json */
  file: string;
  /** The file's content, exactly as it is printed and written. */
  content: string;
  config: CertConfig | null;
  /** Needs the config leaves open (neither in it, nor in --set, nor in defaults.json). */
  open: ImportPlan["needs"];
  /** What keeps this one from being written (one line each). */
  problems: string[];
}

/** The cert dir already holds a certificate (or a version of one): import adopts only into an empty one. */
export function holdsCertificate(paths: CertPaths): boolean {
  return existsSync(paths.current) || existsSync(paths.cert) || existsSync(paths.key);
}

export function prepare(plans: ImportPlan[], o: { tool: string; configs: ConfigLoader; stateDir: string; set: Record<string, unknown> }): Prepared[] {
  const defaults = o.configs.defaultsRaw() ?? {};
  return plans.map((plan) => {
    const raw: Record<string, unknown> = { $comment: `imported from ${o.tool} ${plan.source}`, ...plan.config, ...o.set };
    const file = join(o.configs.dir, `${plan.name}.json`);
    const has = (f: string) => f in raw || f in defaults;
    const open = plan.needs.filter((n) => !(n.field === "challenge" ? CHALLENGE_FIELDS.some(has) : has(n.field)));
    const problems: string[] = open.map((n) => `no ${n.field}: ${n.why}; give --set ${n.field === "challenge" ? "webroot=DIR (or listenHTTP=…, …)" : `${n.field}=…`}, or set it in defaults.json`);
    let config: CertConfig | null = null;
    try {
      config = o.configs.fromObject(plan.name, raw);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (!open.some((n) => n.field === "challenge") || !/no challenge configured/.test(e.message)) problems.push(e.message);
    }
    if (existsSync(file)) problems.push(`${file} exists: import never writes over a config (compare it with the one shown, or remove it first)`);
    const paths = certPaths(o.stateDir, plan.name);
    if (plan.cert && holdsCertificate(paths)) problems.push(`${paths.dir} already holds a certificate: import adopts only into an empty directory (acme-renew delete ${plan.name} first)`);
    return { plan, file, content: `${JSON.stringify(raw, null, 2)}\n`, config, open, problems };
  });
}

/** Takes back an adoption whose config could not be written: the directory as it was. */
async function unadopt(paths: CertPaths, created: boolean, version: string | null): Promise<void> {
  if (created) return rm(paths.dir, { recursive: true, force: true });
  for (const f of [...PEM_FILES, "current"]) await rm(join(paths.dir, f), { force: true });
  if (version) await rm(join(paths.versions, version), { recursive: true, force: true });
}

/**
 * Adopts the plan's certificate (if any) as the first version of <state-dir>/<name>/ under the
 * cert's lock, then creates the config. Returns the version id (null: nothing to adopt).
 */
export async function writeOne(p: Prepared, stateDir: string, now: Date, warn: (m: string) => void): Promise<string | null> {
  const config = p.config!;
  const paths = certPaths(stateDir, config.name);
  const created = !existsSync(paths.dir);
  let version: string | null = null;
  if (p.plan.cert) {
    await mkdir(paths.dir, { recursive: true, mode: 0o750 });
    const lock = await acquireLock(paths.lock, 10_000);
    try {
      if (holdsCertificate(paths)) throw new Error(`${paths.dir}: a certificate appeared there meanwhile; not adopting`);
      try {
        version = await install(paths, p.plan.cert.material, { keep: config.keepVersions, group: config.group, now, adopted: true, warn });
        await writeFileExclusive(p.file, p.content, 0o644);
      } catch (e) {
        await unadopt(paths, created, version);
        throw e;
      }
    } finally {
      await lock.release();
    }
  } else await writeFileExclusive(p.file, p.content, 0o644);
  return version;
}
