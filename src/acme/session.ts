/**
 * Our small interface to acme-client 5.4 (its manual order flow): an account on one CA, and calls
 * whose failures come out as AcmeFailure with a class, the CA's problem document and Retry-After.
 */
import { readFile } from "node:fs/promises";
import type { Logger } from "../report/log.js";
import { accountFiles, loadAccount, saveAccountUrl } from "./account.js";
import { AcmeFailure, classifyProblem, parseRetryAfter } from "./errors.js";
import { installTransport, opContext, trustFor } from "./transport.js";
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from "./retry.js";

type AcmeModule = typeof import("acme-client");
export type AcmeClient = InstanceType<AcmeModule["Client"]>;
export type Order = Awaited<ReturnType<AcmeClient["createOrder"]>>;
export type Authorization = Awaited<ReturnType<AcmeClient["getAuthorizations"]>>[number];
export type Challenge = Authorization["challenges"][number];

export interface SessionOptions {
  server: string;
  caBundle: string | null;
  email: string | null;
  eab: { kid: string; hmacKeyFile: string } | null;
  stateDir: string;
  log: Logger;
  signal: AbortSignal;
  requestTimeoutMs: number;
  /** Epoch ms of the overall deadline. */
  deadlineAt: number;
  /** The preflight found no usable network: network failures are not retried. */
  networkDown?: boolean;
  retry?: RetryPolicy;
  /** Polling of pending orders and challenges. */
  pollMinMs?: number;
  pollMaxMs?: number;
  pollAttempts?: number;
}

/**
 * acme-client polls pending orders and challenges on its own schedule and sleeps between polls:
 * the overall deadline must end the call itself, not wait for the next request to notice. A call
 * is not started once the deadline has passed (its failure would come back with nobody listening
 * and crash the process); one that the deadline abandons keeps a listener until it settles.
 */
function untilAborted<T>(start: () => Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const p = start();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

async function readOrFail(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    throw new AcmeFailure("local", `${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export class AcmeSession {
  private constructor(
    readonly client: AcmeClient,
    readonly opts: SessionOptions,
  ) {}

  static async open(o: SessionOptions): Promise<AcmeSession> {
    const acme = ((await import("acme-client")) as unknown as { default: AcmeModule }).default;
    installTransport(acme.axios as never, o.requestTimeoutMs);
    trustFor(new URL(o.server).origin, o.caBundle ? await readOrFail(o.caBundle, "caBundle") : null);
    const files = accountFiles(o.stateDir, o.server, o.email);
    const { keyPem, url } = await loadAccount(files, o.server, 30_000);
    const eab = o.eab ? { kid: o.eab.kid, hmacKey: (await readOrFail(o.eab.hmacKeyFile, "eab.hmacKeyFile")).trim() } : undefined;
    const client = new acme.Client({
      directoryUrl: o.server,
      accountKey: keyPem,
      ...(url ? { accountUrl: url } : {}),
      ...(eab ? { externalAccountBinding: eab } : {}),
      backoffAttempts: o.pollAttempts ?? 12,
      backoffMin: o.pollMinMs ?? 500,
      backoffMax: o.pollMaxMs ?? 10_000,
    });
    const s = new AcmeSession(client, o);
    if (!url) {
      await s.call("account", async (c) => {
        try {
          await c.createAccount({ onlyReturnExisting: true });
          o.log.info("account", "found the existing account for this key", { server: o.server });
        } catch (e) {
          const last = opContext.getStore()?.last;
          if (!last?.problem?.type?.endsWith(":accountDoesNotExist")) throw e;
          await c.createAccount({ termsOfServiceAgreed: true, ...(o.email ? { contact: [`mailto:${o.email}`] } : {}) });
          o.log.notice("account", "registered a new ACME account (terms of service accepted)", { server: o.server });
        }
      });
      await saveAccountUrl(files, { server: o.server, email: o.email, url: client.getAccountUrl() });
    }
    return s;
  }

  /**
   * Runs one acme-client call, retrying transient failures; any failure comes out classified.
   * `final(f)` true: that failure is not retried (the caller has a better move than the same request).
   */
  async call<T>(what: string, fn: (c: AcmeClient) => Promise<T>, final?: (f: AcmeFailure) => boolean): Promise<T> {
    const once = async () => {
      const ctx = opContext.getStore();
      if (ctx) ctx.last = null;
      try {
        return await untilAborted(() => fn(this.client), this.opts.signal);
      } catch (e) {
        const f = this.classify(what, e);
        if (final?.(f)) f.extra.final = true;
        throw f;
      }
    };
    const o = this.opts;
    return withRetries(once, { policy: o.retry ?? DEFAULT_RETRY, deadlineAt: o.deadlineAt, networkDown: !!o.networkDown }, o.signal, (f, attempt, delay) =>
      o.log.warn("retry", `${f.message} (${f.cls}); retry ${attempt} in ${(delay / 1000).toFixed(1)}s`, { class: f.cls }),
    );
  }

  classify(what: string, e: unknown): AcmeFailure {
    if (e instanceof AcmeFailure) return e;
    if (this.opts.signal.aborted) return new AcmeFailure("timeout", `${what}: deadline reached`, { cause: e });
    const last = opContext.getStore()?.last;
    const msg = (e as Error)?.message ?? String(e);
    if (last) {
      const cls = classifyProblem(last.status, last.problem);
      const retryAfter = parseRetryAfter(last.retryAfter, new Date());
      return new AcmeFailure(cls, `${what}: ${last.problem?.detail ?? msg} (HTTP ${last.status})`, {
        ...(last.problem ? { problem: last.problem } : {}),
        ...(retryAfter ? { retryAfter } : {}),
        status: last.status,
        url: last.url,
        cause: e,
      });
    }
    if (/pending or processing/.test(msg)) return new AcmeFailure("timeout", `${what}: the CA did not finish in time (${msg})`, { cause: e });
    return new AcmeFailure("acme", `${what}: ${msg}`, { cause: e });
  }
}
