/** A fan-out worker that claims chunks and dies without delivering them (test/unit/fanout.test.ts). */
import { workerData } from "node:worker_threads";

const claims = new Int32Array((workerData as { counter: SharedArrayBuffer }).counter);
Atomics.add(claims, 0, 1);
Atomics.add(claims, 0, 1);
process.exit(1);
