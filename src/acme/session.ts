/**
 * Our interface to one CA for one renewal, on acme-client 5.4's JWS signing (`client.http.signedRequest`).
 * acme-client's request helpers are not used: each of them fetches a fresh nonce (HEAD newNonce)
 * and keeps its own directory. Here: the directory once per process (shared with ARI), the nonce
 * of every answer reused (nonces.ts), each answer classified on its own (no shared "last error"),
 * and the account looked up at most once per process — and never registered without `acceptTerms`.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { CertConfig } from "../config/types.js";
import type { Logger } from "../report/log.js";
import { accountFiles, type AccountFiles } from "./account-files.js";
import { createAccountKey, readAccount, saveAccountUrl } from "./account.js";
import { caPem, directory, resource, type Directory } from "./directory.js";
import { AcmeFailure, answerFailure, header, isProblem, parseRetryAfter, type Answer } from "./errors.js";
import { noncePool, type NoncePool } from "./nonces.js";
import { DEFAULT_RETRY, retryDelay, withRetries, type RetryPolicy } from "./retry.js";
import { installTransport, trustFor } from "./transport.js";

type AcmeModule = typeof import("acme-client");
type AcmeClient = InstanceType<AcmeModule["Client"]>;

/** The part of acme-client's HttpClient we use: plain requests and JWS-signed POSTs. */
interface HttpClient {
  maxBadNonceRetries: number;
  request(url: string, method: string, opts?: Record<string, unknown>): Promise<Answer>;
  signedRequest(url: string, payload: unknown, o: { kid?: string | null; nonce?: string | null; includeExternalAccountBinding?: boolean }): Promise<Answer>;
}

export interface SessionOptions {
  server: string;
  caBundle: string | null;
  email: string | null;
  eab: { kid: string; hmacKeyFile: string } | null;
  /** The CA's terms of service are accepted (config `acceptTerms`): needed to register an account. */
  acceptTerms: boolean;
  /** The config file, named in the error when registering needs acceptTerms. */
  configFile: string;
  stateDir: string;
  log: Logger;
  signal: AbortSignal;
  requestTimeoutMs: number;
  /** Epoch ms of the overall deadline. */
  deadlineAt: number;
  /** The preflight found no usable network: network failures are not retried. */
  networkDown?: boolean;
  retry?: RetryPolicy;
  /** Polling of pending orders: first wait (when the CA sends no Retry-After), longest wait. */
  pollMinMs?: number;
  pollMaxMs?: number;
}

/** What a certificate's config says about the CA to talk to; the caller adds how long and what for. */
export function sessionFor(c: Pick<CertConfig, "server" | "caBundle" | "email" | "eab" | "file">, o: Omit<SessionOptions, "server" | "caBundle" | "email" | "eab" | "configFile">): SessionOptions {
  return { server: c.server, caBundle: c.caBundle, email: c.email, eab: c.eab, configFile: c.file, ...o };
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, unknown>;
  data: T;
  url: string;
}

export interface PostOptions {
  /** Sign with the account key's JWK instead of the account URL (newAccount). */
  jwk?: boolean;
  /** Add the external account binding (newAccount). */
  eab?: boolean;
}

const BAD_NONCE_RESENDS = 5;

/** No answer came back (refused, reset, timeout): whether the CA acted on the request is unknown. */
export function noAnswer(f: AcmeFailure): boolean {
  return f.extra.status === undefined && (f.cls === "network" || f.cls === "timeout");
}

/** One account lookup per (state dir, server, email, acceptTerms) per process, shared by concurrent certificates. */
const accountLookups = new Map<string, Promise<string>>();

export class AcmeSession {
  private kid: string | null = null;

  private constructor(
    private readonly client: AcmeClient,
    private readonly http: HttpClient,
    readonly directory: Directory,
    private readonly nonces: NoncePool,
    readonly opts: SessionOptions,
  ) {}

  static async open(o: SessionOptions): Promise<AcmeSession> {
    const files = accountFiles(o.stateDir, o.server, o.email);
    const known = await readAccount(files, o.server);
    // Without a key there is certainly no account: registering one needs the terms accepted. Said
    // before any request to the CA.
    if (!known.keyPem && !o.acceptTerms) throw termsNotAccepted(o);
    const { acme, dir } = await connect(o);
    const keyPem = known.keyPem ?? (await createAccountKey(files, 30_000));
    const eab = o.eab ? { kid: o.eab.kid, hmacKey: (await readSecret(o.eab.hmacKeyFile, "eab.hmacKeyFile")).trim() } : undefined;
    const s = AcmeSession.make(acme, o, dir, keyPem, eab);
    if (known.url) {
      s.kid = known.url;
    } else {
      const key = `${files.dir}\n${o.acceptTerms}`;
      let lookup = accountLookups.get(key);
      if (!lookup) {
        lookup = s.findOrRegister(files);
        accountLookups.set(key, lookup);
        lookup.catch(() => accountLookups.delete(key));
      }
      s.kid = await lookup;
    }
    return s;
  }

