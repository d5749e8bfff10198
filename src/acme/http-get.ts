/**
 * Plain unauthenticated GETs to the CA (directory, ARI renewalInfo): no account, no nonce, a short
 * timeout, the same TLS trust as the ACME session (system store + caBundle), classified failures.
 */
import { request, type RequestOptions } from "node:https";
import type { ConnectionOptions } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import { AcmeFailure, classifyProblem, classifyTransport, parseRetryAfter, type Problem } from "./errors.js";
import { opContext } from "./transport.js";
import { trustContext } from "./trust.js";

export interface GetResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

export interface GetOptions {
  caPem: string | null;
  timeoutMs: number;
  signal?: AbortSignal;
}

export function getJson(url: string, o: GetOptions): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    let secureContext;
    try {
      secureContext = trustContext(o.caPem);
    } catch (e) {
      reject(e);
      return;
    }
    const ctx = opContext.getStore();
    if (ctx) ctx.requests++;
    const options: RequestOptions & ConnectionOptions = { method: "GET", timeout: o.timeoutMs, headers: { accept: "application/json", "user-agent": "acme-renew" }, secureContext, ...(o.signal ? { signal: o.signal } : {}) };
    const req = request(url, options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        let json: unknown = null;
        try {
          json = body ? JSON.parse(body) : null;
        } catch {
          json = null;
        }
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          const problem = json && typeof json === "object" ? (json as Problem) : undefined;
          const retryAfter = parseRetryAfter(res.headers["retry-after"], new Date());
          reject(new AcmeFailure(classifyProblem(status, problem), `GET ${url}: ${problem?.detail ?? `HTTP ${status}`} (HTTP ${status})`, { ...(problem ? { problem } : {}), ...(retryAfter ? { retryAfter } : {}), status, url }));
          return;
        }
        resolve({ status, headers: res.headers, json });
      });
      res.on("error", (e) => reject(classifyTransport(e)));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { code: "ETIMEDOUT" })));
    req.on("error", (e) => {
      if (o.signal?.aborted) {
        reject(new AcmeFailure("timeout", `GET ${url}: deadline reached`, { cause: e, url }));
        return;
      }
      const f = classifyTransport(e);
      reject(new AcmeFailure(f.cls, `GET ${url}: ${f.message}`, { ...f.extra, url }));
    });
    req.end();
  });
}

/** getJson with one retry of a transient failure. */
export async function getJsonRetryOnce(url: string, o: GetOptions): Promise<GetResult> {
  try {
    return await getJson(url, o);
  } catch (e) {
    if (!(e instanceof AcmeFailure) || !e.transient || o.signal?.aborted) throw e;
    // The pause ends with the caller's signal too: a bounded caller (ARI refresh) is not held past it.
    await sleep(500 + Math.random() * 500, undefined, o.signal ? { signal: o.signal } : {}).catch(() => {});
    if (o.signal?.aborted) throw e;
    return getJson(url, o);
  }
}
