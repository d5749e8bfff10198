/**
 * Sending DNS messages: UDP with a retransmission, TCP when the answer is truncated (or for UPDATE
 * when asked), each exchange bounded in time and by the run's abort signal. The answer must carry
 * the query's ID and question (a stray or spoofed datagram is ignored).
 */
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { isIPv6, Socket } from "node:net";
import type { DnsServer } from "../config/names.js";
import { decodeMessage, encodeQuery, nameEq, rcodeName, type Message } from "./wire.js";

export type { DnsServer };

export class DnsError extends Error {
  constructor(
    readonly kind: "timeout" | "network" | "malformed" | "rcode",
    message: string,
  ) {
    super(message);
    this.name = "DnsError";
  }
}

export const serverText = (s: DnsServer) => (isIPv6(s.host) ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`);

export interface ExchangeOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Send over TCP from the start. */
  tcp?: boolean;
}

export const newId = () => randomInt(0, 0x10000);

function abortError(server: DnsServer): DnsError {
  return new DnsError("timeout", `${serverText(server)}: cancelled (deadline)`);
}

function udp(server: DnsServer, msg: Buffer, o: ExchangeOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    const id = msg.readUInt16BE(0);
    let done = false;
    const finish = (err: Error | null, answer?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(resend);
      o.signal?.removeEventListener("abort", onAbort);
      sock.close();
      if (err) reject(err);
      else resolve(answer!);
    };
    const onAbort = () => finish(abortError(server));
    const send = () => sock.send(msg, server.port, server.host, (e) => e && finish(new DnsError("network", `${serverText(server)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    const timer = setTimeout(() => finish(new DnsError("timeout", `${serverText(server)}: no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    // One datagram may be lost: send again after a second (the answer to either will do).
    const resend = setInterval(send, Math.max(500, Math.min(1000, o.timeoutMs / 2)));
    sock.on("message", (answer) => {
      if (answer.length >= 2 && answer.readUInt16BE(0) === id) finish(null, answer);
    });
    sock.on("error", (e: NodeJS.ErrnoException) => finish(new DnsError("network", `${serverText(server)}: ${e.code ?? e.message}`)));
    if (o.signal?.aborted) return finish(abortError(server));
    o.signal?.addEventListener("abort", onAbort, { once: true });
    send();
  });
}

function tcp(server: DnsServer, msg: Buffer, o: ExchangeOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | null, answer?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const onAbort = () => finish(abortError(server));
    const timer = setTimeout(() => finish(new DnsError("timeout", `${serverText(server)} (TCP): no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(null, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on("error", (e: NodeJS.ErrnoException) => finish(new DnsError("network", `${serverText(server)} (TCP): ${e.code ?? e.message}`)));
    sock.on("close", () => finish(new DnsError("network", `${serverText(server)} (TCP): connection closed before the answer`)));
    if (o.signal?.aborted) return finish(abortError(server));
    o.signal?.addEventListener("abort", onAbort, { once: true });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(msg.length);
    sock.connect(server.port, server.host, () => sock.write(Buffer.concat([len, msg])));
  });
}

/** Sends one message to one server; returns the raw answer (UDP, then TCP when truncated). */
export async function exchange(server: DnsServer, msg: Buffer, o: ExchangeOptions): Promise<Buffer> {
  if (o.tcp) return tcp(server, msg, o);
  const answer = await udp(server, msg, o);
  if (answer.length >= 4 && answer[2]! & 0x02) return tcp(server, msg, o);
  return answer;
}

export function decodeAnswer(server: DnsServer, raw: Buffer, name: string, type: number): Message {
  let m: Message;
  try {
    m = decodeMessage(raw);
  } catch (e) {
    throw new DnsError("malformed", `${serverText(server)}: malformed answer (${(e as Error).message})`);
  }
  const q = m.questions[0];
  if (!m.qr || !q || q.type !== type || !nameEq(q.name, name)) throw new DnsError("malformed", `${serverText(server)}: the answer does not match the question`);
  return m;
}

export interface QueryOptions {
  recursive: boolean;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/** One query to one server. NOERROR and NXDOMAIN are answers; other codes are DnsError("rcode"). */
export async function queryOne(server: DnsServer, name: string, type: number, o: QueryOptions): Promise<Message> {
  const raw = await exchange(server, encodeQuery(newId(), name, type, o.recursive), { timeoutMs: o.timeoutMs ?? 5000, signal: o.signal });
  const m = decodeAnswer(server, raw, name, type);
  if (m.rcode !== 0 && m.rcode !== 3) throw new DnsError("rcode", `${serverText(server)} answered ${rcodeName(m.rcode)} for ${name}`);
  return m;
}

/** The first answer any of `servers` gives (in order); the last error when none answers. */
export async function query(servers: DnsServer[], name: string, type: number, o: QueryOptions): Promise<Message> {
  let last: Error = new DnsError("network", "no DNS server to ask");
  for (const s of servers) {
    try {
      return await queryOne(s, name, type, o);
    } catch (e) {
      last = e as Error;
      if (o.signal?.aborted) break;
    }
  }
  throw last;
}