  /**
   * A session that signs with `keyPem` as an embedded JWK and has no account: a revocation
   * authorized by the certificate's own key (RFC 8555 §7.6). Nothing is registered or stored.
   */
  static async withKey(o: SessionOptions, keyPem: string): Promise<AcmeSession> {
    const { acme, dir } = await connect(o);
    return AcmeSession.make(acme, o, dir, keyPem, undefined);
  }

  /** The account URL this session signs with (null: it signs with an embedded JWK). */
  get accountUrl(): string | null {
    return this.kid;
  }

  private static make(acme: AcmeModule, o: SessionOptions, dir: Directory, keyPem: string, eab: { kid: string; hmacKey: string } | undefined): AcmeSession {
    const client = new acme.Client({ directoryUrl: o.server, accountKey: keyPem, ...(eab ? { externalAccountBinding: eab } : {}) });
    const http = (client as unknown as { http: HttpClient }).http;
    http.maxBadNonceRetries = 0; // resent here, with the nonce of the badNonce answer (send())
    return new AcmeSession(client, http, dir, noncePool(o.server), o);
  }

  /**
   * One newAccount request: with the terms accepted it registers or, for a known key, returns the
   * existing account (RFC 8555 §7.3.1: 200 and its URL); without, it only looks the key up.
   */
  private async findOrRegister(files: AccountFiles): Promise<string> {
    const o = this.opts;
    const url = resource(this.directory, o.server, "newAccount");
    let r: Reply;
    try {
      const payload = o.acceptTerms ? { termsOfServiceAgreed: true, ...(o.email ? { contact: [`mailto:${o.email}`] } : {}) } : { onlyReturnExisting: true };
      r = await this.post("account", url, payload, { jwk: true, eab: o.acceptTerms && !!o.eab });
    } catch (e) {
      if (e instanceof AcmeFailure && !o.acceptTerms && isProblem(e, "accountDoesNotExist")) throw termsNotAccepted(o, this.directory);
      throw e;
    }
    const location = header(r.headers, "location");
    if (!location) throw new AcmeFailure("acme", "account: the CA sent no account URL (Location)");
    if (r.status === 201) o.log.notice("account", "registered a new ACME account (terms of service accepted: acceptTerms)", { server: o.server });
    else o.log.info("account", "found the existing account for this key", { server: o.server });
    await saveAccountUrl(files, { server: o.server, email: o.email, url: location }).catch((e) =>
      o.log.warn("account", `cannot store the account URL in ${files.meta} (${(e as Error).message}); the next run looks it up again`),
    );
    return location;
  }

  /** The key authorization of a challenge (RFC 8555 §8.1; the digest for dns-01). */
  keyAuthorization(challenge: { type: string; token: string }): Promise<string> {
    return this.client.getChallengeKeyAuthorization(challenge as never);
  }

  /**
   * One signed POST, sent once (badNonce aside: the CA refused it unread, it goes again with the
   * fresh nonce). Error answers come out as AcmeFailure classified from this answer alone.
   */
  async send<T = Record<string, unknown>>(what: string, url: string, payload: unknown, o: PostOptions = {}): Promise<Reply<T>> {
    try {
      for (let resend = 0; ; resend++) {
        const nonce = this.nonces.take() ?? (await this.freshNonce());
        const a = await this.http.signedRequest(url, payload, { kid: o.jwk ? null : this.kid, nonce, includeExternalAccountBinding: !!o.eab });
        this.nonces.put(header(a.headers, "replay-nonce"));
        if (a.status < 400) return { status: a.status, headers: a.headers, data: a.data as T, url };
        const f = answerFailure(what, url, a);
        if (f.cls !== "badNonce" || resend >= BAD_NONCE_RESENDS) throw f;
      }
    } catch (e) {
      const f = this.classify(what, e);
      // Transport failures are named by method and URL; say which call it was.
      throw f.extra.status === undefined && !f.message.startsWith(`${what}:`) ? new AcmeFailure(f.cls, `${what}: ${f.message}`, f.extra) : f;
    }
  }

  /** send(), with in-run retries of transient failures: only for requests that may be repeated. */
  post<T = Record<string, unknown>>(what: string, url: string, payload: unknown, o: PostOptions & { final?: (f: AcmeFailure) => boolean } = {}): Promise<Reply<T>> {
    return this.retrying(async () => {
      try {
        return await this.send<T>(what, url, payload, o);
      } catch (e) {
        const f = e as AcmeFailure;
        if (o.final?.(f)) f.extra.final = true;
        throw f;
      }
    });
  }

  /** POST-as-GET (RFC 8555 §6.3), retried: reading never changes anything on the CA. */
  get<T = Record<string, unknown>>(what: string, url: string): Promise<Reply<T>> {
    return this.post<T>(what, url, null);
  }

