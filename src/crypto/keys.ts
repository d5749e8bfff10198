/** Key pairs of the configured key types, as WebCrypto keys and PEM (PKCS#8). Network path only. */
import { createPublicKey, webcrypto } from "node:crypto";
import type { KeyType } from "../config/types.js";

export interface KeyPair {
  keys: webcrypto.CryptoKeyPair;
  /** PKCS#8 PEM of the private key. */
  pem: string;
  /** The signature algorithm to use with this key. */
  signing: webcrypto.EcdsaParams | webcrypto.Algorithm;
  keyType: KeyType;
}

const subtle = webcrypto.subtle;

function algorithm(t: KeyType): { gen: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams; signing: webcrypto.EcdsaParams | webcrypto.Algorithm } {
  switch (t) {
    case "ec256":
      return { gen: { name: "ECDSA", namedCurve: "P-256" }, signing: { name: "ECDSA", hash: "SHA-256" } as webcrypto.EcdsaParams };
    case "ec384":
      return { gen: { name: "ECDSA", namedCurve: "P-384" }, signing: { name: "ECDSA", hash: "SHA-384" } as webcrypto.EcdsaParams };
    default: {
      const bits = Number(t.slice(3));
      return {
        gen: { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
        signing: { name: "RSASSA-PKCS1-v1_5" },
      };
    }
  }
}

export function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

export async function generateKeyPair(t: KeyType): Promise<KeyPair> {
  const { gen, signing } = algorithm(t);
  const keys = (await subtle.generateKey(gen, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const pem = toPem(await subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
  return { keys, pem, signing, keyType: t };
}

/** Imports an existing private key PEM (PKCS#8, SEC1 or PKCS#1) of type `t`. */
export async function importKeyPair(pem: string, t: KeyType): Promise<KeyPair> {
  const { gen, signing } = algorithm(t);
  const { createPrivateKey } = await import("node:crypto");
  const priv = createPrivateKey(pem);
  const pkcs8 = priv.export({ type: "pkcs8", format: "pem" }) as string;
  const spki = createPublicKey(priv).export({ type: "spki", format: "der" });
  const privateKey = await subtle.importKey("pkcs8", derOf(pkcs8), gen, true, ["sign"]);
  const publicKey = await subtle.importKey("spki", spki, gen, true, ["verify"]);
  return { keys: { privateKey, publicKey }, pem: pkcs8, signing, keyType: t };
}
