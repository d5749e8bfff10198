/**
 * Removes one certificate's directory without ever leaving half of it: under the cert's lock, one
 * rename moves the whole directory aside (`.deleted-<name>-<hex>`, a name no certificate can have),
 * so that from that instant the certificate is gone as a whole; then the copy aside is removed. A
 * removal that was interrupted leaves only such a directory, which the next delete of the name removes.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fsyncDir } from "./atomic.js";
import { acquireLock } from "./lock.js";
import type { CertPaths } from "./paths.js";

export class DeleteIncomplete extends Error {
  constructor(
    readonly aside: string,
    cause: unknown,
  ) {
    super(`the certificate is deleted, but removing ${aside} failed: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
}

const asidePrefix = (paths: CertPaths) => `.deleted-${basename(paths.dir)}-`;

/** Directories an interrupted delete of this certificate left aside. */
export async function leftovers(paths: CertPaths): Promise<string[]> {
  const parent = dirname(paths.dir);
  const prefix = asidePrefix(paths);
  return (await fs.readdir(parent).catch(() => [] as string[])).filter((e) => e.startsWith(prefix)).map((e) => join(parent, e));
}

export async function removeLeftovers(paths: CertPaths): Promise<void> {
  for (const d of await leftovers(paths)) {
    try {
      await fs.rm(d, { recursive: true, force: true });
    } catch (e) {
      throw new DeleteIncomplete(d, e);
    }
  }
}

export async function removeCertDir(paths: CertPaths, waitMs = 5_000): Promise<void> {
  const parent = dirname(paths.dir);
  const prefix = asidePrefix(paths);
  const aside = join(parent, `${prefix}${randomBytes(4).toString("hex")}`);
  const lock = await acquireLock(paths.lock, waitMs);
  try {
    await fs.rename(paths.dir, aside);
    await fsyncDir(parent);
  } finally {
    // The lock file moved with the directory: releasing it leaves the new path alone.
    await lock.release();
  }
  await removeLeftovers(paths);
}
