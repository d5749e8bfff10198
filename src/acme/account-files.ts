/**
 * Where an ACME account lives: <state-dir>/accounts/<id>/ per (server, email), the key (0600) and
 * the account URL once known. node:fs and a hash only: `validate` reads it without the network stage.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

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

export function urlFrom(text: string, server: string): string | null {
  try {
    const meta = JSON.parse(text) as Partial<AccountMeta>;
    return meta.server === server && typeof meta.url === "string" && meta.url ? meta.url : null;
  } catch {
    return null;
  }
}

/** The stored account URL for `server`, or null (no file, unreadable, another server). */
export function storedAccountUrl(f: AccountFiles, server: string): string | null {
  try {
    return urlFrom(readFileSync(f.meta, "utf8"), server);
  } catch {
    return null;
  }
}
