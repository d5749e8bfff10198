/**
 * The records kept in the shared store (docs/cluster.md, "record formats"): encoded as versioned
 * JSON, validated strictly when read back. Anything that does not validate is a ClusterError
 * "corrupt" naming the key; a record is never half-used.
 */
import { X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { pemBlocks } from "../inspect/pem.js";
import { sanNames } from "../inspect/read.js";
import { ClusterError } from "./errors.js";
import { accountId } from "./keys.js";
import type { Sealed, SealKey } from "./seal.js";

const MAX_RECORD = 1 << 20;
const MAX_PEM = 64 * 1024;

// ---------------------------------------------------------------------------------------
// Strict reading

type Obj = Record<string, unknown>;

class Reader {
  constructor(readonly where: string) {}
  fail(msg: string): never {
    throw new ClusterError("corrupt", `${this.where}: ${msg}`, { key: this.where });
  }
  /** Parses the bytes, checks format/version and that no field outside `fields` is present. */
  header(buf: Buffer, format: string, fields: readonly string[]): Obj {
    if (buf.length > MAX_RECORD) this.fail(`record larger than ${MAX_RECORD} bytes`);
    let o: unknown;
    try {
      o = JSON.parse(buf.toString("utf8"));
    } catch {
      this.fail("not JSON");
    }
    if (typeof o !== "object" || o === null || Array.isArray(o)) this.fail("not a JSON object");
    const r = o as Obj;
    if (r.format !== format) this.fail(`format is ${JSON.stringify(r.format)}, expected "${format}"`);
    if (!Number.isInteger(r.v) || (r.v as number) < 1) this.fail(`field "v": not a positive integer`);
    if ((r.v as number) > 1) this.fail(`record version ${r.v as number}: written by a newer acme-renew (this one reads version 1)`);
    for (const k of Object.keys(r)) if (k !== "format" && k !== "v" && !fields.includes(k)) this.fail(`unknown field "${k}"`);
    return r;
  }
  str(o: Obj, k: string, max = 1024, re?: RegExp): string {
    const v = o[k];
    if (typeof v !== "string") this.fail(`field "${k}": not a string`);
    if (v.length > max) this.fail(`field "${k}": longer than ${max}`);
    if (re && !re.test(v)) this.fail(`field "${k}": malformed`);
    return v;
  }
  strOrNull(o: Obj, k: string, max = 1024): string | null {
    return o[k] === null ? null : this.str(o, k, max);
  }
  int(o: Obj, k: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = o[k];
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) this.fail(`field "${k}": not an integer in ${min}…${max}`);
    return v as number;
  }
  date(o: Obj, k: string): Date {
    const s = this.str(o, k, 40);
    const d = new Date(s);
    if (!/^\d{4}-\d\d-\d\dT/.test(s) || Number.isNaN(d.getTime())) this.fail(`field "${k}": not an ISO date`);
    return d;
  }
  dateOrNull(o: Obj, k: string): Date | null {
    return o[k] === null ? null : this.date(o, k);
  }
  obj(o: Obj, k: string, fields: readonly string[]): Obj {
    const v = o[k];
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(`field "${k}": not an object`);
    for (const f of Object.keys(v)) if (!fields.includes(f)) this.fail(`field "${k}": unknown field "${f}"`);
    return v as Obj;
  }
  objOrNull(o: Obj, k: string, fields: readonly string[]): Obj | null {
    return o[k] === null ? null : this.obj(o, k, fields);
  }
  sealed(o: Obj, k: string): Sealed {
    const s = this.obj(o, k, ["alg", "kid", "iv", "ct", "tag"]);
    if (s.alg !== "A256GCM") this.fail(`field "${k}.alg": not A256GCM`);
    const b64 = /^[A-Za-z0-9+/]*={0,2}$/;
    return { alg: "A256GCM", kid: this.str(s, "kid", 16, /^[0-9a-f]{16}$/), iv: this.str(s, "iv", 64, b64), ct: this.str(s, "ct", 2 * MAX_PEM, b64), tag: this.str(s, "tag", 64, b64) };
  }
}

const json = (o: Obj) => Buffer.from(JSON.stringify(o), "utf8");
const iso = (d: Date | null) => (d ? d.toISOString() : null);

// ---------------------------------------------------------------------------------------
// Certificate record: key + certificate + chain of one certificate, one version.

export const CERT_FORMAT = "acme-renew/cert";
const CERT_FIELDS = ["name", "generation", "serial", "notBefore", "notAfter", "names", "certPem", "chainPem", "key", "publishedBy", "publishedAt"] as const;

export interface CertRecord {
  name: string;
  /** The record's own version number: previous + 1. Bound into the sealed key. */
  generation: number;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  names: string[];
  certPem: string;
  chainPem: string;
  keyPem: string;
  publishedBy: string;
  publishedAt: Date;
}

export interface CertRecordInput {
  name: string;
  generation: number;
  certPem: string;
  chainPem: string;
  keyPem: string;
  publishedBy: string;
  publishedAt: Date;
}

