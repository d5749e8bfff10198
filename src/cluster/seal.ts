/**
 * AES-256-GCM for the secrets in shared records (private keys). The key file holds 32 random bytes
 * (64 hex digits, 44 base64 characters, or the raw bytes); HKDF derives one subkey to encrypt and
 * one to name the key (`kid`), so "sealed with another key" can be told from "corrupt" without the
 * key id revealing the key. The associated data binds a ciphertext to its place (see records.ts).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { ClusterError } from "./errors.js";

export interface Sealed {
  alg: "A256GCM";
  kid: string;
  iv: string;
  ct: string;
  tag: string;
}

const derive = (key: Buffer, info: string, len: number) => Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), info, len));

/** Decodes the key file's content; null when it is not 32 bytes in one of the accepted forms. */
export function parseKeyFile(raw: Buffer): Buffer | null {
  const text = raw.toString("latin1").replace(/\r?\n$/, "");
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, "base64");
  if (raw.length === 32) return Buffer.from(raw);
  return null;
}

export class SealKey {
  readonly kid: string;
  private readonly enc: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new ClusterError("config", "the encryption key must be 32 bytes");
    this.enc = derive(key, "acme-renew cluster seal v1", 32);
    this.kid = derive(key, "acme-renew cluster key id v1", 8).toString("hex");
  }

  /** Reads `file` (config field `encryptionKeyFile`); errors name the file, never its content. */
  static fromFile(file: string): SealKey {
    let raw: Buffer;
    try {
      raw = readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ClusterError("config", `encryptionKeyFile ${file}: ${code === "ENOENT" ? "not found" : code === "EACCES" ? "permission denied" : (code ?? (e as Error).message)}`);
    }
    const key = parseKeyFile(raw);
    if (!key) throw new ClusterError("config", `encryptionKeyFile ${file}: must hold 32 random bytes as 64 hex digits, 44 base64 characters or raw bytes (e.g. head -c 32 /dev/urandom | base64)`);
    return new SealKey(key);
  }

  seal(plain: Buffer, aad: string): Sealed {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.enc, iv);
    c.setAAD(Buffer.from(aad, "utf8"));
    const ct = Buffer.concat([c.update(plain), c.final()]);
    return { alg: "A256GCM", kid: this.kid, iv: iv.toString("base64"), ct: ct.toString("base64"), tag: c.getAuthTag().toString("base64") };
  }

  /** Opens what seal() made with the same `aad`; `where` (the record's key) goes into errors. */
  open(s: Sealed, aad: string, where: string): Buffer {
    if (s.kid !== this.kid) throw new ClusterError("wrong-key", `${where}: sealed with encryption key id ${s.kid}, this host's encryptionKeyFile has key id ${this.kid}`, { key: where });
    const iv = Buffer.from(s.iv, "base64");
    const tag = Buffer.from(s.tag, "base64");
    if (iv.length !== 12 || tag.length !== 16) throw new ClusterError("corrupt", `${where}: sealed key has a bad IV or tag length`, { key: where });
    try {
      const d = createDecipheriv("aes-256-gcm", this.enc, iv);
      d.setAAD(Buffer.from(aad, "utf8"));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(Buffer.from(s.ct, "base64")), d.final()]);
    } catch {
      throw new ClusterError("corrupt", `${where}: sealed key does not open (corrupt, tampered, or moved from another certificate or generation)`, { key: where });
    }
  }
}
