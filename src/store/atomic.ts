/** Crash-safe file writes: temp file in the same directory, fsync, rename, fsync the directory. */
import { constants, promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

export async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Writes `data` to a new file (exclusive create) and fsyncs it. */
export async function writeNewFile(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const h = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await h.writeFile(data);
    await h.chmod(mode); // umask must not widen or narrow what we asked for
    await h.sync();
  } finally {
    await h.close();
  }
}

/** `.<name>.<12 hex>.tmp`: the temporary name writeFileAtomic uses next to `<name>`. */
const ATOMIC_TMP = /^\..+\.[0-9a-f]{12}\.tmp$/;

/** A file a killed writeFileAtomic left behind (to be removed under the lock that guards the writes). */
export function isAtomicLeftover(name: string): boolean {
  return ATOMIC_TMP.test(name);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeNewFile(tmp, data, mode);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}

/**
 * Writes `file` only if it does not exist, atomically: a complete temporary file is linked to the
 * name (link() fails with EEXIST rather than replace), so a reader never sees it half-written.
 */
export async function writeFileExclusive(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeNewFile(tmp, data, mode);
    await fs.link(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await fsyncDir(dir);
}
