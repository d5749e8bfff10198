/**
 * The per-certificate jobs the fan-out (run/fanout.ts) runs in worker threads and in the main thread
 * alike: `check` (run/check-one.ts) and the offline part of `run` (run-one.ts's runOffline). Each
 * result carries the log lines it made — formatted, or as records when the main thread's logger
 * sends them to journald — for the main thread to write in name order.
 */
import { ConfigError } from "../config/errors.js";
import { ConfigLoader } from "../config/load.js";
import { EXIT } from "../report/exit.js";
import { Logger, type Fields, type Level, type LogFormat } from "../report/log.js";
import { checkOne, type CheckOutput } from "./check-one.js";
import type { RunResult } from "./result.js";
import { runOffline } from "./run-one.js";

export interface FanoutInput {
  job: "check" | "run";
  configDir: string;
  stateDir: string;
  logFormat: Exclude<LogFormat, "auto">;
  /** The command's clock reading (ms), the same in every thread. */
  now: number;
  /** check: the line or the --json object. */
  output?: "line" | "json";
}

export interface LogRecord {
  level: Level;
  event: string;
  message: string;
  fields: Fields;
}

/** One certificate's result: check's exit code and output, or run's result (null: the main thread must go on with it). */
export type FanoutOut = { code: number; out: CheckOutput | null } | RunResult | null;

export interface Item {
  out: FanoutOut;
  /** The log lines made, joined, or (journal) the records to log. */
  log: string | LogRecord[];
}

/** A logger that keeps what one certificate logs. */
class Capture extends Logger {
  private readonly sink: { lines: string[]; records: LogRecord[] };
  private readonly asRecords: boolean;

  constructor(asRecords: boolean, format: Exclude<LogFormat, "auto">) {
    const sink = { lines: [] as string[], records: [] as LogRecord[] };
    super(asRecords ? "text" : format, (line) => sink.lines.push(line));
    this.sink = sink;
    this.asRecords = asRecords;
  }

  override log(level: Level, event: string, message: string, fields: Fields = {}): void {
    if (this.asRecords) this.sink.records.push({ level, event, message, fields });
    else super.log(level, event, message, fields);
  }

  take(): string | LogRecord[] {
    const out = this.asRecords ? this.sink.records : this.sink.lines.join("");
    this.sink.lines = [];
    this.sink.records = [];
    return out;
  }
}

/** The job `input` names, as a function of one certificate name. */
export function jobOf(input: FanoutInput): (name: string) => Item {
  const configs = new ConfigLoader(input.configDir);
  const log = new Capture(input.logFormat === "journal", input.logFormat);
  const now = new Date(input.now);
  if (input.job === "check") {
    const o = { configs, stateDir: input.stateDir, now, log, output: input.output ?? "line", quiet: false } as const;
    return (name) => ({ out: checkOne(name, o), log: log.take() });
  }
  // run --force never fans out (every certificate is ordered).
  const o = { stateDir: input.stateDir, log, now: () => now, force: false };
  return (name) => {
    let config;
    try {
      config = configs.load(name);
    } catch (e) {
      // Anything else: the main thread loads it again, and fails as one thread does.
      if (!(e instanceof ConfigError)) return (log.take(), { out: null, log: "" });
      log.error("config-error", e.message, { cert: name });
      return { out: { name, outcome: "config-error", code: EXIT.CONFIG, message: e.message }, log: log.take() };
    }
    let r: RunResult | null = null;
    try {
      r = runOffline(config, o);
    } catch {
      // Unexpected: runOne in the main thread meets it again, reports it for this certificate, goes on.
    }
    const lines = log.take();
    // Going on in the main thread, which logs it all again.
    return r ? { out: r, log: lines } : { out: null, log: "" };
  };
}
