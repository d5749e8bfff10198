/** What the files on disk say about one certificate: plain data, input to the decision. */
import type { KeyType } from "../config/types.js";

export interface CertFacts {
  kind: "present";
  notBefore: Date;
  notAfter: Date;
  /** DNS names from the subjectAltName extension, lower-case. */
  names: string[];
  /** Key type of the certificate's public key, or a description when it is none of ours. */
  keyType: KeyType | string;
  /** The private key on disk belongs to the certificate. */
  keyMatches: boolean;
  /** chain.pem holds at least one certificate. */
  chainPresent: boolean;
  serialHex: string;
  issuer: string;
  fingerprint256: string;
  /** ARI certID (RFC 9773), null without an Authority Key Identifier (self-signed). */
  certId: string | null;
  /** A self-signed placeholder written by acme-renew (recognised from the certificate, src/inspect/placeholder.ts). */
  placeholder: boolean;
}

export type Inspection =
  | CertFacts
  /** `empty`: neither cert.pem nor key.pem exists (nothing a placeholder could overwrite). */
  | { kind: "missing"; what: string; empty: boolean }
  | { kind: "unreadable"; what: string };
