/**
 * Node 22.1+ keeps V8's compiled code of our files between runs (module.enableCompileCache): a
 * timer's pre-check does not compile the program again each time (measured in bench/RESULTS.md).
 * Only in the directory systemd made for the unit (CACHE_DIRECTORY, from CacheDirectory=), and only
 * while it is ours alone: compiled code is run unverified, so a cache another user can write would
 * be theirs to run as us. Runs outside a unit (root at a shell, the service user with its home in
 * the state directory) get none. NODE_COMPILE_CACHE (Node's own) and NODE_DISABLE_COMPILE_CACHE
 * still apply; a cache that cannot be written costs only the cache.
 */
import type { Stats } from "node:fs";

type StatOf = (path: string) => Pick<Stats, "uid" | "mode" | "isDirectory"> | undefined;

export function compileCacheDir(env: NodeJS.ProcessEnv, euid: number, statOf: StatOf): string | null {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return null;
  const dir = env.CACHE_DIRECTORY?.split(":")[0];
  if (!dir?.startsWith("/")) return null;
  let st;
  try {
    st = statOf(dir);
  } catch {
    return null;
  }
  if (!st?.isDirectory() || st.uid !== euid || (st.mode & 0o022) !== 0) return null;
  return `${dir}/node-compile-cache`;
}

export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  const m = process.getBuiltinModule("node:module") as { enableCompileCache?: (dir: string) => unknown };
  if (typeof m.enableCompileCache !== "function") return; // Node 20
  const fs = process.getBuiltinModule("node:fs");
  const dir = compileCacheDir(env, process.geteuid?.() ?? -1, (p) => fs.statSync(p, { throwIfNoEntry: false }));
  if (!dir) return;
  try {
    m.enableCompileCache(dir);
  } catch {
    // Never worth failing a pre-check over.
  }
}
