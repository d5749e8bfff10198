/**
 * Configures the axios instance inside acme-client so that failures keep their cause:
 * - transport errors (refused, reset, DNS, TLS, timeout) leave the adapter as AcmeFailure, before
 *   acme-client's interceptor would turn them into "Cannot read properties of undefined (reading 'config')";
 * - TLS trust: per CA origin, the system trust store plus the configured caBundle; verification stays on;
 * - requests are counted and aborted (overall deadline) per operation context (AsyncLocalStorage);
 * - a per-request timeout, and acme-client's own retry loop is turned off (we retry, see retry.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Agent } from "node:https";
import { createRequire } from "node:module";
import { AcmeFailure, classifyTransport } from "./errors.js";
import { trustContext } from "./trust.js";

/**
 * One renewal's context. It holds no error state: each call classifies its own answer (concurrent
 * calls would overwrite a shared "last error").
 */
export interface OpContext {
  /** Counts requests made in this context (for tests and logs). */
  requests: number;
  /** Aborts every request of this context (overall deadline). */
  signal?: AbortSignal;
}

export const opContext = new AsyncLocalStorage<OpContext>();

interface AxiosLike {
  defaults: Record<string, unknown> & { acmeSettings: { retryMaxAttempts: number }; timeout?: number; adapter?: unknown };
  interceptors: {
    request: { use(f: (c: Record<string, unknown>) => Record<string, unknown>): void };
  };
}
const agents = new Map<string, { caPem: string | null; agent: Agent }>();

/**
 * Trust `caPem` (in addition to the system store) for TLS connections to `origin`. One keep-alive
 * agent per origin, shared by every certificate of the process while the bundle stays the same.
 */
export function trustFor(origin: string, caPem: string | null): void {
  if (agents.get(origin)?.caPem === caPem) return;
  agents.set(origin, { caPem, agent: new Agent({ keepAlive: true, secureContext: trustContext(caPem) }) });
}

let installed = false;

export function installTransport(instance: AxiosLike, perRequestTimeoutMs: number): void {
  instance.defaults.timeout = perRequestTimeoutMs;
  if (installed) return;
  installed = true;
  const req = createRequire(import.meta.url);
  const acmePath = req.resolve("acme-client");
  const axios = createRequire(acmePath)("axios") as { getAdapter(name: string): (c: unknown) => Promise<unknown> };
  const http = axios.getAdapter("http");
  instance.defaults.acmeSettings.retryMaxAttempts = 0;
  instance.defaults.adapter = async (config: Record<string, unknown>) => {
    const ctx = opContext.getStore();
    if (ctx) ctx.requests++;
    try {
      return await http(config);
    } catch (e) {
      if ((e as { response?: unknown }).response) throw e;
      // Thrown without a `config` property, so acme-client's interceptor passes it through untouched.
      const f = classifyTransport(e);
      throw new AcmeFailure(f.cls, `${String(config.method ?? "").toUpperCase()} ${String(config.url)}: ${f.message}`, { ...f.extra, url: String(config.url) });
    }
  };
  instance.interceptors.request.use((config) => {
    const url = String(config.url ?? "");
    let origin = "";
    try {
      origin = new URL(url).origin;
    } catch {
      /* acme-client always passes absolute URLs */
    }
    const agent = agents.get(origin)?.agent;
    if (agent) config.httpsAgent = agent;
    const signal = opContext.getStore()?.signal;
    if (signal) config.signal = signal;
    return config;
  });
}
