/**
 * A certificate the CA issued, kept on disk before anything that can fail locally (group lookup,
 * chown, install, prune) runs: <dir>/pending.json, 0600, fsynced, with the key, the certificate,
 * the chain and what it was ordered with. A later run installs it without a new order while it is
 * still good; the install that succeeds removes it.
 */
import { constants, promises as fs, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import type { Material } from "./install.js";
import type { CertPaths } from "./paths.js";
import { fsyncDir } from "./atomic.js";
import { readTextOrNull } from "../util/read.js";

export interface Pending {
  material: Material;
  server: string;
  profile: string | null;
  /** The names ordered (lower-case). */
  names: string[];
  /** When the CA issued it. */
  at: Date;
}

const VERSION = 1;

/**
 * Writes `p` atomically (temp file, rename). An fsync that fails is reported, not fatal: the file
 * is kept, since a copy that might not survive a power cut beats none. Resolves to such warnings.
 */
export async function savePending(paths: CertPaths, p: Pending): Promise<string[]> {
  const warnings: string[] = [];
  const data = `${JSON.stringify({ version: VERSION, ...p.material, server: p.server, profile: p.profile, names: p.names, at: p.at.toISOString() })}\n`;
  const tmp = join(dirname(paths.pending), `.${basename(paths.pending)}.${randomBytes(6).toString("hex")}.tmp`);
  const h = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await h.writeFile(data);
    await h.chmod(0o600);
    await h.sync().catch((e) => warnings.push(`fsync ${tmp}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
  } catch (e) {
    await h.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await h.close();
  try {
    await fs.rename(tmp, paths.pending);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(paths.dir).catch((e) => warnings.push(`fsync ${paths.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
  return warnings;
}

export interface PendingRead {
  pending: Pending | null;
  /** The file exists but cannot be used (the caller logs it; the file is left for a person to see). */
  problem: string | null;
}

const str = (v: unknown): v is string => typeof v === "string";

export function readPending(paths: CertPaths): PendingRead {
  let text: string | null;
  try {
    // Usually absent: a stat that answers "no such file" without throwing spares an Error with a
    // stack per certificate (check --all). EACCES and the like still throw.
    text = statSync(paths.pending, { throwIfNoEntry: false }) === undefined ? null : readTextOrNull(paths.pending);
  } catch (e) {
    return { pending: null, problem: `cannot read ${paths.pending} (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  }
  if (text === null) return { pending: null, problem: null };
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const at = new Date(String(o.at));
    if (!o || o.version !== VERSION || !str(o.keyPem) || !str(o.certPem) || !str(o.chainPem) || !str(o.server) || !(o.profile === null || str(o.profile)) || !Array.isArray(o.names) || !o.names.every(str) || Number.isNaN(at.getTime())) {
      throw new Error("not a pending certificate written by this version");
    }
    return { pending: { material: { keyPem: o.keyPem, certPem: o.certPem, chainPem: o.chainPem }, server: o.server, profile: o.profile as string | null, names: o.names as string[], at }, problem: null };
  } catch (e) {
    return { pending: null, problem: `${paths.pending} is unusable (${(e as Error).message})` };
  }
}

export async function removePending(paths: CertPaths): Promise<void> {
  await fs.rm(paths.pending, { force: true });
}
