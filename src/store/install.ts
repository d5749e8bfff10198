/**
 * Installs a new key + certificate so that a reader, or a crash at any instant (kill -9 included),
 * sees the complete old set or the complete new set, never a mix and never a missing file:
 *
 *   <dir>/versions/<id>/{cert,chain,fullchain,key,full}.pem   complete sets, written then renamed in
 *   <dir>/current -> versions/<id>                            swapped with one rename
 *   <dir>/cert.pem -> current/cert.pem, …                     stable paths for services
 *
 * The previous versions are kept (keepVersions).
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { X509Certificate, createPrivateKey, randomBytes } from "node:crypto";
import { fsyncDir, isAtomicLeftover, writeNewFile } from "./atomic.js";
import { PEM_FILES, type CertPaths, type PemFile } from "./paths.js";
import { gidOf } from "./group.js";
import { PROOF_FILE, pairProof } from "./pair-proof.js";
import { writeFactsRecord } from "./facts-record.js";

export interface Material {
  keyPem: string;
  certPem: string;
  /** Issuer certificates, PEM, may be several. */
  chainPem: string;
}

export interface InstallOptions {
  keep: number;
  group: string | null;
  now: Date;
  /** Told about problems after the new version is in place (they do not fail the install). */
  warn?: (message: string) => void;
  /** Another client's certificate taken over as it is (`import`): the version is named `<id>-adopted`. */
  adopted?: boolean;
}

const nl = (s: string) => (s === "" || s.endsWith("\n") ? s : `${s}\n`);

function contents(m: Material): Record<PemFile, string> {
  const cert = nl(m.certPem);
  const chain = nl(m.chainPem);
  const key = nl(m.keyPem);
  return { "cert.pem": cert, "chain.pem": chain, "fullchain.pem": cert + chain, "key.pem": key, "full.pem": key + cert + chain };
}

const SECRET_FILES: ReadonlySet<PemFile> = new Set(["key.pem", "full.pem"]);

async function lstatOrNull(p: string) {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Suffix of a version acme-renew did not obtain itself but took over (plain files, or `import`). */
const ADOPTED = "-adopted";

function versionId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
}

/**
 * Writes a complete version directory under a temporary name, then renames it into place. With a
 * `proof` (a verified pair), also the facts record for the pre-check, after the files' last change.
 */
async function writeVersion(paths: CertPaths, files: Partial<Record<PemFile, string>>, id: string, gid: number | null, proof: string | null): Promise<string> {
  const tmp = join(paths.versions, `.tmp-${id}`);
  await fs.mkdir(tmp, { mode: 0o750 });
  for (const [name, data] of Object.entries(files) as Array<[PemFile, string]>) {
    const file = join(tmp, name);
    const secret = SECRET_FILES.has(name);
    await writeNewFile(file, data, secret ? (gid !== null ? 0o640 : 0o600) : 0o644);
    if (gid !== null) await fs.chown(file, -1, gid);
  }
  if (proof !== null) {
    await writeNewFile(join(tmp, PROOF_FILE), proof, 0o644);
    await writeFactsRecord(tmp, { cert: files["cert.pem"] ?? "", key: files["key.pem"] ?? "", chain: files["chain.pem"] ?? "" });
  }
  if (gid !== null) await fs.chown(tmp, -1, gid);
  await fsyncDir(tmp);
  await fs.rename(tmp, join(paths.versions, id));
  await fsyncDir(paths.versions);
  return id;
}

