/**
 * TSIG (RFC 8945) with HMAC-SHA1/224/256/384/512 (RFC 4635): sign a request, verify the answer.
 * No maintained Node library does this. The MAC covers the message without its TSIG record (with
 * ARCOUNT as before signing) and the "TSIG variables" in canonical wire form (§4.3.3); an answer's
 * MAC also covers the request's MAC (§4.3.1). Truncated MACs (§5.2.2.1) are accepted when long
 * enough; error answers (BADKEY, BADSIG, BADTIME) are unsigned by design.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { CLASS, TYPE, encodeName, encodeRR, fqdn, rcodeName, WireError, type Message } from "./wire.js";

/** lego's TSIG algorithm names (miekg/dns), absolute, → node:crypto digest. */
export const TSIG_ALGORITHMS: Readonly<Record<string, string>> = {
  "hmac-sha1.": "sha1",
  "hmac-sha224.": "sha224",
  "hmac-sha256.": "sha256",
  "hmac-sha384.": "sha384",
  "hmac-sha512.": "sha512",
};

export interface TsigKey {
  /** Key name, absolute, lower case. */
  name: string;
  /** Algorithm name, absolute, lower case ("hmac-sha256."). */
  algorithm: string;
  secret: Buffer;
}

/** "HMAC-SHA256" / "hmac-sha256." → "hmac-sha256.", or null when not supported. */
export function tsigAlgorithm(s: string): string | null {
  const a = fqdn(s.trim());
  return Object.hasOwn(TSIG_ALGORITHMS, a) ? a : null;
}

const MAC_LENGTH: Readonly<Record<string, number>> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

export const FUDGE = 300;

function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
}

/** The TSIG variables of §4.3.3 (time signed, fudge, error, other data) in canonical form. */
function variables(key: TsigKey, time: number, fudge: number, error: number, other: Buffer): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(error, 0);
  tail.writeUInt16BE(other.length, 2);
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(CLASS.ANY, 0);
  classTtl.writeUInt32BE(0, 2);
  const fudgeB = Buffer.alloc(2);
  fudgeB.writeUInt16BE(fudge);
  return Buffer.concat([encodeName(key.name), classTtl, encodeName(key.algorithm), u48(time), fudgeB, tail, other]);
}

