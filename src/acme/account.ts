/**
 * ACME accounts: one key per (server, email), generated once and kept under
 * <state-dir>/accounts/<id>/ (0600), with the account URL once known so that later runs skip the lookup.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { generateKeyPair } from "../crypto/keys.js";
import { writeFileAtomic } from "../store/atomic.js";
import { acquireLock } from "../store/lock.js";

export interface AccountFiles {
  dir: string;
  key: string;
  meta: string;
}

export interface AccountMeta {
  server: string;
  email: string | null;
  url: string;
}

export function accountFiles(stateDir: string, server: string, email: string | null): AccountFiles {
  const id = createHash("sha256").update(`${server}\n${email ?? ""}`).digest("hex").slice(0, 16);
  const dir = join(stateDir, "accounts", id);
  return { dir, key: join(dir, "account.key"), meta: join(dir, "account.json") };
}

/** Loads or creates the account key; returns it with the account URL when one is stored. */
export async function loadAccount(f: AccountFiles, server: string, waitMs: number): Promise<{ keyPem: string; url: string | null }> {
  await fs.mkdir(f.dir, { recursive: true, mode: 0o700 });
  let keyPem: string;
  try {
    keyPem = await fs.readFile(f.key, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    const lock = await acquireLock(join(f.dir, ".lock"), waitMs);
    try {
      keyPem = await fs.readFile(f.key, "utf8").catch(async () => {
        const k = (await generateKeyPair("ec256")).pem;
        await writeFileAtomic(f.key, k, 0o600);
        return k;
      });
    } finally {
      await lock.release();
    }
  }
  let url: string | null = null;
  try {
    const meta = JSON.parse(await fs.readFile(f.meta, "utf8")) as Partial<AccountMeta>;
    if (meta.server === server && typeof meta.url === "string") url = meta.url;
  } catch {
    url = null;
  }
  return { keyPem, url };
}

export async function saveAccountUrl(f: AccountFiles, meta: AccountMeta): Promise<void> {
  await writeFileAtomic(f.meta, `${JSON.stringify(meta, null, 2)}\n`, 0o600);
}
