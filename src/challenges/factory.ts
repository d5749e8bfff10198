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
    case "dns01":
      // Every DNS provider, dnsHook included (it is the exec provider).
      return new (await import("./dns01.js")).Dns01Solver(c, ctx);
  }
}
