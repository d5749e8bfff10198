/**
 * RFC 2136 dynamic updates, TSIG-signed (tsig.ts): add one TXT record, delete one TXT record. The
 * update goes over TCP (no retransmission of a non-idempotent datagram, no size limit). The answer
 * is checked: its RCODE, and with a key its TSIG signature.
 */
import { DnsError, decodeAnswer, exchange, newId, serverText, type DnsServer } from "./client.js";
import { sign, verify, type TsigKey } from "./tsig.js";
import { CLASS, OPCODE, TYPE, encodeMessage, rcodeName, txtData } from "./wire.js";

export type UpdateResult = { ok: true } | { ok: false; rcode: string; why: string; auth: boolean };

export interface UpdateRequest {
  server: DnsServer;
  zone: string;
  name: string;
  value: string;
  ttl: number;
  action: "add" | "delete";
  key: TsigKey | null;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

const HINT: Readonly<Record<string, string>> = {
  REFUSED: "the server refused the update (is this key allowed to update the zone? BIND: update-policy/allow-update; Knot: acl)",
  NOTAUTH: "the server is not authoritative for the zone, or did not accept the key",
  NOTZONE: "the name is not inside the zone",
  YXDOMAIN: "a prerequisite failed",
  NXRRSET: "a prerequisite failed",
};

/** Sends one update; resolves with what the server said (transport trouble throws DnsError). */
export async function sendUpdate(u: UpdateRequest): Promise<UpdateResult> {
  const rr =
    u.action === "add"
      ? { name: u.name, type: TYPE.TXT, class: CLASS.IN, ttl: u.ttl, data: txtData(u.value) }
      : { name: u.name, type: TYPE.TXT, class: CLASS.NONE, ttl: 0, data: txtData(u.value) };
  const msg = encodeMessage({ id: newId(), opcode: OPCODE.UPDATE, rd: false, questions: [{ name: u.zone, type: TYPE.SOA, class: CLASS.IN }], authority: [rr] });
  const now = () => Math.floor(Date.now() / 1000);
  const signed = u.key ? sign(msg, u.key, now()) : { signed: msg, mac: Buffer.alloc(0) };
  const raw = await exchange(u.server, signed.signed, { timeoutMs: u.timeoutMs, signal: u.signal, tcp: true });
  const answer = decodeAnswer(u.server, raw, u.zone, TYPE.SOA);
  if (answer.id !== msg.readUInt16BE(0)) throw new DnsError("malformed", `${serverText(u.server)}: answer with another ID`);
  if (u.key) {
    const v = verify(raw, answer, u.key, signed.mac, now());
    if (!v.ok) {
      const rcode = rcodeName(answer.rcode);
      const keyText = `key "${u.key.name.replace(/\.$/, "")}" (${u.key.algorithm.replace(/\.$/, "")})`;
      return { ok: false, rcode: v.tsigError ?? rcode, why: `${v.why}; ${keyText}`, auth: true };
    }
  }
  if (answer.rcode !== 0) {
    const rcode = rcodeName(answer.rcode);
    return { ok: false, rcode, why: HINT[rcode] ?? `the server answered ${rcode}`, auth: rcode === "NOTAUTH" || rcode === "REFUSED" };
  }
  return { ok: true };
}
