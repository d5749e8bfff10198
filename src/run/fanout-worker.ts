/** A fan-out worker thread (run/fanout.ts): claims chunks of names from the shared counter, posts each chunk's items. */
import { parentPort, workerData } from "node:worker_threads";
import { jobOf, type FanoutInput, type Item } from "./fanout-jobs.js";

const { input, names, chunk, counter } = workerData as { input: FanoutInput; names: string[]; chunk: number; counter: SharedArrayBuffer };
const claims = new Int32Array(counter);
const job = jobOf(input);
for (;;) {
  const k = Atomics.add(claims, 0, 1);
  if (k * chunk >= names.length) break;
  let items: Item[];
  try {
    items = names.slice(k * chunk, (k + 1) * chunk).map(job);
  } catch {
    // Unexpected (check; run's job catches everything): the main thread does this chunk itself and
    // meets the error in it (run/fanout.ts).
    parentPort!.postMessage({ k, items: null });
    break;
  }
  parentPort!.postMessage({ k, items });
}