/** What the sealed key is bound to: a copy in another name, generation or next to another certificate does not open. */
function certAad(name: string, generation: number, cert: X509Certificate): string {
  return [CERT_FORMAT, "v1", name, String(generation), createHash("sha256").update(cert.raw).digest("hex")].join("\n");
}

function parseCert(r: Reader, certPem: string): X509Certificate {
  const blocks = pemBlocks(certPem, "CERTIFICATE");
  if (blocks.length !== 1 || pemBlocks(certPem).length !== 1) r.fail(`field "certPem": not exactly one PEM certificate`);
  try {
    return new X509Certificate(blocks[0]!);
  } catch {
    return r.fail(`field "certPem": does not parse as a certificate`);
  }
}

function checkPair(r: Reader, cert: X509Certificate, keyPem: string): void {
  let ok = false;
  try {
    ok = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    r.fail("the sealed key is not a private key");
  }
  if (!ok) r.fail("the sealed key does not belong to the certificate");
}

export function encodeCertRecord(i: CertRecordInput, key: SealKey): Buffer {
  const r = new Reader(`certificate record of ${i.name}`);
  if (!Number.isInteger(i.generation) || i.generation < 1) throw new Error("generation must be a positive integer");
  const cert = parseCert(r, i.certPem);
  checkPair(r, cert, i.keyPem); // never publish a mismatched pair
  for (const b of pemBlocks(i.chainPem)) if (!b.startsWith("-----BEGIN CERTIFICATE-----")) r.fail(`field "chainPem": holds something other than certificates`);
  return json({
    format: CERT_FORMAT,
    v: 1,
    name: i.name,
    generation: i.generation,
    serial: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    names: sanNames(cert),
    certPem: i.certPem,
    chainPem: i.chainPem,
    key: key.seal(Buffer.from(i.keyPem, "utf8"), certAad(i.name, i.generation, cert)),
    publishedBy: i.publishedBy,
    publishedAt: i.publishedAt.toISOString(),
  });
}

/** Decodes and checks a certificate record read from `where` for certificate `name`. */
export function decodeCertRecord(buf: Buffer, where: string, name: string, key: SealKey): CertRecord {
  const r = new Reader(where);
  const o = r.header(buf, CERT_FORMAT, CERT_FIELDS);
  const recName = r.str(o, "name", 200);
  if (recName !== name) r.fail(`record is for "${recName}", not "${name}"`);
  const generation = r.int(o, "generation", 1);
  const certPem = r.str(o, "certPem", MAX_PEM);
  const chainPem = r.str(o, "chainPem", 4 * MAX_PEM);
  const cert = parseCert(r, certPem);
  const serial = r.str(o, "serial", 128, /^[0-9a-f]+$/);
  const notBefore = r.date(o, "notBefore");
  const notAfter = r.date(o, "notAfter");
  if (serial !== cert.serialNumber.toLowerCase()) r.fail(`field "serial" does not match the certificate`);
  if (notBefore.getTime() !== new Date(cert.validFrom).getTime() || notAfter.getTime() !== new Date(cert.validTo).getTime()) r.fail(`fields "notBefore"/"notAfter" do not match the certificate`);
  if (!Array.isArray(o.names) || o.names.some((n) => typeof n !== "string")) r.fail(`field "names": not a list of strings`);
  const names = o.names as string[];
  if (JSON.stringify(names) !== JSON.stringify(sanNames(cert))) r.fail(`field "names" does not match the certificate`);
  for (const b of pemBlocks(chainPem)) if (!b.startsWith("-----BEGIN CERTIFICATE-----")) r.fail(`field "chainPem": holds something other than certificates`);
  const sealed = r.sealed(o, "key");
  const publishedBy = r.str(o, "publishedBy", 255);
  const publishedAt = r.date(o, "publishedAt");
  const keyPem = key.open(sealed, certAad(name, generation, cert), where).toString("utf8");
  checkPair(r, cert, keyPem);
  return { name, generation, serial, notBefore, notAfter, names, certPem, chainPem, keyPem, publishedBy, publishedAt };
}

// ---------------------------------------------------------------------------------------
// Shared renewal state of one certificate.

export const STATE_FORMAT = "acme-renew/state";
const STATE_FIELDS = ["name", "lastAttempt", "lastOutcome", "lastError", "consecutiveFailures", "nextAttemptAt", "retryAfter", "ari", "updatedBy", "updatedAt"] as const;
const ARI_FIELDS = ["certId", "windowStart", "windowEnd", "selectedTime", "explanationURL", "nextRefreshAt"] as const;

export interface SharedAri {
  certId: string;
  windowStart: Date | null;
  windowEnd: Date | null;
  /** Drawn once inside the window, for every host. */
  selectedTime: Date | null;
  explanationURL: string | null;
  nextRefreshAt: Date;
}

export interface SharedState {
  name: string;
  lastAttempt: Date | null;
  lastOutcome: string | null;
  lastError: { class: string; message: string } | null;
  consecutiveFailures: number;
  nextAttemptAt: Date | null;
  retryAfter: Date | null;
  ari: SharedAri | null;
  updatedBy: string;
  updatedAt: Date;
}

