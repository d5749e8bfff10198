/**
 * Node 22.1+ keeps V8's compiled code of our files between runs (module.enableCompileCache): a
 * timer's pre-check does not compile the program again each time (measured in bench/RESULTS.md).
 * Where: NODE_COMPILE_CACHE when set (Node itself enabled it then), else systemd's CACHE_DIRECTORY
 * (CacheDirectory= in the units), else /var/cache/acme-renew for root, else $XDG_CACHE_HOME or
 * ~/.cache, /acme-renew. NODE_DISABLE_COMPILE_CACHE=1 turns it off. A directory that cannot be made
 * or written costs only the cache: Node reports that in its answer and goes on.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv, euid: number, home: () => string): string | null {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return null;
  const systemd = env.CACHE_DIRECTORY?.split(":")[0];
  if (systemd?.startsWith("/")) return `${systemd}/node-compile-cache`;
  if (euid === 0) return "/var/cache/acme-renew/node-compile-cache";
  let base = env.XDG_CACHE_HOME?.startsWith("/") ? env.XDG_CACHE_HOME : null;
  if (!base) {
    try {
      const h = home();
      if (!h.startsWith("/")) return null;
      base = `${h}/.cache`;
    } catch {
      return null;
    }
  }
  return `${base}/acme-renew/node-compile-cache`;
}

export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  const m = process.getBuiltinModule("node:module") as { enableCompileCache?: (dir: string) => unknown };
  if (typeof m.enableCompileCache !== "function") return; // Node 20
  const dir = compileCacheDir(env, process.geteuid?.() ?? -1, () => process.getBuiltinModule("node:os").homedir());
  if (!dir) return;
  try {
    m.enableCompileCache(dir);
  } catch {
    // Never worth failing a pre-check over.
  }
}
