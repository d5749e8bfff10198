/**
 * `--all` over many certificates on several cores. The offline per-certificate job (run/fanout-jobs.ts)
 * runs in worker threads and in this thread alike, a chunk of names at a time handed out by a shared
 * counter; the items come back in name order, each with its log lines, for the caller to print as a
 * single thread would have. A worker that cannot start, fails or dies leaves its chunks to this
 * thread. Callers fan out from FANOUT_MIN certificates (run/fanout-limits.ts); with one processor no
 * worker is started. Measured in bench/precheck.mjs --fleet.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { jobOf, type FanoutInput, type Item } from "./fanout-jobs.js";
import type { Logger } from "../report/log.js";
import { writeErr } from "../report/stdio.js";

const CHUNK = 100;
const MAX_THREADS = 8;
const WORKER = new URL("./fanout-worker.js", import.meta.url);

export interface FanoutOptions {
  /** Threads in all, this one included (default: the processors we may use, at most 8). */
  threads?: number;
  /** The worker's module (tests give one that fails). */
  worker?: URL;
  /** This thread claims chunks too while the workers start (default); false leaves it to them, should they deliver. */
  mainTakesPart?: boolean;
}

/**
 * The job's items for `names`, in order, and how many chunks worker threads delivered. Should the
 * job throw (unexpected: jobs report what they expect as items), `error` is the first such error in
 * name order and `items` what came before it — what one thread would have done before failing.
 */
export async function fanout(names: string[], input: FanoutInput, o: FanoutOptions = {}): Promise<{ items: Item[]; byWorkers: number; error?: unknown }> {
  const chunks = Math.ceil(names.length / CHUNK);
  const threads = Math.max(1, Math.min(o.threads ?? availableParallelism(), MAX_THREADS, chunks));
  const counter = new SharedArrayBuffer(4);
  const claims = new Int32Array(counter);
  const done: Array<Item[] | undefined> = new Array(chunks);
  const exited: Array<Promise<void>> = [];
  let byWorkers = 0;
  for (let i = 1; i < threads; i++) {
    try {
      const w = new Worker(o.worker ?? WORKER, { workerData: { input, names, chunk: CHUNK, counter }, stdout: true, stderr: true });
      w.on("message", (m: { k: number; items: Item[] | null }) => {
        if (m.items) (done[m.k] = m.items), byWorkers++;
      });
      exited.push(new Promise((resolve) => (w.on("error", () => {}), w.once("exit", () => resolve()))));
    } catch {
      break; // no worker: this thread does it all
    }
  }
  const job = jobOf(input);
  const failed = new Map<number, { items: Item[]; error: unknown }>();
  const chunkOf = (k: number): Item[] | null => {
    const items: Item[] = [];
    for (const name of names.slice(k * CHUNK, (k + 1) * CHUNK)) {
      try {
        items.push(job(name));
      } catch (error) {
        failed.set(k, { items, error });
        return null;
      }
    }
    return items;
  };
  if (o.mainTakesPart !== false || !exited.length) {
    for (let k = Atomics.add(claims, 0, 1); k < chunks; k = Atomics.add(claims, 0, 1)) {
      const items = chunkOf(k);
      if (!items) break;
      done[k] = items;
    }
  }
  await Promise.all(exited);
  const items: Item[] = [];
  for (let k = 0; k < chunks; k++) {
    // What a worker claimed and did not deliver (it failed or died).
    if (!done[k] && !failed.has(k)) done[k] = chunkOf(k) ?? undefined;
    const f = failed.get(k);
    if (f) return { items: [...items, ...f.items], byWorkers, error: f.error };
    items.push(...done[k]!);
  }
  return { items, byWorkers };
}

/** Writes the items' log lines to stderr, a batch at a time (formatted in their threads), or logs their records (journald). */
export function emitLogs(items: Item[], log: Logger): void {
  let batch = "";
  for (const item of items) {
    if (typeof item.log === "string") {
      batch += item.log;
      if (batch.length < 65536) continue;
    } else {
      if (batch) writeErr(batch);
      batch = "";
      for (const r of item.log) log.log(r.level, r.event, r.message, r.fields);
    }
    if (batch) writeErr(batch);
    batch = "";
  }
  if (batch) writeErr(batch);
}