export function encodeState(s: SharedState): Buffer {
  return json({
    format: STATE_FORMAT,
    v: 1,
    name: s.name,
    lastAttempt: iso(s.lastAttempt),
    lastOutcome: s.lastOutcome,
    lastError: s.lastError ? { class: s.lastError.class, message: s.lastError.message } : null,
    consecutiveFailures: s.consecutiveFailures,
    nextAttemptAt: iso(s.nextAttemptAt),
    retryAfter: iso(s.retryAfter),
    ari: s.ari ? { certId: s.ari.certId, windowStart: iso(s.ari.windowStart), windowEnd: iso(s.ari.windowEnd), selectedTime: iso(s.ari.selectedTime), explanationURL: s.ari.explanationURL, nextRefreshAt: s.ari.nextRefreshAt.toISOString() } : null,
    updatedBy: s.updatedBy,
    updatedAt: s.updatedAt.toISOString(),
  });
}

export function decodeState(buf: Buffer, where: string, name: string): SharedState {
  const r = new Reader(where);
  const o = r.header(buf, STATE_FORMAT, STATE_FIELDS);
  const recName = r.str(o, "name", 200);
  if (recName !== name) r.fail(`record is for "${recName}", not "${name}"`);
  const le = r.objOrNull(o, "lastError", ["class", "message"]);
  const a = r.objOrNull(o, "ari", ARI_FIELDS);
  return {
    name,
    lastAttempt: r.dateOrNull(o, "lastAttempt"),
    lastOutcome: o.lastOutcome === null ? null : r.str(o, "lastOutcome", 40, /^[a-z][a-z-]*$/),
    lastError: le ? { class: r.str(le, "class", 40), message: r.str(le, "message", 4096) } : null,
    consecutiveFailures: r.int(o, "consecutiveFailures", 0, 1_000_000),
    nextAttemptAt: r.dateOrNull(o, "nextAttemptAt"),
    retryAfter: r.dateOrNull(o, "retryAfter"),
    ari: a ? { certId: r.str(a, "certId", 512), windowStart: r.dateOrNull(a, "windowStart"), windowEnd: r.dateOrNull(a, "windowEnd"), selectedTime: r.dateOrNull(a, "selectedTime"), explanationURL: r.strOrNull(a, "explanationURL", 2048), nextRefreshAt: r.date(a, "nextRefreshAt") } : null,
    updatedBy: r.str(o, "updatedBy", 255),
    updatedAt: r.date(o, "updatedAt"),
  };
}

// ---------------------------------------------------------------------------------------
// ACME account shared per (server, email).

export const ACCOUNT_FORMAT = "acme-renew/account";
const ACCOUNT_FIELDS = ["server", "email", "url", "key"] as const;

export interface AccountRecord {
  server: string;
  email: string | null;
  url: string;
  keyPem: string;
}

const accountAad = (id: string, server: string, email: string | null) => [ACCOUNT_FORMAT, "v1", id, server, email ?? ""].join("\n");

export function encodeAccount(a: AccountRecord, key: SealKey): Buffer {
  const id = accountId(a.server, a.email);
  return json({ format: ACCOUNT_FORMAT, v: 1, server: a.server, email: a.email, url: a.url, key: key.seal(Buffer.from(a.keyPem, "utf8"), accountAad(id, a.server, a.email)) });
}

/** Decodes the account record stored under the id of (`server`, `email`). */
export function decodeAccount(buf: Buffer, where: string, server: string, email: string | null, key: SealKey): AccountRecord {
  const r = new Reader(where);
  const o = r.header(buf, ACCOUNT_FORMAT, ACCOUNT_FIELDS);
  const s = r.str(o, "server", 2048);
  const e = r.strOrNull(o, "email", 320);
  if (s !== server || e !== email) r.fail(`record is for account (${s}, ${e ?? "no email"}), not (${server}, ${email ?? "no email"})`);
  const url = r.str(o, "url", 2048, /^https:\/\//);
  const keyPem = key.open(r.sealed(o, "key"), accountAad(accountId(server, email), server, email), where).toString("utf8");
  try {
    createPrivateKey(keyPem);
  } catch {
    r.fail("the sealed account key is not a private key");
  }
  return { server, email, url, keyPem };
}

// ---------------------------------------------------------------------------------------
// Lock record: who holds a lock (informational; the lock is the key's existence).

export const LOCK_FORMAT = "acme-renew/lock";

export interface LockRecord {
  host: string;
  pid: number;
  since: Date;
}

export function encodeLock(l: LockRecord): Buffer {
  return json({ format: LOCK_FORMAT, v: 1, host: l.host, pid: l.pid, since: l.since.toISOString() });
}

export function decodeLock(buf: Buffer, where: string): LockRecord {
  const r = new Reader(where);
  const o = r.header(buf, LOCK_FORMAT, ["host", "pid", "since"]);
  return { host: r.str(o, "host", 255), pid: r.int(o, "pid", 0, 2 ** 32), since: r.date(o, "since") };
}
