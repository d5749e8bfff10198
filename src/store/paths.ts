/** Where one certificate's files live under the state dir (same names as NixOS security.acme). */
import { join } from "node:path";
import { joinPrefix } from "../util/path.js";

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

/** The last state dir's joinPrefix() (util/path.ts); a name with a "/", "." or ".." goes through join(). */
let prefixOf = { stateDir: "", prefix: "" };
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function certPaths(stateDir: string, name: string): CertPaths {
  if (prefixOf.stateDir !== stateDir) prefixOf = { stateDir, prefix: joinPrefix(stateDir) };
  const dir = PLAIN_NAME.test(name) ? prefixOf.prefix + name : join(stateDir, name);
  // `dir` is normalised and the names are plain: concatenation is join() without its cost (check --all).
  const at = (f: string) => (dir === "/" ? `/${f}` : `${dir}/${f}`);
  return {
    dir,
    cert: at("cert.pem"),
    chain: at("chain.pem"),
    fullchain: at("fullchain.pem"),
    key: at("key.pem"),
    full: at("full.pem"),
    current: at("current"),
    versions: at("versions"),
    state: at("state.json"),
    lock: at(".lock"),
    pending: at("pending.json"),
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
