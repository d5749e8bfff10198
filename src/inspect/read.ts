/** Reads cert.pem, key.pem and chain.pem of one certificate into CertFacts: the install's record, our own DER reading, or node:crypto. */
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { lstatSync, realpathSync } from "node:fs";
import { join } from "node:path";
import type { KeyType } from "../config/types.js";
import { currentBase, type CertPaths } from "../store/paths.js";
import { PROOF_FILE, provesPair } from "../store/pair-proof.js";
import type { CertFacts, Inspection } from "./facts.js";
import { pemBlocks } from "./pem.js";
import { certIdOrNull } from "../ari/cert-id.js";
import { spkiKeyType } from "./der.js";
import { isPlaceholder } from "./placeholder.js";
import { derCertFacts } from "./cert-der.js";
import { keyHoldsPublicKey } from "./key-der.js";
import { strictPem } from "./pem-strict.js";
import { recordedFacts } from "./recorded.js";
import { readTextOrNull as readOrNull } from "../util/read.js";

export function keyTypeOf(key: KeyObject): KeyType | string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "ec") {
    if (d.namedCurve === "prime256v1") return "ec256";
    if (d.namedCurve === "secp384r1") return "ec384";
    return `ec(${d.namedCurve ?? "?"})`;
  }
  if (key.asymmetricKeyType === "rsa") {
    const bits = d.modulusLength ?? 0;
    return [2048, 3072, 4096, 8192].includes(bits) ? `rsa${bits}` : `rsa(${bits})`;
  }
  return key.asymmetricKeyType ?? "unknown";
}

/** DNS names of a certificate's subjectAltName, lower-case. */
export function sanNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName ?? "";
  const names: string[] = [];
  for (const part of san.split(/,\s*/)) {
    const m = /^DNS:"?([^"]*)"?$/.exec(part.trim());
    if (m?.[1]) names.push(m[1].toLowerCase());
  }
  return names;
}

/** An error's message without OpenSSL's code prefix ("error:03000072:digital envelope routines::decode error" → "decode error"). */
const openSslMessage = (e: unknown) => String((e as Error).message ?? e).replace(/^error:[0-9A-F]+:[^:]*::/, "");

let lastWasRecorded = true;

