/**
 * HTTPS to a DNS provider's API (node:https, the system's trust store through Node): one keep-alive
 * agent per run, a per-request timeout (`<P>_HTTP_TIMEOUT`), transient failures (transport, 429,
 * 5xx) retried with the run's backoff and deadline, everything else classified (errors.ts). URLs
 * appear in messages without their query string, and secret values are redacted from any text an
 * API sends back.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";
import { AcmeFailure, classifyTransport, parseRetryAfter } from "../acme/errors.js";
import { DEFAULT_RETRY, withRetries, type RetryContext } from "../acme/retry.js";
import type { Logger } from "../report/log.js";
import { providerFailure, statusProblem, type ProviderProblem } from "./errors.js";

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** What this request does, for messages ("create TXT record"). */
  what: string;
  /** Statuses that are answers, not errors (e.g. 404 on a lookup). */
  accept?: number[];
  /** The API's error text from a body, for this API (default: JSON message/error/detail, or the text). */
  errorText?: (body: string) => string | undefined;
  /** What an error answer means when the status alone does not say (e.g. Route 53's 400 Throttling). */
  problem?: (res: HttpResponse) => ProviderProblem | undefined;
}

export interface HttpClientOptions {
  provider: string;
  timeoutMs: number;
  signal: AbortSignal;
  retry: RetryContext;
  log: Logger;
  redact: (text: string) => string;
  /** Appended to 401/403 messages, e.g. "check CF_DNS_API_TOKEN". */
  authHint: string;
  /** The API's error text from a body (default: JSON message/error/detail, or the text). */
  errorText?: (body: string) => string | undefined;
  /** A PEM trusted in addition to Node's roots (set by tests that drive a provider in-process). */
  extraCa?: string;
}

const MAX_BODY = 1 << 20;

/** `https://host/path` of a URL: no query string (duckdns and others put tokens there). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(bad URL)";
  }
}

function defaultErrorText(body: string): string | undefined {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const pick = (v: unknown): string | undefined => {
      if (typeof v === "string") return v;
      if (Array.isArray(v)) return v.map(pick).filter(Boolean).join("; ") || undefined;
      if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        return pick(o.message ?? o.detail ?? o.error ?? o.errors ?? o.title);
      }
      return undefined;
    };
    return pick(j.message ?? j.detail ?? j.error ?? j.errors ?? j.title ?? j.msg);
  } catch {
    const t = body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    return t || undefined;
  }
}

export class HttpClient {
  private readonly https: HttpsAgent;
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 4 });

  constructor(readonly o: HttpClientOptions) {
    this.https = new HttpsAgent({ keepAlive: true, maxSockets: 4, ...(o.extraCa ? { ca: [...rootCertificates, o.extraCa] } : {}) });
  }

  close(): void {
    this.https.destroy();
    this.http.destroy();
  }

  private once(method: string, url: string, r: RequestOptions): Promise<HttpResponse> {
    const u = new URL(url);
    const secure = u.protocol === "https:";
    const left = this.o.retry.deadlineAt - Date.now();
    const timeout = Math.max(1000, Math.min(this.o.timeoutMs, left));
    return new Promise((resolve, reject) => {
      const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, "utf8");
      const headers: Record<string, string> = { "user-agent": "acme-renew", accept: "application/json", ...r.headers };
      if (body) headers["content-length"] = String(body.length);
      const req = (secure ? httpsRequest : httpRequest)(u, { method, headers, agent: secure ? this.https : this.http, timeout, signal: this.o.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (d: Buffer) => {
          size += d.length;
          if (size <= MAX_BODY) chunks.push(d);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => reject(this.transport(method, url, r, e)));
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${timeout} ms`), { code: "ETIMEDOUT" })));
      req.on("error", (e) => reject(this.transport(method, url, r, e)));
      req.end(body);
    });
  }

  private transport(method: string, url: string, r: RequestOptions, e: unknown): AcmeFailure {
    if (this.o.signal.aborted) return providerFailure(this.o.provider, "timeout", `${r.what} (${method} ${safeUrl(url)}): deadline reached`);
    const f = classifyTransport(e);
    return new AcmeFailure(f.cls, `dns provider ${this.o.provider}: ${r.what} (${method} ${safeUrl(url)}): ${this.o.redact(f.message)}`);
  }

  /** One request, retried while transient; a status ≥ 400 (not in `accept`) is a classified failure. */
  async request(method: string, url: string, r: RequestOptions): Promise<HttpResponse> {
    const attempt = async () => {
      const res = await this.once(method, url, r);
      if (res.status < 400 || r.accept?.includes(res.status)) return res;
      throw this.statusFailure(method, url, r, res);
    };
    const policy = { ...DEFAULT_RETRY, ...this.o.retry.policy };
    return withRetries(attempt, { ...this.o.retry, policy }, this.o.signal, (f, n, delay) =>
      this.o.log.warn("dns-retry", `${f.message}; retry ${n} in ${(delay / 1000).toFixed(1)}s`, { class: f.cls }),
    );
  }

  private statusFailure(method: string, url: string, r: RequestOptions, res: HttpResponse): AcmeFailure {
    const problem = r.problem?.(res) ?? statusProblem(res.status);
    const said = (r.errorText ?? this.o.errorText ?? defaultErrorText)(res.body);
    const text = said ? `: ${this.o.redact(said).slice(0, 300)}` : "";
    const hint = problem === "auth" || problem === "forbidden" ? ` (${this.o.authHint})` : "";
    const retryAfter = parseRetryAfter(res.headers["retry-after"] as string | undefined, new Date());
    // 429: the rate limit's Retry-After decides the next attempt; it is retried like a 5xx.
    const f = providerFailure(this.o.provider, problem, `${r.what} (${method} ${safeUrl(url)}): HTTP ${res.status}${text}${hint}`, { status: res.status, ...(retryAfter ? { retryAfter } : {}) });
    return f;
  }

  /** A request whose answer must be JSON; anything else is a `dns` failure ("bad-answer"). */
  async json<T = unknown>(method: string, url: string, r: RequestOptions): Promise<{ status: number; data: T; headers: IncomingHttpHeaders }> {
    const res = await this.request(method, url, r);
    try {
      return { status: res.status, data: JSON.parse(res.body) as T, headers: res.headers };
    } catch {
      throw this.garbage(method, url, r, res.status, "not JSON");
    }
  }

  /** "the answer is not what the API documents" — for a provider's own checks of a parsed answer. */
  garbage(method: string, url: string, r: RequestOptions, status: number, why: string): AcmeFailure {
    return providerFailure(this.o.provider, "bad-answer", `${r.what} (${method} ${safeUrl(url)}): unexpected answer (HTTP ${status}, ${why})`);
  }
}
