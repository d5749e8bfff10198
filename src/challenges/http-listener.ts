/** http-01 with our own short-lived HTTP listener (listenHTTP). */
import { createServer } from "node:http";
import type { ChallengeTask, Solver } from "./solver.js";
import { ListenerRegistry } from "./listeners.js";

const PREFIX = "/.well-known/acme-challenge/";

const registry = new ListenerRegistry<string>((tokens) =>
  createServer((req, res) => {
    const url = req.url ?? "";
    const answer = url.startsWith(PREFIX) ? tokens.get(url.slice(PREFIX.length)) : undefined;
    if (req.method === "GET" && answer !== undefined) {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": Buffer.byteLength(answer) });
      res.end(answer);
    } else {
      res.writeHead(404).end();
    }
  }),
);

export class HttpListenerSolver implements Solver {
  readonly type = "http-01" as const;
  private tokens: Promise<Map<string, string>> | null = null;
  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async prepare(t: ChallengeTask): Promise<void> {
    // Joined once per solver, also when several authorizations prepare at the same time.
    this.tokens ??= registry.join(this.host, this.port, "listenHTTP");
    (await this.tokens).set(t.token, t.keyAuthorization);
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    (await this.tokens)?.delete(t.token);
  }

  async close(): Promise<void> {
    const joined = this.tokens;
    this.tokens = null;
    if (joined && (await joined.then(() => true, () => false))) await registry.leave(this.host, this.port);
  }
}
