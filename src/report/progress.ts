/**
 * `run` over several certificates on a terminal: one status line, rewritten in place, with how many
 * are done and the stage of each running one; log lines are written above it. Loaded only on a
 * terminal (never under systemd, never when stderr is a pipe or file).
 */
export interface Terminal {
  write(s: string): unknown;
  columns?: number;
}

const CLEAR = "\r\x1b[K";

export class Progress {
  private readonly running = new Map<string, string>();
  private done = 0;
  private shown = false;
  private readonly outcomes = new Map<string, number>();

  constructor(
    private readonly term: Terminal,
    private readonly total: number,
  ) {}

  start(name: string): void {
    this.running.set(name, "checking");
    this.draw();
  }

  /** A stage as sd_notify's STATUS= says it: "<name>: <stage>". */
  status(text: string): void {
    const i = text.indexOf(": ");
    const name = i > 0 ? text.slice(0, i) : "";
    if (!this.running.has(name)) return;
    this.running.set(name, text.slice(i + 2));
    this.draw();
  }

  finish(name: string, outcome: string): void {
    this.running.delete(name);
    this.done++;
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    this.draw();
  }

  /** Writes a log line above the status line. */
  readonly write = (line: string): void => {
    this.term.write(`${this.shown ? CLEAR : ""}${line}`);
    this.shown = false;
    this.draw();
  };

  /** Clears the status line; returns the summary ("3 certificates: 2 not-due, 1 renewed"). */
  end(): string {
    if (this.shown) this.term.write(CLEAR);
    this.shown = false;
    return `${this.total} certificates: ${[...this.outcomes].map(([k, v]) => `${v} ${k}`).join(", ")}`;
  }

  private draw(): void {
    if (this.done === this.total && !this.running.size) return;
    const width = Math.max(20, (this.term.columns ?? 80) - 1);
    const stages = [...this.running].map(([n, s]) => `${n} (${s})`).join(", ");
    let text = `[${this.done}/${this.total}]${stages ? ` ${stages}` : ""}`;
    if (text.length > width) text = `${text.slice(0, width - 1)}…`;
    this.term.write(`${CLEAR}${text}`);
    this.shown = true;
  }
}