/** HMAC with the digest a TSIG algorithm name stands for (RFC 4635 §2). */
export function tsigHmac(algorithm: string, secret: Buffer, parts: Buffer[]): Buffer {
  const digest = TSIG_ALGORITHMS[algorithm];
  if (!digest) throw new Error(`unsupported TSIG algorithm ${algorithm}`);
  const h = createHmac(digest, secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

const hmac = (key: TsigKey, parts: Buffer[]) => tsigHmac(key.algorithm, key.secret, parts);

function withLength(mac: Buffer): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(mac.length);
  return Buffer.concat([b, mac]);
}

/** The MAC of a request: the message as it is (no TSIG yet) followed by the TSIG variables. */
export function requestMac(message: Buffer, key: TsigKey, time: number, fudge = FUDGE): Buffer {
  return hmac(key, [message, variables(key, time, fudge, 0, Buffer.alloc(0))]);
}

/** Appends a TSIG record to `message` (and counts it in ARCOUNT). Returns the signed message and its MAC. */
export function sign(message: Buffer, key: TsigKey, time: number, fudge = FUDGE): { signed: Buffer; mac: Buffer } {
  const mac = requestMac(message, key, time, fudge);
  const fixed = Buffer.alloc(10);
  fixed.writeUIntBE(time, 0, 6);
  fixed.writeUInt16BE(fudge, 6);
  fixed.writeUInt16BE(mac.length, 8);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(message.readUInt16BE(0), 0); // original ID
  tail.writeUInt16BE(0, 2); // error
  tail.writeUInt16BE(0, 4); // other len
  const rdata = Buffer.concat([encodeName(key.algorithm), fixed, mac, tail]);
  const rr = encodeRR({ name: key.name, type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data: rdata });
  const signed = Buffer.concat([message, rr]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { signed, mac };
}

export interface TsigRdata {
  algorithm: string;
  time: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

/** TSIG RDATA; its algorithm name is never compressed (§4.2). */
function parseRdata(d: Buffer): TsigRdata {
  let pos = 0;
  const labels: string[] = [];
  for (;;) {
    const len = d[pos];
    if (len === undefined || (len & 0xc0) !== 0) throw new WireError("bad TSIG algorithm name");
    pos++;
    if (len === 0) break;
    labels.push(d.toString("latin1", pos, pos + len));
    pos += len;
  }
  if (d.length < pos + 16) throw new WireError("truncated TSIG record");
  const macLen = d.readUInt16BE(pos + 8);
  const at = pos + 10 + macLen;
  if (d.length < at + 6) throw new WireError("truncated TSIG MAC");
  const otherLen = d.readUInt16BE(at + 4);
  if (d.length < at + 6 + otherLen) throw new WireError("truncated TSIG other data");
  return {
    algorithm: fqdn(labels.join(".")),
    time: d.readUIntBE(pos, 6),
    fudge: d.readUInt16BE(pos + 6),
    mac: d.subarray(pos + 10, pos + 10 + macLen),
    originalId: d.readUInt16BE(at),
    error: d.readUInt16BE(at + 2),
    other: d.subarray(at + 6, at + 6 + otherLen),
  };
}

export type VerifyResult = { ok: true } | { ok: false; why: string; tsigError?: string };

/**
 * Verifies a signed answer to a request whose MAC was `reqMac`. `now` in seconds. An answer without
 * TSIG, with an error code, a wrong MAC or a time outside the fudge is not ok.
 */
export function verify(raw: Buffer, msg: Message, key: TsigKey, reqMac: Buffer, now: number): VerifyResult {
  if (msg.tsigOffset < 0) return { ok: false, why: "the answer is not signed (no TSIG record)" };
  const rr = msg.additional[msg.additional.length - 1]!;
  const t = parseRdata(rr.data);
  if (t.error !== 0) {
    const name = rcodeName(t.error);
    const skew = t.error === 18 && t.other.length === 6 ? ` (server time ${new Date(t.other.readUIntBE(0, 6) * 1000).toISOString()})` : "";
    return { ok: false, why: `the server rejected the TSIG signature: ${name}${skew}`, tsigError: name };
  }
  if (fqdn(rr.name) !== key.name) return { ok: false, why: `the answer is signed with another key (${rr.name})` };
  if (t.algorithm !== key.algorithm) return { ok: false, why: `the answer is signed with another algorithm (${t.algorithm})` };
  const full = MAC_LENGTH[TSIG_ALGORITHMS[key.algorithm]!]!;
  if (t.mac.length > full || t.mac.length < Math.max(10, Math.ceil(full / 2))) return { ok: false, why: `bad MAC length ${t.mac.length}` };
  const body = Buffer.from(raw.subarray(0, msg.tsigOffset));
  body.writeUInt16BE(t.originalId, 0);
  body.writeUInt16BE(msg.additional.length - 1, 10);
  const expect = hmac(key, [withLength(reqMac), body, variables(key, t.time, t.fudge, t.error, t.other)]).subarray(0, t.mac.length);
  if (!timingSafeEqual(expect, t.mac)) return { ok: false, why: "the answer's TSIG MAC does not verify (wrong key, or the answer was altered)" };
  if (Math.abs(now - t.time) > t.fudge) return { ok: false, why: `the answer's TSIG time is ${now - t.time}s off (fudge ${t.fudge}s): check the clock` };
  return { ok: true };
}

/**
 * The key file format of `tsig-keygen` / `ddns-confgen` (BIND) that lego's DNSUPDATE_TSIG_FILE
 * reads: `key "name" { algorithm hmac-sha256; secret "base64"; };`.
 */
export function parseKeyFile(text: string): { name: string; algorithm: string; secret: string } | string {
  const m = /key\s+"?([^"\s{]+)"?\s*\{([^}]*)\}/.exec(text);
  if (!m) return "no `key \"name\" { … };` clause";
  const body = m[2]!;
  const algorithm = /algorithm\s+"?([^";\s]+)"?\s*;/.exec(body)?.[1];
  const secret = /secret\s+"([^"]+)"\s*;/.exec(body)?.[1] ?? /secret\s+([^";\s]+)\s*;/.exec(body)?.[1];
  if (!algorithm) return "no algorithm in the key clause";
  if (!secret) return "no secret in the key clause";
  return { name: m[1]!, algorithm, secret };
}

/** Decodes a base64 secret strictly (a typo must not become a different key). */
export function decodeSecret(s: string): Buffer | null {
  const t = s.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return null;
  const b = Buffer.from(t, "base64");
  return b.length ? b : null;
}
