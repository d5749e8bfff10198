/**
 * Every external program acme-renew starts (reloads, postRun, DNS hooks, flock) goes through
 * `runProgram`. The program runs in its own process group; on timeout or abort the whole group gets
 * SIGTERM, then SIGKILL after a grace, and we stop waiting on its pipes — so a grandchild that hangs
 * (`sh -c "curl …"`) or ignores SIGTERM can never hold the run (and its lock) past timeout + grace.
 * A program that exits while something it started still holds its output gets the same treatment
 * after a short linger. node:child_process only (no execa): this module also serves the lock.
 */
import { spawn, type ChildProcess } from "node:child_process";

/** SIGTERM → SIGKILL. */
export const KILL_GRACE_MS = 5_000;
/** After the program exits: how long processes it left behind may still hold its output. */
const LINGER_MS = 1_000;
/** After SIGKILL: how long we wait for the kernel to deliver it before we stop waiting at all. */
const AFTER_KILL_MS = 2_000;
const POLL_MS = 50;
const MAX_OUTPUT = 64 * 1024;

export interface SpawnOptions {
  /** The child's whole environment (default: ours). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The process tree is stopped after this long. */
  timeoutMs: number;
  /** The run's deadline: aborting stops the process tree the same way. */
  signal?: AbortSignal;
  /** SIGTERM → SIGKILL (default KILL_GRACE_MS). */
  graceMs?: number;
  /** Open file descriptors handed to the child as fd 3, 4, … (the lock hands flock(1) its file). */
  fds?: number[];
}

export type SpawnEnd =
  /** The program exited (by itself or from a signal not sent by us). */
  | "exited"
  | "timed-out"
  | "aborted"
  /** It could not be started (`error` says why: ENOENT, EACCES …). */
  | "spawn-failed";

export interface SpawnResult {
  end: SpawnEnd;
  /** Exited with status 0. */
  ok: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr as they came, up to 64 KiB. */
  output: string;
  error?: string;
  /** Processes of its group outlived it holding its output, or ignored SIGKILL: we stopped them / stopped waiting. */
  leftovers: boolean;
  ms: number;
}

/** Groups still running: stopped when we exit or are stopped, so that nothing we started outlives us by accident. */
const live = new Set<number>();
let exitHook = false;

function signalGroup(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false; // ESRCH: nobody left in the group
  }
}

export function runProgram(file: string, args: readonly string[], o: SpawnOptions): Promise<SpawnResult> {
  const t0 = Date.now();
  const grace = o.graceMs ?? KILL_GRACE_MS;
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const g of live) signalGroup(g, "SIGKILL");
    });
    // Its own group does not get the terminal's Ctrl-C: pass such a signal on, then die of it as before.
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
      process.once(sig, () => {
        for (const g of live) signalGroup(g, "SIGTERM");
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig); // nobody else handles it
      });
  }
  return new Promise((resolve) => {
    let child: ChildProcess;
    const chunks: Buffer[] = [];
    let size = 0;
    let end: SpawnEnd = "exited";
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let openPipes = 2;
    let leftovers = false;
    let stopping = false;
    let settled = false;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, f: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        f();
      }, ms);
      timers.add(t);
    };

    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener("abort", onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (child.pid !== undefined && !signalGroup(child.pid, 0)) live.delete(child.pid);
      const r: SpawnResult = {
        end: error !== undefined ? "spawn-failed" : end,
        ok: error === undefined && end === "exited" && exit?.code === 0,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        output: Buffer.concat(chunks).toString("utf8"),
        leftovers,
        ms: Date.now() - t0,
      };
      if (error !== undefined) r.error = error;
      resolve(r);
    };
    const done = () => {
      if (exit && openPipes === 0) finish();
    };

    /** TERM to the group, KILL after the grace (or as soon as the group is empty), then stop waiting. */
    const stop = (why: SpawnEnd) => {
      if (stopping || settled) return;
      stopping = true;
      if (why !== "exited") end = why;
      const pgid = child.pid!;
      signalGroup(pgid, "SIGTERM");
      const killAt = Date.now() + grace;
      let killed = false;
      const poll = () => {
        if (settled) return;
        if (!signalGroup(pgid, 0)) {
          live.delete(pgid);
          // Everyone is gone; pipes held by a process that left the group do not keep us.
          if (exit) return finish();
        }
        const now = Date.now();
        if (!killed && now >= killAt) {
          signalGroup(pgid, "SIGKILL");
          killed = true;
        }
        if (killed && now >= killAt + AFTER_KILL_MS) {
          leftovers = true; // unkillable (D state) or not reaped: we stop waiting
          return finish();
        }
        later(POLL_MS, poll);
      };
      later(POLL_MS, poll);
    };
    const onAbort = () => stop("aborted");

    try {
      child = spawn(file, [...args], {
        detached: true, // setsid(): its own process group, which we can signal as a whole
        stdio: ["ignore", "pipe", "pipe", ...(o.fds ?? [])],
        env: o.env ?? process.env,
        ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
      });
    } catch (e) {
      // Synchronous refusals (bad arguments); a missing file arrives as an 'error' event.
      child = { pid: undefined } as ChildProcess;
      return finish((e as NodeJS.ErrnoException).code ?? String(e));
    }
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish(e.code ?? e.message);
    });
    if (child.pid === undefined) return; // the 'error' event follows
    live.add(child.pid);
    for (const s of [child.stdout!, child.stderr!]) {
      s.on("data", (d: Buffer) => {
        if (size >= MAX_OUTPUT) return;
        chunks.push(d.subarray(0, MAX_OUTPUT - size));
        size += d.length;
      });
      s.on("close", () => {
        openPipes--;
        done();
      });
    }
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      if (openPipes === 0) return done();
      // Something it started still holds the output: give it a moment, then stop the group.
      if (!stopping)
        later(LINGER_MS, () => {
          if (settled) return;
          leftovers = true;
          stop("exited");
        });
    });
    later(o.timeoutMs, () => stop("timed-out"));
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** "exit code 3", "timed out after 60s", … for one-line errors. */
export function describeEnd(r: SpawnResult, timeoutMs: number): string {
  switch (r.end) {
    case "timed-out":
      return `timed out after ${Math.round(timeoutMs / 1000)}s`;
    case "aborted":
      return "cancelled (run deadline)";
    case "spawn-failed":
      return `could not be started (${r.error})`;
    case "exited":
      return r.exitCode !== null ? `exit code ${r.exitCode}` : `killed by ${r.signal}`;
  }
}

/** The first `max` non-empty lines of the output, for the log. */
export function outputLines(r: SpawnResult, max: number): string[] {
  return r.output.split("\n").filter((l) => l.trim() !== "").slice(0, max);
}