/** Points `link` at `target` with one rename (atomic replace). */
async function swapSymlink(link: string, target: string): Promise<void> {
  const tmp = `${link}.tmp-${randomBytes(4).toString("hex")}`;
  await fs.symlink(target, tmp);
  try {
    await fs.rename(tmp, link);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Certificates written by something else (lego's /var/lib/acme/<name>/ layout, or by hand) are plain
 * files. Adopt them as a version first, so that replacing them by symlinks never mixes old and new.
 */
async function adoptPlainFiles(paths: CertPaths, now: Date, gid: number | null): Promise<void> {
  if (await lstatOrNull(paths.current)) return;
  const files: Partial<Record<PemFile, string>> = {};
  for (const f of PEM_FILES) {
    const p = join(paths.dir, f);
    const st = await lstatOrNull(p);
    if (st?.isFile()) files[f] = await fs.readFile(p, "utf8");
  }
  if (Object.keys(files).length === 0) return;
  const id = await writeVersion(paths, files, `${versionId(now)}${ADOPTED}`, gid, null);
  await swapSymlink(paths.current, join("versions", id));
  for (const f of Object.keys(files)) await swapSymlink(join(paths.dir, f), join("current", f));
  await fsyncDir(paths.dir);
}

async function ensureStableLinks(paths: CertPaths): Promise<void> {
  for (const f of PEM_FILES) {
    const p = join(paths.dir, f);
    const st = await lstatOrNull(p);
    if (!st?.isSymbolicLink() || (await fs.readlink(p)) !== join("current", f)) await swapSymlink(p, join("current", f));
  }
  await fsyncDir(paths.dir);
}

/** Keeps the newest `keep` complete versions and the current one; removes the rest and leftovers. Call with the lock held. */
export async function prune(paths: CertPaths, keep: number): Promise<string[]> {
  const current = (await lstatOrNull(paths.current)) ? (await fs.readlink(paths.current)).split("/").pop() : undefined;
  const entries = (await fs.readdir(paths.versions)).sort().reverse();
  const complete = entries.filter((e) => !e.startsWith("."));
  const removed: string[] = [];
  const keepSet = new Set(complete.slice(0, keep));
  if (current) keepSet.add(current);
  for (const e of entries) {
    if (keepSet.has(e)) continue;
    await fs.rm(join(paths.versions, e), { recursive: true, force: true });
    removed.push(e);
  }
  // Leftovers of a killed run: temporary symlinks (`<link>.tmp-<hex>`) and atomic-write files
  // (`.<file>.<hex>.tmp`, e.g. state.json). Every writer holds the cert's lock, and so does the caller.
  for (const e of await fs.readdir(paths.dir))
    if (/\.tmp-[0-9a-f]+$/.test(e) || isAtomicLeftover(e)) await fs.rm(join(paths.dir, e), { force: true });
  return removed;
}

export async function ensureCertDir(paths: CertPaths, gid: number | null): Promise<void> {
  await fs.mkdir(paths.versions, { recursive: true, mode: 0o750 });
  await fs.chmod(paths.dir, 0o750);
  if (gid !== null) {
    await fs.chown(paths.dir, -1, gid);
    await fs.chown(paths.versions, -1, gid);
  }
}

/** Installs `m` — a pair the caller has verified — as the new current version. Caller holds the cert's lock. */
export async function install(paths: CertPaths, m: Material, o: InstallOptions): Promise<string> {
  const gid = o.group ? await gidOf(o.group) : null;
  await ensureCertDir(paths, gid);
  await adoptPlainFiles(paths, o.now, gid);
  const files = contents(m);
  // The proof file says "this key belongs to this certificate": make sure it is true.
  if (!new X509Certificate(files["cert.pem"]).checkPrivateKey(createPrivateKey(files["key.pem"]))) {
    throw new Error("refusing to install: the key does not belong to the certificate");
  }
  const id = await writeVersion(paths, files, `${versionId(o.now)}${o.adopted ? ADOPTED : ""}`, gid, pairProof(files["key.pem"], files["cert.pem"]));
  // The stable names exist before `current` moves (dangling on a first install until it does): a crash
  // right after the swap must not leave a certificate that services cannot find by name.
  await ensureStableLinks(paths);
  await swapSymlink(paths.current, join("versions", id));
  // From here on the new pair is installed and served: what follows is housekeeping, and a failure
  // of it must not turn the renewal into a failure (hooks not run, state saying "failed").
  try {
    await fsyncDir(paths.dir);
    await prune(paths, o.keep);
  } catch (e) {
    o.warn?.(`installed ${id}, but tidying ${paths.dir} failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return id;
}
