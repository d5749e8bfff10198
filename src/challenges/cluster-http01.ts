/**
 * http-01 in cluster mode: the configured solver (webroot or listenHTTP) as before, plus the key
 * authorization published in etcd, so that `serve-http01` on every host can answer the CA.
 * A failure to publish is logged, not fatal: the local solver may still be the one the CA reaches.
 */
import type { ClusterConfig } from "../config/types.js";
import type { Logger } from "../report/log.js";
import type { ChallengeTask, Solver } from "./solver.js";

export class ClusterHttp01Solver implements Solver {
  readonly type = "http-01" as const;
  private backend: Promise<import("../cluster/open.js").EtcdBackend> | null = null;

  constructor(private readonly inner: Solver, private readonly cluster: ClusterConfig, private readonly log: Logger) {}

  private etcd() {
    this.backend ??= import("../cluster/open.js").then((m) => m.openEtcd({ etcd: this.cluster.etcd, prefix: this.cluster.prefix, opTimeoutMs: 6_000 }));
    return this.backend;
  }

  async prepare(t: ChallengeTask): Promise<void> {
    await this.inner.prepare(t);
    try {
      const { publishKeyAuthorization } = await import("../cluster/http01.js");
      await publishKeyAuthorization(await this.etcd(), t.token, t.keyAuthorization);
    } catch (e) {
      this.log.warn("http01-publish", `cannot publish the http-01 answer for ${t.identifier} in etcd (${(e as Error).message}); only this host can answer the CA`);
    }
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    await this.inner.cleanup(t);
    try {
      const { removeKeyAuthorization } = await import("../cluster/http01.js");
      await removeKeyAuthorization(await this.etcd(), t.token);
    } catch {
      /* a leftover answer is harmless: its token is never used again */
    }
  }

  async close(): Promise<void> {
    await this.inner.close();
    if (this.backend) await (await this.backend.catch(() => null))?.close();
  }
}
