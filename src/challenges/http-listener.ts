/** http-01 with our own short-lived HTTP listener (listenHTTP). */
import { createServer } from "node:http";
import type { ChallengeTask, Solver } from "./solver.js";
import { ListenerRegistry } from "./listeners.js";

const PREFIX = "/.well-known/acme-challenge/";

const registry = new ListenerRegistry<string>(
  (tokens) =>
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
  "listenHTTP",
);

export class HttpListenerSolver implements Solver {
  readonly type = "http-01" as const;
  private readonly lease;
  constructor(host: string, port: number) {
    this.lease = registry.lease(host, port);
  }

  async prepare(t: ChallengeTask): Promise<void> {
    (await this.lease.tasks()).set(t.token, t.keyAuthorization);
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    await this.lease.delete(t.token);
  }

  async close(): Promise<void> {
    await this.lease.release();
  }
}
