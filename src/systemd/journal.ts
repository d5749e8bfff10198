/**
 * Structured journal entries on journald's native socket (MESSAGE_ID=, ACME_EVENT=, ACME_CERT=, …),
 * sent with the optional native module node-unix-socket, loaded on the first write. Without it, or
 * when an entry fails to go out, the caller's `<N>key=value` line goes to stderr instead. Why a native
 * module and not `logger --journald`, and how MESSAGE_ID is derived: systemd/README.md, "Logs".
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { writeErr } from "../report/stdio.js";

export const JOURNAL_SOCKET = "/run/systemd/journal/socket";
export const SYSLOG_IDENTIFIER = "acme-renew";
/** The optional native module providing AF_UNIX datagram sockets. */
export const NATIVE_MODULE = "node-unix-socket";

export interface JournalEntry {
  /** syslog priority 0–7 (3 error, 4 warning, 5 notice, 6 info, 7 debug). */
  priority: number;
  message: string;
  /** Further fields; names are journal field names (A–Z, 0–9, _; not starting with _ or a digit). */
  fields: Record<string, string>;
  /** The line to write to stderr instead, should this entry not reach journald. */
  line?: string;
}

export interface JournalSink {
  /** Entries written now go to journald (the socket exists and the native module is there). */
  readonly available: boolean;
  /** Why not, when not available. */
  readonly reason: string | null;
  /** Sends one entry (or hands it to the fallback). Never rejects. */
  write(entry: JournalEntry): Promise<void>;
  /** Waits for entries in flight and closes the socket. Later writes go to the fallback. */
  close(): Promise<void>;
}

/** The part of node-unix-socket's DgramSocket used here. */
interface DgramSocket {
  sendTo(buf: Buffer, offset: number, length: number, destPath: string, onWrite?: (err: Error | undefined) => void): void;
  close(): void;
  on(event: "error", listener: (err: Error) => void): unknown;
}
type DgramSocketClass = new () => DgramSocket;

export interface JournalSinkOptions {
  /** Default /run/systemd/journal/socket. */
  socketPath?: string;
  /** Default "acme-renew". */
  identifier?: string;
  /** Receives entries that did not reach journald. Default: entry.line, or `<priority>message`, to stderr. */
  fallback?: (entry: JournalEntry) => void;
  /** Loads the DgramSocket class (tests); default: require("node-unix-socket").DgramSocket. */
  load?: () => DgramSocketClass;
}

// ---------------------------------------------------------------------------------------------
// Field names, MESSAGE_ID, the mapping from the Logger's events and fields.

const FIELD = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Fields set by the sink itself. */
const OWN = new Set(["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"]);
/** A value is cut beyond this (a datagram must stay well below the socket's send buffer). */
const MAX_VALUE = 64 * 1024;
/** Bound of one send (normally immediate; longer only while journald's queue is full). */
const SEND_TIMEOUT_MS = 1000;

/** MESSAGE_ID for an event: first 128 bits of SHA-256("acme-renew/message-id/v1\n" + event), hex. */
export function messageIdFor(event: string): string {
  return createHash("sha256").update(`acme-renew/message-id/v1\n${event}`).digest("hex").slice(0, 32);
}

/** Outcome of a certificate's run (src/run/result.ts RunOutcome) by the event that reports it. */
const OUTCOME_BY_EVENT: Record<string, string> = {
  "not-due": "not-due",
  renewed: "renewed",
  synced: "synced",
  "soft-failure": "soft-failure",
  failure: "failure",
  "hook-failed": "hook-failed",
  "hooks-ok": "hooks-ok",
  busy: "busy",
  backoff: "waiting",
  "config-error": "config-error",
};

const LEVEL_PRIORITY: Record<string, number> = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

/** "not_after" → "ACME_NOT_AFTER", "requests" → "ACME_REQUESTS". */
export function fieldName(key: string): string {
  return `ACME_${key.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`.slice(0, 64);
}

type FieldValue = string | number | boolean | null | undefined | Date;

/**
 * A journal entry for one Logger event: `fields` as the Logger has them after redaction (its `clean`
 * map). cert → ACME_CERT, not_after → ACME_NOT_AFTER (ISO 8601), outcome (or the event, for the
 * events that report an outcome) → ACME_OUTCOME, any other key k → ACME_<K>.
 */
export function toJournalEntry(level: string, event: string, message: string, fields: Record<string, FieldValue>, line?: string): JournalEntry {
  const out: Record<string, string> = { MESSAGE_ID: messageIdFor(event), ACME_EVENT: event };
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null) continue;
    out[fieldName(k)] = v instanceof Date ? v.toISOString() : String(v);
  }
  const outcome = OUTCOME_BY_EVENT[event];
  if (out.ACME_OUTCOME === undefined && outcome !== undefined) out.ACME_OUTCOME = outcome;
  return { priority: LEVEL_PRIORITY[level] ?? 6, message, fields: out, ...(line !== undefined ? { line } : {}) };
}

// ---------------------------------------------------------------------------------------------
// The native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL): "NAME=value\n" per field, or, for a
// value containing a newline, "NAME\n" + 64-bit little-endian length + value + "\n".

