/**
 * Short-lived listeners shared by all certificates of one process: with `run --all`, several
 * certificates may use the same address at once. A listener opens with the first task on its
 * address and closes when the last solver using it has let go.
 */
import type { Server } from "node:net";
import { AcmeFailure } from "../acme/errors.js";

interface Shared<T> {
  server: Server;
  tasks: Map<string, T>;
  users: number;
  ready: Promise<void>;
}

export class ListenerRegistry<T> {
  private readonly open = new Map<string, Shared<T>>();

  constructor(
    private readonly make: (tasks: Map<string, T>) => Server,
    private readonly what: string,
  ) {}

  /** Joins (or opens) the listener on host:port; returns its task table. */
  async join(host: string, port: number): Promise<Map<string, T>> {
    const key = `${host}|${port}`;
    let s = this.open.get(key);
    if (!s) {
      const tasks = new Map<string, T>();
      const server = this.make(tasks);
      const ready = new Promise<void>((res, rej) => {
        server.once("error", (e: NodeJS.ErrnoException) =>
          rej(new AcmeFailure("local", `${this.what}: cannot listen on ${host || "*"}:${port} (${e.code ?? e.message})`, { cause: e })),
        );
        server.listen({ port, ...(host ? { host } : {}) }, () => res());
      });
      s = { server, tasks, users: 0, ready };
      this.open.set(key, s);
      ready.catch(() => this.open.delete(key));
    }
    s.users++;
    try {
      await s.ready;
    } catch (e) {
      s.users--;
      throw e;
    }
    return s.tasks;
  }

  async leave(host: string, port: number): Promise<void> {
    const key = `${host}|${port}`;
    const s = this.open.get(key);
    if (!s) return;
    if (--s.users > 0) return;
    this.open.delete(key);
    await new Promise<void>((res) => {
      s.server.close(() => res());
      (s.server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  }

  /** One solver's hold on a listener: joined once (also when several tasks prepare at once), left once. */
  lease(host: string, port: number): Lease<T> {
    return new Lease(this, host, port);
  }
}

export class Lease<T> {
  private joined: Promise<Map<string, T>> | null = null;

  constructor(
    private readonly registry: ListenerRegistry<T>,
    private readonly host: string,
    private readonly port: number,
  ) {}

  tasks(): Promise<Map<string, T>> {
    this.joined ??= this.registry.join(this.host, this.port);
    return this.joined;
  }

  async delete(key: string): Promise<void> {
    (await this.joined?.catch(() => null))?.delete(key);
  }

  async release(): Promise<void> {
    const joined = this.joined;
    this.joined = null;
    if (joined && (await joined.then(() => true, () => false))) await this.registry.leave(this.host, this.port);
  }
}
