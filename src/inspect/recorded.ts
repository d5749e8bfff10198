/**
 * The facts a version directory's install recorded (`.facts.json`, written by src/store/facts-record.ts
 * after the pair was verified): the CertFacts of its cert.pem/key.pem/chain.pem, and each file's stat
 * identity (dev, ino, size, mtime and ctime in ns). While all three files still have that identity,
 * the pre-check takes the facts as recorded — no PEM parsing, no node:crypto. Any other answer
 * (no record, unreadable or malformed record, a file replaced, edited, touched, chmod'ed or gone)
 * returns null and the caller reads the files in full. Dates are judged against the clock by
 * decide() as always: a record holds notAfter, never "valid".
 */
import { accessSync, constants, readFileSync, statSync, type BigIntStats } from "node:fs";
import type { CertFacts } from "./facts.js";

export const FACTS_FILE = ".facts.json";
const VERSION = 1;
/** The files whose identity a record pins, in the version directory. */
export const RECORDED_FILES = ["cert.pem", "key.pem", "chain.pem"] as const;

export interface StatId {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

/** The stat identity of `file` (follows symlinks, as a reader does). Throws as statSync does. */
export function statId(file: string): StatId {
  return idOf(statSync(file, { bigint: true }));
}

const idOf = (s: BigIntStats): StatId => ({ dev: String(s.dev), ino: String(s.ino), size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) });

/**
 * Can we read the file? Our own file with its owner's read bit: yes — the owner class decides, ACLs
 * and capabilities aside (saves check --all an access(2) per file). Anything else: ask the kernel.
 */
function readable(file: string, s: BigIntStats): boolean {
  if (euid !== null && s.uid === BigInt(euid) && (s.mode & 0o400n) !== 0n) return true;
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
const euid = process.geteuid?.() ?? null;

/** The record's text for facts of files with these identities. */
export function encodeRecord(facts: CertFacts, ids: Record<(typeof RECORDED_FILES)[number], StatId>): string {
  const f = { ...facts, notBefore: facts.notBefore.toISOString(), notAfter: facts.notAfter.toISOString() };
  return `${JSON.stringify({ version: VERSION, files: ids, facts: f })}\n`;
}

const isStr = (v: unknown): v is string => typeof v === "string";
/** A Date from an ISO string, or null (parsed once: check --all reads 20,000 of them). */
const dateOf = (v: unknown): Date | null => {
  if (typeof v !== "string") return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
};
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** CertFacts from a record's `facts`, or null unless every field is there with its type. */
function decodeFacts(v: unknown): CertFacts | null {
  if (!isObj(v) || v.kind !== "present") return null;
  const notBefore = dateOf(v.notBefore);
  const notAfter = dateOf(v.notAfter);
  const ok =
    notBefore !== null &&
    notAfter !== null &&
    Array.isArray(v.names) &&
    v.names.every(isStr) &&
    isStr(v.keyType) &&
    typeof v.keyMatches === "boolean" &&
    typeof v.chainPresent === "boolean" &&
    isStr(v.serialHex) &&
    isStr(v.issuer) &&
    isStr(v.fingerprint256) &&
    (v.certId === null || isStr(v.certId)) &&
    typeof v.placeholder === "boolean";
  if (!ok) return null;
  return {
    kind: "present",
    notBefore,
    notAfter,
    names: [...(v.names as string[])],
    keyType: v.keyType as string,
    keyMatches: v.keyMatches as boolean,
    chainPresent: v.chainPresent as boolean,
    serialHex: v.serialHex as string,
    issuer: v.issuer as string,
    fingerprint256: v.fingerprint256 as string,
    certId: v.certId as string | null,
    placeholder: v.placeholder as boolean,
  };
}

const sameId = (a: unknown, b: StatId): boolean =>
  isObj(a) && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/**
 * The recorded facts of the version directory `base` (or a symlink to it), when its record is
 * well-formed and every file it pins is still the file it was (and readable by us); else null.
 * Never throws.
 */
export function recordedFacts(base: string): CertFacts | null {
  try {
    // `base` is a normalised path (store/paths.ts): join() without its cost (check --all).
    const at = (f: string) => (base.endsWith("/") ? base + f : `${base}/${f}`);
    const o: unknown = JSON.parse(readFileSync(at(FACTS_FILE), "utf8"));
    if (!isObj(o) || o.version !== VERSION || !isObj(o.files)) return null;
    for (const f of RECORDED_FILES) {
      const file = at(f);
      const s = statSync(file, { bigint: true });
      // What a full check would find: a file we cannot read is "unreadable", not valid.
      if (!sameId(o.files[f], idOf(s)) || !readable(file, s)) return null;
    }
    return decodeFacts(o.facts);
  } catch {
    return null;
  }
}
