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
  private tokens: Map<string, string> | null = null;
  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async prepare(t: ChallengeTask): Promise<void> {
    this.tokens ??= await registry.join(this.host, this.port, "listenHTTP");
    this.tokens.set(t.token, t.keyAuthorization);
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    this.tokens?.delete(t.token);
  }

  async close(): Promise<void> {
    if (!this.tokens) return;
    this.tokens = null;
    await registry.leave(this.host, this.port);
  }
}
