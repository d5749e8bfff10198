/**
 * `acme-renew serve-http01`: answers /.well-known/acme-challenge/<token> from etcd (cluster mode),
 * so that the CA's http-01 request may reach any host behind the load balancer. Socket-activated
 * (systemd/acme-renew-http01.socket: LISTEN_FDS) or on --listen. The cluster settings come from
 * defaults.json, else from the first certificate config that has them.
 */
import { join } from "node:path";
import { ConfigError } from "../../config/errors.js";
import { clusterOf } from "../../config/load.js";
import type { ClusterConfig } from "../../config/types.js";
import { parseHostPort } from "../../config/names.js";
import { EXIT, type ExitCode } from "../../report/exit.js";
import { makeContext, UsageError, type Context, type GlobalArgs } from "../context.js";

function clusterConfig(ctx: Context): ClusterConfig {
  const d = ctx.configs.defaultsRaw();
  const fromDefaults = d ? clusterOf(join(ctx.configs.dir, "defaults.json"), d.cluster as Record<string, unknown> | undefined) : null;
  if (fromDefaults) return fromDefaults;
  for (const name of ctx.configs.listNames()) {
    const c = ctx.configs.load(name);
    if (c.cluster) return c.cluster;
  }
  throw new ConfigError(ctx.configs.dir, "cluster", "no certificate config (or defaults.json) sets cluster: serve-http01 has nothing to serve");
}

export async function serveHttp01Command(a: GlobalArgs & { listen?: string }): Promise<ExitCode> {
  const ctx = makeContext(a);
  const activated = process.env.LISTEN_PID === String(process.pid) && Number(process.env.LISTEN_FDS ?? 0) >= 1;
  const at = a.listen ? parseHostPort(a.listen) : null;
  if (!activated && !at) throw new UsageError(a.listen ? `--listen ${a.listen}: expected "[host]:port", "host:port" or ":port"` : "serve-http01 needs --listen HOST:PORT or a systemd socket (LISTEN_FDS)");
  let cluster: ClusterConfig;
  try {
    cluster = clusterConfig(ctx);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    ctx.log.error("config-error", e.message);
    return EXIT.CONFIG;
  }
  const [{ openEtcd }, { http01Server }] = await Promise.all([import("../../cluster/open.js"), import("../../cluster/http01.js")]);
  let b;
  try {
    b = await openEtcd({ etcd: cluster.etcd, prefix: cluster.prefix, opTimeoutMs: 5_000 });
  } catch (e) {
    ctx.log.error("config-error", (e as Error).message);
    return EXIT.CONFIG;
  }
  const server = http01Server(b, (m) => ctx.log.warn("http01", m));
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    if (activated) server.listen({ fd: 3 }, () => res());
    else server.listen(at!.port, at!.host || undefined, () => res());
  });
  ctx.log.notice("http01-serving", `answering /.well-known/acme-challenge/ from etcd ${cluster.etcd.endpoints.join(", ")} (prefix ${cluster.prefix}) on ${activated ? "the systemd socket" : a.listen}`);
  await new Promise<void>((res) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => res());
  });
  await new Promise<void>((res) => server.close(() => res()));
  await b.close();
  return EXIT.OK;
}
