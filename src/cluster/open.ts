/**
 * Opens a cluster backend. Loaded only by the network stage: nothing here runs in the offline
 * pre-check, and the etcd client is imported only when etcd is configured.
 */
import type { EtcdFiles } from "./etcd-client.js";
import type { Backend } from "./storage.js";
import { KeyLayout } from "./keys.js";

export interface EtcdSpec {
  etcd: EtcdFiles;
  prefix?: string;
  attemptTimeoutMs?: number;
  opTimeoutMs?: number;
}

export interface EtcdBackend extends Backend {
  readonly layout: KeyLayout;
  readonly storage: import("./etcd-storage.js").EtcdStorage;
  /** HTTP requests sent so far (retries and logins included). */
  requests(): number;
}

export async function openEtcd(spec: EtcdSpec): Promise<EtcdBackend> {
  const [{ EtcdClient, loadConnection }, { EtcdStorage }, { EtcdLocker }] = await Promise.all([import("./etcd-client.js"), import("./etcd-storage.js"), import("./etcd-locker.js")]);
  const layout = new KeyLayout(spec.prefix);
  const conn = loadConnection(spec.etcd);
  const client = new EtcdClient({ ...conn, ...(spec.attemptTimeoutMs ? { attemptTimeoutMs: spec.attemptTimeoutMs } : {}), ...(spec.opTimeoutMs ? { opTimeoutMs: spec.opTimeoutMs } : {}) });
  return {
    name: "etcd",
    layout,
    storage: new EtcdStorage(client),
    locker: new EtcdLocker(client, layout),
    requests: () => client.requests,
    close: async () => client.close(),
  };
}

/** One host: values under `root`, locks = today's per-certificate lock files. */
export async function openFiles(root: string, lockFile: (name: string) => string): Promise<Backend & { layout: KeyLayout }> {
  const [{ FileStorage }, { FileLocker }] = await Promise.all([import("./file-storage.js"), import("./file-locker.js")]);
  const locker = new FileLocker(lockFile);
  return { name: "file", layout: new KeyLayout("/"), storage: new FileStorage(root, locker.fenceHolds), locker, close: async () => {} };
}
