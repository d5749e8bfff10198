/**
 * Configures the axios instance inside acme-client so that failures keep their cause:
 * - transport errors (refused, reset, DNS, TLS, timeout) leave the adapter as AcmeFailure, before
 *   acme-client's interceptor would turn them into "Cannot read properties of undefined (reading 'config')";
 * - every error response's status, problem document and Retry-After are recorded in the current
 *   operation's context (AsyncLocalStorage), because acme-client throws a bare Error for them;
 * - TLS trust: per CA origin, the system roots plus the configured caBundle; verification stays on;
 * - a per-request timeout, and acme-client's own retry loop is turned off (we retry, see retry.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Agent } from "node:https";
import { createRequire } from "node:module";
import { AcmeFailure, classifyTransport, type Problem } from "./errors.js";
import { trustContext } from "./trust.js";

export interface ErrorResponse {
  status: number;
  url: string;
  problem?: Problem;
  retryAfter?: string;
}

export interface OpContext {
  last: ErrorResponse | null;
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
    response: { use(ok: (r: AxiosResponse) => AxiosResponse, fail?: (e: unknown) => unknown): void };
  };
}
interface AxiosResponse {
  status: number;
  headers: Record<string, string | undefined>;
  data: unknown;
  config: { url?: string };
}

const agents = new Map<string, { caPem: string | null; agent: Agent }>();

/**
 * Trust `caPem` (in addition to the system roots) for TLS connections to `origin`. One keep-alive
 * agent per origin, shared by every certificate of the process while the bundle stays the same.
 */
export function trustFor(origin: string, caPem: string | null): void {
  if (agents.get(origin)?.caPem === caPem) return;
  const secureContext = trustContext(caPem);
  agents.set(origin, { caPem, agent: new Agent({ keepAlive: true, ...(secureContext ? { secureContext } : {}) }) });
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
  instance.interceptors.response.use((r) => {
    const ctx = opContext.getStore();
    if (ctx && r.status >= 400) {
      const data = r.data as Problem | undefined;
      ctx.last = {
        status: r.status,
        url: String(r.config?.url ?? ""),
        ...(data && typeof data === "object" && "type" in data ? { problem: data } : {}),
        ...(r.headers["retry-after"] ? { retryAfter: r.headers["retry-after"] } : {}),
      };
    }
    return r;
  });
}
