/** AcmeSession against the overall deadline: a call that starts after it never reaches acme-client. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AcmeFailure } from "../../src/acme/errors.js";
import { AcmeSession } from "../../src/acme/session.js";
import { Logger } from "../../src/report/log.js";

test("deadline already passed when the account lookup starts: a classified timeout, no unhandled rejection", async () => {
  // Seen in the reliability suite on a loaded machine (run --timeout 5): preflight and loading
  // acme-client used up the deadline, the account call was started anyway and its request, cancelled
  // by axios, came back as acme-client's TypeError with nobody listening: the process crashed.
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  const stateDir = mkdtempSync(join(tmpdir(), "acme-renew-session-"));
  try {
    const lines: string[] = [];
    const err = await AcmeSession.open({
      server: "https://127.0.0.1:1/dir", // nothing listens there: no request may get through anyway
      caBundle: null,
      email: null,
      eab: null,
      acceptTerms: true,
      configFile: join(stateDir, "a.example.com.json"),
      stateDir,
      log: new Logger("text", (l) => lines.push(l), {}),
      signal: AbortSignal.abort(new Error("deadline")),
      requestTimeoutMs: 1000,
      deadlineAt: Date.now() - 1,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AcmeFailure, `an AcmeFailure, got ${String(err)}`);
    assert.equal(err.cls, "timeout");
    // Let an abandoned request settle: its rejection would surface within a few ticks.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(unhandled.map(String), [], "no promise rejection left unhandled");
  } finally {
    process.off("unhandledRejection", onUnhandled);
    rmSync(stateDir, { recursive: true, force: true });
  }
});
