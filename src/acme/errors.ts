/**
 * One error type for everything that can go wrong talking to a CA, with the class that decides what
 * happens next (retry now, retry in a later run, give up on this order).
 */
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
  }
  if (status === 429) return "rateLimited";
  if (status >= 500) return "server";
  if (status === 401 || status === 403) return "unauthorized";
  return "acme";
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
  if (/^\d+$/.test(s)) return new Date(now.getTime() + Number(s) * 1000);
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
