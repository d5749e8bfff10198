/**
 * ACME account key and URL: the key generated once per (server, email) under a lock, the account
 * URL stored once known so that later runs skip the lookup (layout: account-files.ts).
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { generateKeyPair } from "../crypto/keys.js";
import { writeFileAtomic } from "../store/atomic.js";
import { acquireLock } from "../store/lock.js";
import { readTextOrNullAsync } from "../util/read.js";
import { urlFrom, type AccountFiles, type AccountMeta } from "./account-files.js";

/** The account key (null when there is none yet) and the stored account URL. */
export async function readAccount(f: AccountFiles, server: string): Promise<{ keyPem: string | null; url: string | null }> {
  const keyPem = await readTextOrNullAsync(f.key);
  const url = keyPem === null ? null : await fs.readFile(f.meta, "utf8").then((t) => urlFrom(t, server), () => null);
  return { keyPem, url };
}

/** Generates the account key, under a lock so that concurrent runs end up with one key. */
export async function createAccountKey(f: AccountFiles, waitMs: number): Promise<string> {
  await fs.mkdir(f.dir, { recursive: true, mode: 0o700 });
  const lock = await acquireLock(join(f.dir, ".lock"), waitMs);
  try {
    return await fs.readFile(f.key, "utf8").catch(async () => {
      const k = (await generateKeyPair("ec256")).pem;
      await writeFileAtomic(f.key, k, 0o600);
      return k;
    });
  } finally {
    await lock.release();
  }
}

export async function saveAccountUrl(f: AccountFiles, meta: AccountMeta): Promise<void> {
  await writeFileAtomic(f.meta, `${JSON.stringify(meta, null, 2)}\n`, 0o600);
}