  /** Runs `fn` with the in-run retry policy (transient failures, Retry-After, deadline). */
  retrying<T>(fn: () => Promise<T>): Promise<T> {
    const o = this.opts;
    return withRetries(fn, { policy: o.retry ?? DEFAULT_RETRY, deadlineAt: o.deadlineAt, networkDown: !!o.networkDown }, o.signal, (f, attempt, delay) =>
      o.log.warn("retry", `${f.message} (${f.cls}); retry ${attempt} in ${(delay / 1000).toFixed(1)}s`, { class: f.cls }),
    );
  }

  /**
   * Reads `url` until `done` says so, waiting before each read what the CA's last Retry-After asks
   * (capped), else `firstMs` (default pollMinMs) doubling up to pollMaxMs; a timeout failure when
   * the deadline comes first. Waiting first: an immediate read mostly finds the CA still at work.
   */
  async poll<T>(what: string, url: string, done: (d: T) => boolean, previous?: Reply<unknown>, firstMs?: number): Promise<Reply<T>> {
    const o = this.opts;
    const max = o.pollMaxMs ?? 10_000;
    const cap = (o.retry ?? DEFAULT_RETRY).maxRetryAfterMs;
    let wait = firstMs ?? o.pollMinMs ?? 1000;
    let last: Reply<unknown> | undefined = previous;
    for (;;) {
      const ra = last ? parseRetryAfter(header(last.headers, "retry-after"), new Date()) : undefined;
      const delay = ra ? Math.min(cap, Math.max(0, ra.getTime() - Date.now())) : wait;
      if (Date.now() + delay >= o.deadlineAt) throw new AcmeFailure("timeout", `${what}: the CA did not finish before the deadline`);
      await sleep(delay, undefined, { signal: o.signal }).catch(() => {});
      if (o.signal.aborted) throw new AcmeFailure("timeout", `${what}: deadline reached`);
      const r = await this.get<T>(what, url);
      if (done(r.data)) return r;
      last = r;
      wait = Math.min(max, wait * 2);
    }
  }

  /**
   * Before re-reading what the CA made of a request whose outcome is unknown: a transient failure's
   * backoff delay, nothing for a definite answer. False when the deadline or attempts forbid it.
   */
  async pause(f: AcmeFailure, attempt: number): Promise<boolean> {
    const o = this.opts;
    const c = { policy: o.retry ?? DEFAULT_RETRY, deadlineAt: o.deadlineAt, networkDown: !!o.networkDown };
    const delay = f.transient ? retryDelay(f, attempt, c, Date.now(), Math.random()) : attempt + 1 < c.policy.maxAttempts && Date.now() < c.deadlineAt ? 0 : null;
    if (delay === null) return false;
    if (delay > 0) o.log.warn("retry", `${f.message} (${f.cls}); retry ${attempt + 1} in ${(delay / 1000).toFixed(1)}s, after reading what the CA made of it`, { class: f.cls });
    await sleep(delay, undefined, { signal: o.signal }).catch(() => {});
    return !o.signal.aborted;
  }

  private async freshNonce(): Promise<string> {
    const url = resource(this.directory, this.opts.server, "newNonce");
    const a = await this.http.request(url, "head");
    if (a.status >= 400) throw answerFailure("newNonce", url, a);
    const n = header(a.headers, "replay-nonce");
    if (!n) throw new AcmeFailure("acme", `newNonce: the CA sent no Replay-Nonce (HTTP ${a.status})`);
    return n;
  }

  classify(what: string, e: unknown): AcmeFailure {
    if (e instanceof AcmeFailure) return e;
    if (this.opts.signal.aborted) return new AcmeFailure("timeout", `${what}: deadline reached`, { cause: e });
    return new AcmeFailure("acme", `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/** acme-client, our transport and trust for this CA, and its directory (retried). */
async function connect(o: SessionOptions): Promise<{ acme: AcmeModule; dir: Directory }> {
  const acme = ((await import("acme-client")) as unknown as { default: AcmeModule }).default;
  installTransport(acme.axios as never, o.requestTimeoutMs);
  const access = { server: o.server, caBundle: o.caBundle, signal: o.signal };
  trustFor(new URL(o.server).origin, await caPem(access));
  const dir = await withRetries(() => directory(access, { retryOnce: false }), { policy: o.retry ?? DEFAULT_RETRY, deadlineAt: o.deadlineAt, networkDown: !!o.networkDown }, o.signal, (f, n, d) =>
    o.log.warn("retry", `${f.message} (${f.cls}); retry ${n} in ${(d / 1000).toFixed(1)}s`, { class: f.cls }),
  );
  return { acme, dir };
}

async function readSecret(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    throw new AcmeFailure("local", `${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

function termsNotAccepted(o: SessionOptions, d?: Directory): AcmeFailure {
  const tos = typeof d?.meta?.termsOfService === "string" ? ` (${d.meta.termsOfService})` : "";
  return new AcmeFailure(
    "config",
    `acceptTerms: not set: registering an ACME account with ${o.server} means accepting its terms of service${tos}; set "acceptTerms": true in ${o.configFile} or in defaults.json`,
  );
}