function field(name: string, value: string): Buffer {
  let v = Buffer.from(value, "utf8");
  if (v.length > MAX_VALUE) v = Buffer.concat([v.subarray(0, MAX_VALUE), Buffer.from("…")]);
  if (!v.includes(0x0a)) return Buffer.concat([Buffer.from(`${name}=`), v, Buffer.from("\n")]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(v.length));
  return Buffer.concat([Buffer.from(`${name}\n`), len, v, Buffer.from("\n")]);
}

/** The datagram for one entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, then the valid extra fields. */
export function encodeEntry(entry: JournalEntry, identifier = SYSLOG_IDENTIFIER): Buffer {
  const parts = [
    field("MESSAGE", entry.message),
    field("PRIORITY", String(Math.min(7, Math.max(0, Math.trunc(entry.priority) || 0)))),
    field("SYSLOG_IDENTIFIER", identifier),
  ];
  for (const [k, v] of Object.entries(entry.fields)) {
    if (FIELD.test(k) && !OWN.has(k)) parts.push(field(k, v));
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------

function defaultFallback(entry: JournalEntry): void {
  try {
    writeErr(entry.line ?? `<${entry.priority}>${entry.message.replace(/\n/g, " ")}\n`);
  } catch {
    /* nowhere left to write */
  }
}

function defaultLoad(): DgramSocketClass {
  // A variable specifier: no compile-time dependency, and esbuild leaves it to run time.
  const name: string = NATIVE_MODULE;
  const mod = createRequire(import.meta.url)(name) as { DgramSocket?: DgramSocketClass };
  if (typeof mod.DgramSocket !== "function") throw new Error(`${name} has no DgramSocket`);
  return mod.DgramSocket;
}

function resolvable(): boolean {
  try {
    createRequire(import.meta.url).resolve(NATIVE_MODULE);
    return true;
  } catch {
    return false;
  }
}

/**
 * Cheap and synchronous: checks that the socket exists (and, without `load`, that the module can be
 * resolved) but loads nothing; the module is loaded and a socket opened on the first write. The
 * socket is closed again whenever nothing is in flight, so it never keeps the process alive.
 */
export function createJournalSink(o: JournalSinkOptions = {}): JournalSink {
  const socketPath = o.socketPath ?? JOURNAL_SOCKET;
  const identifier = o.identifier ?? SYSLOG_IDENTIFIER;
  const fallback = o.fallback ?? defaultFallback;
  const load = o.load ?? defaultLoad;

  let reason: string | null = null;
  try {
    if (!statSync(socketPath).isSocket()) reason = `${socketPath} is not a socket`;
  } catch {
    reason = `no journald socket at ${socketPath}`;
  }
  if (reason === null && !o.load && !resolvable()) reason = `${NATIVE_MODULE} is not installed`;

  let Socket: DgramSocketClass | null = null;
  let sock: DgramSocket | null = null;
  let inFlight = 0;
  let idle: Promise<void> = Promise.resolve();
  let markIdle: (() => void) | null = null;
  let closed = false;
  let closeScheduled = false;

  const fail = (entry: JournalEntry) => {
    try {
      fallback(entry);
    } catch {
      /* the fallback must not break the caller */
    }
  };

  const closeSocket = () => {
    if (!sock) return;
    const s = sock;
    sock = null;
    try {
      s.close();
    } catch {
      /* already closed after an error */
    }
  };

  const open = (): DgramSocket | null => {
    if (sock) return sock;
    try {
      Socket ??= load();
      const s = new Socket();
      s.on("error", () => {
        // The wrapper closes itself on a receive error; a new socket is opened on the next write.
        if (sock === s) sock = null;
      });
      sock = s;
      return s;
    } catch (e) {
      reason = `${NATIVE_MODULE} cannot be loaded: ${(e as Error).message}`;
      return null;
    }
  };

  const settle = () => {
    inFlight--;
    if (inFlight > 0) return;
    markIdle?.();
    markIdle = null;
    // Close once the current burst of writes is out: the socket's poll handle would keep Node alive.
    if (!closeScheduled) {
      closeScheduled = true;
      setImmediate(() => {
        closeScheduled = false;
        if (inFlight === 0) closeSocket();
      });
    }
  };

  const write = (entry: JournalEntry): Promise<void> => {
    if (closed || reason !== null) {
      fail(entry);
      return Promise.resolve();
    }
    const s = open();
    if (!s) {
      fail(entry);
      return Promise.resolve();
    }
    const buf = encodeEntry(entry, identifier);
    if (inFlight === 0) idle = new Promise((r) => (markIdle = r));
    inFlight++;
    return new Promise<void>((resolve) => {
      let done = false;
      // A send the module never calls back (its socket closed itself with the entry still queued):
      // do not wait for ever.
      const timer = setTimeout(() => finish(new Error("journald send timed out")), SEND_TIMEOUT_MS);
      timer.unref();
      const finish = (err: Error | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        // ENOENT/ECONNREFUSED (journald restarting), EMSGSIZE, …: this entry goes to stderr instead.
        if (err) fail(entry);
        settle();
        resolve();
      };
      try {
        s.sendTo(buf, 0, buf.length, socketPath, finish);
      } catch (e) {
        finish(e as Error);
      }
    });
  };

  return {
    get available() {
      return !closed && reason === null;
    },
    get reason() {
      return closed ? "closed" : reason;
    },
    write,
    async close() {
      closed = true;
      await idle;
      closeSocket();
    },
  };
}
