/**
 * One line per event on stderr: text on a terminal, `<N>key=value` under systemd (journald reads the
 * priority prefix), or one JSON object per line.
 */
import { fstatSync } from "node:fs";
import { writeErr } from "./stdio.js";
import { createJournalSink, toJournalEntry, type JournalSink } from "../systemd/journal.js";
import { isoString } from "../util/time.js";

export type LogFormat = "auto" | "journal" | "json" | "text";
export type Level = "error" | "warning" | "notice" | "info" | "debug";
const PRIORITY: Record<Level, number> = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export type Fields = Record<string, string | number | boolean | null | undefined | Date>;

const SECRET = /(hmac|secret|password|token|private|accountkey)/i;

function fmtValue(v: Exclude<Fields[string], undefined>): string {
  // Dates, numbers, booleans and null print as they are (check --all formats 50,000 of them).
  if (typeof v !== "string") return v instanceof Date ? isoString(v) : String(v);
  return /^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v);
}

/** Field names are few and fixed: whether one is secret, asked once each. */
const secretKeys = new Map<string, boolean>();
const isSecretKey = (k: string): boolean => {
  let s = secretKeys.get(k);
  if (s === undefined) {
    s = SECRET.test(k);
    if (secretKeys.size < 256) secretKeys.set(k, s);
  }
  return s;
};

/** Is stderr the journal stream systemd told us about (JOURNAL_STREAM=dev:ino)? */
function stderrIsJournal(env: NodeJS.ProcessEnv): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  const [dev, ino] = js.split(":");
  try {
    const st = fstatSync(2);
    return String(st.dev) === dev && String(st.ino) === ino;
  } catch {
    return false;
  }
}

export class Logger {
  readonly format: Exclude<LogFormat, "auto">;
  /** Under systemd: structured entries through journald's native socket, when it is there. */
  private readonly journal: JournalSink | null;

  constructor(
    format: LogFormat = "auto",
    private write: (line: string) => void = writeErr,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.format = format !== "auto" ? format : stderrIsJournal(env) ? "journal" : "text";
    this.journal = this.format === "journal" ? createJournalSink({ fallback: (e) => this.write(e.line ?? `<${e.priority}>${e.message}\n`) }) : null;
    if (this.journal) Logger.open.add(this.journal);
  }

  private static readonly open = new Set<JournalSink>();

  /** Waits for journal entries in flight (call before the process ends). */
  static async closeAll(): Promise<void> {
    await Promise.all([...Logger.open].map((j) => j.close()));
    Logger.open.clear();
  }

  log(level: Level, event: string, message: string, fields: Fields = {}): void {
    const clean: Record<string, Exclude<Fields[string], undefined>> = {};
    for (const k in fields) {
      const v = fields[k];
      if (v !== undefined) clean[k] = isSecretKey(k) ? "[redacted]" : v;
    }
    let line: string;
    switch (this.format) {
      case "json":
        line = JSON.stringify({
          time: new Date().toISOString(),
          level,
          event,
          ...Object.fromEntries(Object.entries(clean).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])),
          msg: message,
        });
        break;
      case "journal":
        line = `<${PRIORITY[level]}>${[`event=${event}`, ...Object.entries(clean).map(([k, v]) => `${k}=${fmtValue(v)}`), `msg=${fmtValue(message)}`].join(" ")}`;
        if (this.journal?.available) {
          void this.journal.write(toJournalEntry(level, event, message, clean, `${line}\n`));
          return;
        }
        break;
      case "text": {
        let kv = "";
        for (const k in clean) kv += `${kv ? " " : ""}${k}=${fmtValue(clean[k]!)}`;
        // One event, one line: control characters (a newline in a config key, say) are escaped.
        const msg = message.replace(/[\x00-\x1f\x7f]/g, (c) => (c === "\n" ? "\\n" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
        line = `${level}: ${clean.cert !== undefined ? `${String(clean.cert)}: ` : ""}${msg}${kv ? ` [event=${event} ${kv}]` : ` [event=${event}]`}`;
        break;
      }
    }
    this.write(`${line}\n`);
  }

  error(event: string, message: string, fields?: Fields) {
    this.log("error", event, message, fields);
  }
  warn(event: string, message: string, fields?: Fields) {
    this.log("warning", event, message, fields);
  }
  notice(event: string, message: string, fields?: Fields) {
    this.log("notice", event, message, fields);
  }
  info(event: string, message: string, fields?: Fields) {
    this.log("info", event, message, fields);
  }
  debug(event: string, message: string, fields?: Fields) {
    if (process.env.ACME_RENEW_DEBUG) this.log("debug", event, message, fields);
  }

  /** Sends the lines to `write` from now on (a terminal's status line keeps them above itself). */
  redirect(write: (line: string) => void): void {
    this.write = write;
  }

  /** A logger that adds `fields` to every line (e.g. cert=name). */
  child(fields: Fields): Logger {
    const parent = this;
    const c = Object.create(parent) as Logger;
    c.log = (level, event, message, more = {}) => parent.log(level, event, message, { ...fields, ...more });
    return c;
  }
}