export function inspect(paths: CertPaths): Inspection {
  // A version acme-renew installed carries the facts its install verified: trusted while its files
  // are unchanged (src/inspect/recorded.ts). Read through `current` without resolving it first: a
  // swap in between shows as files that are not the recorded ones (other inodes), never as a mix.
  // Plain files (no `current`) and anything changed are read in full. Which to try first follows
  // the last certificate (fleets are of one kind): a failed read of current/.facts.json cost a plain
  // check --all ~8 %, the lstat telling plain files apart an installed one ~2 %.
  const recordedFirst = lastWasRecorded ? recordedFacts(paths.current) : null;
  if (recordedFirst) return recordedFirst;
  let hasCurrent = true;
  try {
    hasCurrent = lstatSync(paths.current, { throwIfNoEntry: false }) !== undefined;
  } catch {
    // EACCES, ENOTDIR…: currentBase() falls back to the directory itself, as it always did.
  }
  const recorded = !lastWasRecorded && hasCurrent ? recordedFacts(paths.current) : null;
  lastWasRecorded = recorded !== null;
  if (recorded) return recorded;
  // Read all files from the version `current` points at, resolved once: a renewal swapping it
  // meanwhile cannot hand us the old certificate with the new key.
  const base = hasCurrent ? currentBase(paths, realpathSync.native) : paths.dir;
  const at = (f: string) => join(base, f);
  let certText: string | null;
  let keyText: string | null;
  try {
    certText = readOrNull(at("cert.pem"));
    keyText = readOrNull(at("key.pem"));
  } catch (e) {
    return { kind: "unreadable", what: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  if (certText === null && keyText === null) return { kind: "missing", what: "no certificate yet", empty: true };
  if (certText === null) return { kind: "missing", what: `${paths.cert} is missing`, empty: false };
  if (keyText === null) return { kind: "missing", what: `${paths.key} is missing`, empty: false };
  let proof: string | null = null;
  try {
    proof = base === paths.dir ? null : readOrNull(at(PROOF_FILE));
  } catch {
    proof = null;
  }
  let chainText: string | null = null;
  try {
    chainText = readOrNull(at("chain.pem"));
  } catch {
    chainText = null;
  }
  return precheckFacts({ cert: certText, key: keyText, chain: chainText }, { cert: paths.cert, key: paths.key }, provesPair(proof, keyText, certText));
}

/** factsOf()'s answer: quickFacts() where it gives one, else node:crypto's. */
export function precheckFacts(t: { cert: string; key: string; chain: string | null }, labels: { cert: string; key: string }, pairProven = false): Inspection {
  return quickFacts(t, pairProven) ?? factsOf(t, labels, pairProven);
}

/**
 * factsOf()'s answer from our own reading of the DER (inspect/cert-der.ts, key-der.ts: ~3× less work
 * than node:crypto for a plain file), or null where it declines — PEM text not as OpenSSL writes it,
 * a certificate or key beyond its narrow templates, a key it cannot show to match.
 */
export function quickFacts(t: { cert: string; key: string; chain: string | null }, pairProven = false): CertFacts | null {
  const pem = strictPem(t.cert, ["CERTIFICATE"]);
  // What follows the first block (a chain in the same file) is not read by either path.
  if (!pem || (pem.end !== t.cert.length && !t.cert.startsWith("-----BEGIN ", pem.end))) return null;
  const c = derCertFacts(pem.der);
  if (!c || (!pairProven && keyHoldsPublicKey(t.key, c.publicKey) === null)) return null;
  return {
    kind: "present",
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    names: c.names,
    keyType: c.keyType,
    keyMatches: true,
    chainPresent: t.chain !== null && pemBlocks(t.chain, "CERTIFICATE").length > 0,
    serialHex: c.serialHex,
    issuer: c.issuer.replace(/\n/g, ", "),
    fingerprint256: c.fingerprint256,
    certId: certIdOrNull(pem.der),
    placeholder: false, // cert-der declines a subject that could be one
  };
}

/**
 * CertFacts of a certificate, its key and chain given as text (`labels` name them in messages).
 * `pairProven`: the bytes carry a valid pair proof, so the key need not be loaded.
 */
export function factsOf(t: { cert: string; key: string; chain: string | null }, labels: { cert: string; key: string }, pairProven = false): Inspection {
  const certPem = pemBlocks(t.cert, "CERTIFICATE")[0];
  if (!certPem) return { kind: "unreadable", what: `${labels.cert}: no PEM certificate` };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    return { kind: "unreadable", what: `${labels.cert}: ${openSslMessage(e)}` };
  }
  let key: KeyObject | null = null;
  if (!pairProven) {
    try {
      key = createPrivateKey(t.key);
    } catch (e) {
      return { kind: "unreadable", what: `${labels.key}: not a private key (${openSslMessage(e)})` };
    }
  }
  const raw = cert.raw;
  let keyType: string;
  let keyMatches: boolean;
  try {
    // Both decode the certificate's public key, which its parse left alone: a damaged one throws here.
    keyType = spkiKeyType(raw) ?? keyTypeOf(cert.publicKey);
    keyMatches = key === null || cert.checkPrivateKey(key);
  } catch (e) {
    return { kind: "unreadable", what: `${labels.cert}: public key: ${openSslMessage(e)}` };
  }
  let names: string[];
  try {
    names = sanNames(cert);
  } catch (e) {
    // node:crypto 24+ throws for a subjectAltName it cannot decode (20 prints what it can).
    return { kind: "unreadable", what: `${labels.cert}: subjectAltName: ${openSslMessage(e)}` };
  }
  // A serial too large for OpenSSL's bignums reads as undefined.
  if (typeof cert.serialNumber !== "string") return { kind: "unreadable", what: `${labels.cert}: serial number: too large` };
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  // A time OpenSSL parses but cannot print (month 13…) reads as "Bad time value": no date to judge by.
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return { kind: "unreadable", what: `${labels.cert}: validity: bad time value` };
  return {
    kind: "present",
    notBefore,
    notAfter,
    names,
    keyType,
    keyMatches,
    chainPresent: t.chain !== null && pemBlocks(t.chain, "CERTIFICATE").length > 0,
    serialHex: cert.serialNumber.toLowerCase(),
    issuer: (cert.issuer ?? "").replace(/\n/g, ", "), // undefined for an empty Name
    fingerprint256: cert.fingerprint256,
    certId: certIdOrNull(raw),
    placeholder: isPlaceholder(cert),
  };
}
