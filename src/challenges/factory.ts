/** The solver of the configured challenge; loads that one module only. */
import type { Solver, SolverContext } from "./solver.js";

export async function solverFor(ctx: SolverContext): Promise<Solver> {
  const solver = await configured(ctx);
  // Cluster mode: http-01 answers are also published in etcd for serve-http01 on the other hosts.
  if (ctx.config.cluster && solver.type === "http-01") return new (await import("./cluster-http01.js")).ClusterHttp01Solver(solver, ctx.config.cluster, ctx.log);
  return solver;
}

async function configured(ctx: SolverContext): Promise<Solver> {
  const c = ctx.config.challenge;
  switch (c.type) {
    case "webroot":
      return new (await import("./webroot.js")).WebrootSolver(c.webroot);
    case "listenHTTP":
      return new (await import("./http-listener.js")).HttpListenerSolver(c.host, c.port);
    case "listenTLS":
      return new (await import("./tls-alpn.js")).TlsAlpnSolver(c.host, c.port);
    case "dns01":
      // Every DNS provider, dnsHook included (it is the exec provider).
      return new (await import("./dns01.js")).Dns01Solver(c, ctx);
  }
}
