/**
 * One error type for everything that can go wrong talking to a CA, with the class that decides what
 * happens next (retry now, retry in a later run, give up on this order).
 */
import { SECOND } from "../util/time.js";

export type FailureClass =
  | "network"
  | "tls"
  | "timeout"
  | "server"
  | "badNonce"
  | "rateLimited"
  | "unauthorized"
  | "rejectedIdentifier"
  | "caa"
  | "malformed"
  | "acme"
  | "challenge"
  /** The DNS provider refused (credentials, permissions, zone, bad answer): not retried in the run. */
  | "dns"
  /** Our configuration cannot work with this CA (e.g. its terms not accepted): exit 78. */
  | "config"
  | "local";

/** Classes worth retrying within the same run. */
export const TRANSIENT: ReadonlySet<FailureClass> = new Set(["network", "timeout", "server", "badNonce"]);

export interface Problem {
  type?: string;
  detail?: string;
  status?: number;
  subproblems?: Array<{ type?: string; detail?: string; identifier?: { type: string; value: string } }>;
}

export class AcmeFailure extends Error {
  constructor(
    readonly cls: FailureClass,
    message: string,
    readonly extra: { problem?: Problem; retryAfter?: Date; status?: number; url?: string; cause?: unknown; final?: boolean } = {},
  ) {
    super(message);
    this.name = "AcmeFailure";
  }
  /** Worth retrying in this run: a transient class, unless the caller marked it final. */
  get transient(): boolean {
    return !this.extra.final && TRANSIENT.has(this.cls);
  }
}

/** An error as an AcmeFailure: itself, or a local failure carrying it as the cause. */
export function asFailure(e: unknown): AcmeFailure {
  return e instanceof AcmeFailure ? e : new AcmeFailure("local", (e as Error)?.message ?? String(e), { cause: e });
}

const PROBLEM_PREFIX = "urn:ietf:params:acme:error:";

/** Maps an ACME problem type (RFC 8555 §6.7) and HTTP status to our class. */
export function classifyProblem(status: number, problem: Problem | undefined): FailureClass {
  const t = problem?.type?.startsWith(PROBLEM_PREFIX) ? problem.type.slice(PROBLEM_PREFIX.length) : undefined;
  switch (t) {
    case "badNonce":
      return "badNonce";
    case "rateLimited":
      return "rateLimited";
    case "unauthorized":
    case "accountDoesNotExist":
    case "externalAccountRequired":
    case "userActionRequired":
      return "unauthorized";
    case "rejectedIdentifier":
    case "unsupportedIdentifier":
      return "rejectedIdentifier";
    case "caa":
      return "caa";
    case "malformed":
    case "badCSR":
    case "badSignatureAlgorithm":
    case "badPublicKey":
    case "badRevocationReason":
    case "invalidProfile":
      return "malformed";
    case "connection":
    case "dns":
    case "incorrectResponse":
    case "tls":
      return "challenge";
    case "serverInternal":
      return "server";
    // The order is not (or no longer) ready: after a lost finalize answer it is already processing.
    // The caller re-reads the order; it is never a matter of authorization.
    case "orderNotReady":
      return "acme";
  }
  if (status === 429) return "rateLimited";
  if (status >= 500) return "server";
  if (status === 401 || status === 403) return "unauthorized";
  return "acme";
}

/** A CA's answer as far as classification needs it. */
export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  data: unknown;
}

/** One header of an answer (names lower-case, as Node and axios give them). */
export function header(h: Record<string, unknown>, name: string): string | undefined {
  const v = h[name];
  return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : undefined;
}

/** The problem document of an answer, when it carries one. */
export function problemOf(a: Answer): Problem | undefined {
  const d = a.data;
  return d && typeof d === "object" && typeof (d as Problem).type === "string" ? (d as Problem) : undefined;
}

/** The failure an error answer (status ≥ 400) stands for: classified from this answer alone. */
export function answerFailure(what: string, url: string, a: Answer, now = new Date()): AcmeFailure {
  const problem = problemOf(a);
  const retryAfter = parseRetryAfter(header(a.headers, "retry-after"), now);
  return new AcmeFailure(classifyProblem(a.status, problem), `${what}: ${problem?.detail ?? `the CA answered HTTP ${a.status}`} (HTTP ${a.status})`, {
    ...(problem ? { problem } : {}),
    ...(retryAfter ? { retryAfter } : {}),
    status: a.status,
    url,
  });
}

/** Is this failure the problem type `t` (e.g. "orderNotReady")? */
export function isProblem(f: AcmeFailure, t: string): boolean {
  return f.extra.problem?.type === `${PROBLEM_PREFIX}${t}`;
}

/** OpenSSL/Node verification failures: the CA's TLS certificate is not trusted. Retrying in seconds cannot fix that. */
const TLS_VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);
const NET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "ENETDOWN", "ECONNABORTED_SOCKET", "ERR_SOCKET_CLOSED", "EPROTO"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "ECONNABORTED", "ESOCKETTIMEDOUT", "ERR_CANCELED", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * Classifies a transport error (no HTTP response): an untrusted CA certificate → tls (not retried:
 * wrong `caBundle`, interception, or a clock far off); refused, reset, DNS, other TLS trouble →
 * network; timeouts → timeout.
 */
export function classifyTransport(e: unknown): AcmeFailure {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err?.code ?? err?.cause?.code ?? "";
  const msg = err?.message ?? String(e);
  if (TLS_VERIFY_CODES.has(code))
    return new AcmeFailure("tls", `${code}: ${msg} (the CA's TLS certificate is not trusted: check caBundle and the clock)`, { cause: e });
  if (TIMEOUT_CODES.has(code) || /timeout/i.test(msg)) return new AcmeFailure("timeout", `request timed out (${code || msg})`, { cause: e });
  if (NET_CODES.has(code) || code.startsWith("ERR_TLS") || /certificate|self[- ]signed|SSL|TLS|socket hang up/i.test(`${code} ${msg}`))
    return new AcmeFailure("network", `${code || "network error"}: ${msg}`, { cause: e });
  return new AcmeFailure("network", msg, { cause: e });
}

/** Parses Retry-After: delta seconds or an HTTP date. */
export function parseRetryAfter(v: string | undefined | null, now: Date): Date | undefined {
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return new Date(now.getTime() + Number(s) * SECOND);
  const d = Date.parse(s);
  return Number.isNaN(d) ? undefined : new Date(d);
}

/** One line for the log: class, detail, problem type and subproblems. */
export function describe(f: AcmeFailure): string {
  const p = f.extra.problem;
  const parts = [f.message];
  if (p?.type && !f.message.includes(p.type)) parts.push(`[${p.type}]`);
  for (const sp of p?.subproblems ?? []) parts.push(`(${sp.identifier?.value ?? "?"}: ${sp.type ?? ""} ${sp.detail ?? ""})`);
  return parts.join(" ").replace(/\s*\n\s*/g, " ");
}
