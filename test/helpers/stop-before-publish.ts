/**
 * Test-only seam, preloaded into a CLI child (NODE_OPTIONS=--import): the child stops itself
 * (SIGSTOP) right before it sends the etcd txn that writes a certificate record, so that a test can
 * hold a lock holder past its lease at exactly that point and let it go on (SIGCONT) later. It
 * writes "stop-before-publish" to stderr first. Nothing else changes.
 *
 * The stop happens where the etcd client serializes the request body (JSON.stringify), before the
 * request and its timeout timer exist: after SIGCONT the write really goes out to etcd.
 */
let done = false;
const stringify = JSON.stringify;

function writesRecord(v: unknown): boolean {
  const success = (v as { success?: unknown } | null)?.success;
  if (!Array.isArray(success)) return false;
  return success.some((op: { request_put?: { key?: unknown } }) => typeof op?.request_put?.key === "string" && Buffer.from(op.request_put.key, "base64").toString("utf8").endsWith("/record"));
}

JSON.stringify = function (this: unknown, ...args: Parameters<typeof JSON.stringify>) {
  if (!done && writesRecord(args[0])) {
    done = true;
    process.stderr.write("stop-before-publish\n");
    process.kill(process.pid, "SIGSTOP");
  }
  return stringify.apply(this, args);
} as typeof JSON.stringify;
