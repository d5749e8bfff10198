/** The solver of the configured challenge; loads that one module only. */
import type { Solver, SolverContext } from "./solver.js";

export async function solverFor(ctx: SolverContext): Promise<Solver> {
  const c = ctx.config.challenge;
  switch (c.type) {
    case "webroot":
      return new (await import("./webroot.js")).WebrootSolver(c.webroot);
    case "listenHTTP":
      return new (await import("./http-listener.js")).HttpListenerSolver(c.host, c.port);
    case "listenTLS":
      return new (await import("./tls-alpn.js")).TlsAlpnSolver(c.host, c.port);
    case "dns01": {
      if (c.hook) {
        const r = c.resolvers[0];
        const resolver = r ? (r.host.includes(":") ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`) : null;
        return new (await import("./dns-hook.js")).DnsHookSolver({ hook: c.hook, resolver, propagationTimeout: c.propagationCheck ? (c.propagationTimeout ?? 120) : 0 }, ctx);
      }
      return new (await import("./dns01.js")).Dns01Solver(c, ctx);
    }
  }
}
