/** Where one certificate's files live under the state dir (same names as NixOS security.acme). */
import { join } from "node:path";

export const PEM_FILES = ["cert.pem", "chain.pem", "fullchain.pem", "key.pem", "full.pem"] as const;
export type PemFile = (typeof PEM_FILES)[number];

export interface CertPaths {
  dir: string;
  cert: string;
  chain: string;
  fullchain: string;
  key: string;
  full: string;
  /** Symlink to the current version directory. */
  current: string;
  versions: string;
  state: string;
  lock: string;
  /** A certificate the CA issued that is not installed yet (see pending.ts). */
  pending: string;
}

export function certPaths(stateDir: string, name: string): CertPaths {
  const dir = join(stateDir, name);
  return {
    dir,
    cert: join(dir, "cert.pem"),
    chain: join(dir, "chain.pem"),
    fullchain: join(dir, "fullchain.pem"),
    key: join(dir, "key.pem"),
    full: join(dir, "full.pem"),
    current: join(dir, "current"),
    versions: join(dir, "versions"),
    state: join(dir, "state.json"),
    lock: join(dir, ".lock"),
    pending: join(dir, "pending.json"),
  };
}

/** The directory holding the current set (resolved once, so reads are consistent), or the cert dir itself. */
export function currentBase(paths: CertPaths, realpath: (p: string) => string): string {
  try {
    return realpath(paths.current);
  } catch {
    return paths.dir;
  }
}
