/**
 * From how many certificates `check`/`run` fan out over worker threads (run/fanout.ts). A worker costs
 * ~20 ms to start and a certificate's pre-check ~0.1–0.2 ms: below this, one thread is as fast.
 * Its own file so that the offline path can ask without loading the fan-out.
 */
export const FANOUT_MIN = 500;
