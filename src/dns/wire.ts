/**
 * DNS messages on the wire (RFC 1035 §4, RFC 2136 for UPDATE): encode queries and updates, decode
 * answers. Names are absolute, with the trailing dot ("example.com."). Decoding follows compression
 * pointers (bounded), encoding never compresses.
 */
export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, OPT: 41, TSIG: 250, ANY: 255 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;
export const RCODE: Readonly<Record<number, string>> = {
  0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
  7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 22: "BADTRUNC",
};
export const rcodeName = (n: number) => RCODE[n] ?? `RCODE${n}`;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface RR {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Raw RDATA (names inside it already decompressed for NS, CNAME, SOA). */
  data: Buffer;
  /** TXT: the character-strings. */
  txt?: string[];
  /** NS, CNAME: the target name. */
  target?: string;
  /** A, AAAA. */
  address?: string;
  soa?: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
}

export interface Message {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: Question[];
  /** UPDATE: the prerequisite section. */
  answers: RR[];
  /** UPDATE: the update section. */
  authority: RR[];
  additional: RR[];
  /** Byte offset of a TSIG record at the end of the additional section (for verification), or -1. */
  tsigOffset: number;
}

export class WireError extends Error {}

/** "Example.COM" / "example.com." → "example.com." (lower case, absolute). */
export function fqdn(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith(".") ? n : `${n}.`;
}

export function encodeName(name: string): Buffer {
  const n = name === "." ? "" : name.replace(/\.$/, "");
  const parts: Buffer[] = [];
  let total = 1;
  if (n !== "") {
    for (const label of n.split(".")) {
      const b = Buffer.from(label, "ascii");
      if (b.length === 0 || b.length > 63) throw new WireError(`bad label in name "${name}"`);
      parts.push(Buffer.from([b.length]), b);
      total += b.length + 1;
    }
  }
  if (total > 255) throw new WireError(`name "${name}" is longer than 255 octets`);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** TXT RDATA: the value as character-strings of at most 255 octets. */
export function txtData(value: string): Buffer {
  const b = Buffer.from(value, "utf8");
  const parts: Buffer[] = [];
  for (let i = 0; i === 0 || i < b.length; i += 255) {
    const chunk = b.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function encodeRR(rr: { name: string; type: number; class: number; ttl: number; data: Buffer }): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(rr.type, 0);
  head.writeUInt16BE(rr.class, 2);
  head.writeUInt32BE(rr.ttl >>> 0, 4);
  head.writeUInt16BE(rr.data.length, 8);
  return Buffer.concat([encodeName(rr.name), head, rr.data]);
}

export interface Outgoing {
  id: number;
  opcode: number;
  rd: boolean;
  questions: Question[];
  answers?: Array<Parameters<typeof encodeRR>[0]>;
  authority?: Array<Parameters<typeof encodeRR>[0]>;
  additional?: Array<Parameters<typeof encodeRR>[0]>;
  /** Add an EDNS0 OPT record advertising this UDP payload size. */
  edns?: number;
}

export function encodeMessage(m: Outgoing): Buffer {
  const additional = [...(m.additional ?? [])];
  if (m.edns) additional.push({ name: ".", type: TYPE.OPT, class: m.edns, ttl: 0, data: Buffer.alloc(0) });
  const head = Buffer.alloc(12);
  head.writeUInt16BE(m.id, 0);
  head.writeUInt16BE(((m.opcode & 0xf) << 11) | (m.rd ? 0x0100 : 0), 2);
  head.writeUInt16BE(m.questions.length, 4);
  head.writeUInt16BE(m.answers?.length ?? 0, 6);
  head.writeUInt16BE(m.authority?.length ?? 0, 8);
  head.writeUInt16BE(additional.length, 10);
  const qs = m.questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)]));
  return Buffer.concat([head, ...qs, ...(m.answers ?? []).map(encodeRR), ...(m.authority ?? []).map(encodeRR), ...additional.map(encodeRR)]);
}

/** A query for one name and type (RD set for a recursive resolver, clear for an authoritative server). */
export function encodeQuery(id: number, name: string, type: number, recursive: boolean): Buffer {
  return encodeMessage({ id, opcode: OPCODE.QUERY, rd: recursive, questions: [{ name, type, class: CLASS.IN }], edns: 1232 });
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new WireError("truncated message");
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    for (let hops = 0; ; hops++) {
      if (hops > 127) throw new WireError("name compression loop");
      if (pos >= this.buf.length) throw new WireError("truncated name");
      const len = this.buf[pos]!;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new WireError("truncated name pointer");
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if (len & 0xc0) throw new WireError("unsupported label type");
      if (len === 0) {
        if (!jumped) this.pos = pos + 1;
        break;
      }
      if (pos + 1 + len > this.buf.length) throw new WireError("truncated label");
      labels.push(this.buf.toString("latin1", pos + 1, pos + 1 + len));
      pos += 1 + len;
    }
    return labels.length ? `${labels.join(".")}.` : ".";
  }
}

function readRR(r: Reader): RR {
  const name = r.name();
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  const start = r.pos;
  const data = r.bytes(len);
  const rr: RR = { name, type, class: cls, ttl, data };
  const sub = new Reader(r.buf, start);
  switch (type) {
    case TYPE.TXT: {
      const txt: string[] = [];
      while (sub.pos < start + len) txt.push(sub.bytes(sub.u8()).toString("utf8"));
      rr.txt = txt;
      break;
    }
    case TYPE.NS:
    case TYPE.CNAME:
      rr.target = sub.name();
      break;
    case TYPE.SOA:
      rr.soa = { mname: sub.name(), rname: sub.name(), serial: sub.u32(), refresh: sub.u32(), retry: sub.u32(), expire: sub.u32(), minimum: sub.u32() };
      break;
    case TYPE.A:
      if (len === 4) rr.address = [...data].join(".");
      break;
    case TYPE.AAAA:
      if (len === 16) rr.address = Array.from({ length: 8 }, (_, i) => data.readUInt16BE(i * 2).toString(16)).join(":");
      break;
  }
  if (sub.pos > start + len) throw new WireError(`record of type ${type} overruns its RDATA`);
  return rr;
}

export function decodeMessage(buf: Buffer): Message {
  const r = new Reader(buf);
  const id = r.u16();
  const flags = r.u16();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()] as const;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) questions.push({ name: r.name(), type: r.u16(), class: r.u16() });
  const section = (n: number) => Array.from({ length: n }, () => readRR(r));
  const answers = section(counts[1]);
  const authority = section(counts[2]);
  const additional: RR[] = [];
  let tsigOffset = -1;
  for (let i = 0; i < counts[3]; i++) {
    const at = r.pos;
    const rr = readRR(r);
    if (rr.type === TYPE.TSIG) tsigOffset = i === counts[3] - 1 ? at : -2;
    additional.push(rr);
  }
  if (tsigOffset === -2) throw new WireError("TSIG record is not the last record");
  return {
    id,
    qr: !!(flags & 0x8000),
    opcode: (flags >> 11) & 0xf,
    aa: !!(flags & 0x0400),
    tc: !!(flags & 0x0200),
    rd: !!(flags & 0x0100),
    ra: !!(flags & 0x0080),
    rcode: flags & 0xf,
    questions,
    answers,
    authority,
    additional,
    tsigOffset,
  };
}

/** Same DNS name (case-insensitive, trailing dot optional)? */
export function nameEq(a: string, b: string): boolean {
  return fqdn(a) === fqdn(b);
}
