/**
 * The exec provider (lego's providers/dns/exec) without a CA: its variables and defaults, the
 * arguments of both modes, the program's environment and the redaction of its output.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config/errors.js";
import { driveProvider, record } from "../helpers/dns-provider.js";

function script(): { path: string; out: string; envFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-exec-"));
  const out = join(dir, "calls");
  const path = join(dir, "hook.sh");
  writeFileSync(path, `#!/bin/sh\necho "$*" >> "${out}"\necho "env MY_TOKEN=$MY_TOKEN NOTIFY=$NOTIFY_SOCKET CERT=$ACME_RENEW_CERT_NAME" >> "${out}"\necho "hook says $MY_TOKEN"\n`);
  chmodSync(path, 0o755);
  const envFile = join(dir, "exec.env");
  writeFileSync(envFile, "MY_TOKEN=exec-token-0123456789\n", { mode: 0o600 });
  return { path, out, envFile };
}

test("exec: lego's defaults (60 s timeout, 2 s polling, 60 s sequence interval), sequential; EXEC_* override them", async () => {
  const { path } = script();
  const d = await driveProvider("exec", { EXEC_PATH: path });
  assert.equal(d.prepared.definition.sequential, true);
  assert.deepEqual({ t: d.prepared.timing.propagationTimeout, p: d.prepared.timing.pollingInterval, s: d.prepared.timing.sequenceInterval }, { t: 60, p: 2, s: 60 });
  const o = await driveProvider("exec", { EXEC_PATH: path, EXEC_PROPAGATION_TIMEOUT: "300", EXEC_POLLING_INTERVAL: "10", EXEC_SEQUENCE_INTERVAL: "5" });
  assert.deepEqual({ t: o.prepared.timing.propagationTimeout, p: o.prepared.timing.pollingInterval, s: o.prepared.timing.sequenceInterval }, { t: 300, p: 10, s: 5 });
});

test("exec: EXEC_PATH missing, EXEC_MODE not RAW, a bad number → configuration errors naming the variable", async () => {
  for (const [vars, pattern] of [
    [{}, /dnsProvider: exec: EXEC_PATH: not set/],
    [{ EXEC_PATH: "/bin/true", EXEC_MODE: "raw" }, /dnsProvider: exec: EXEC_MODE: expected RAW or unset .*got "raw"/],
    [{ EXEC_PATH: "/bin/true", EXEC_SEQUENCE_INTERVAL: "1m" }, /EXEC_SEQUENCE_INTERVAL: expected a whole number/],
  ] as const) {
    await assert.rejects(driveProvider("exec", vars), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(vars));
  }
});

test("exec: default mode passes <fqdn> <value>, RAW passes -- <domain> <token> <key authorization>; dnsHook wins over EXEC_PATH", async () => {
  const { path, out } = script();
  const d = await driveProvider("exec", { EXEC_PATH: "/nonexistent/other" }, { challenge: { hook: path } });
  const r = record("_acme-challenge.cname-target.example.net.", "V".repeat(43));
  await d.provider.present({ ...r, domain: "www.example.com", token: "tok-1", keyAuthorization: "tok-1.thumb" });
  await d.provider.cleanup({ ...r, domain: "www.example.com", token: "tok-1", keyAuthorization: "tok-1.thumb" });
  const raw = await driveProvider("exec", { EXEC_PATH: path, EXEC_MODE: "RAW" });
  await raw.provider.present({ ...r, domain: "www.example.com", token: "-tok-2", keyAuthorization: "-tok-2.thumb" });
  const calls = readFileSync(out, "utf8").split("\n").filter((l) => !l.startsWith("env "));
  assert.deepEqual(calls.filter(Boolean), [`present _acme-challenge.cname-target.example.net. ${"V".repeat(43)}`, `cleanup _acme-challenge.cname-target.example.net. ${"V".repeat(43)}`, "present -- www.example.com -tok-2 -tok-2.thumb"]);
});

test("exec: the program gets the certificate's environmentFile entries and no NOTIFY_SOCKET; their values are redacted from its logged output; a failure names the program", async () => {
  const { path, out, envFile } = script();
  process.env.NOTIFY_SOCKET = "/run/systemd/notify";
  try {
    const d = await driveProvider("exec", { EXEC_PATH: path }, { challenge: { environmentFile: envFile } });
    await d.provider.present(record("_acme-challenge.a.example.com.", "v".repeat(43)));
    assert.match(readFileSync(out, "utf8"), /^env MY_TOKEN=exec-token-0123456789 NOTIFY= CERT=t\.example$/m);
    const logged = d.logs.filter((l) => l.event === "dns-hook-output").map((l) => String(l.msg));
    assert.deepEqual(logged, ["hook says [redacted]"]);
    const bad = await driveProvider("exec", { EXEC_PATH: "/bin/false" });
    await assert.rejects(bad.provider.present(record("_acme-challenge.a.example.com.", "v".repeat(43))), /^AcmeFailure: EXEC_PATH \/bin\/false present _acme-challenge\.a\.example\.com\.: exit code 1$/);
  } finally {
    delete process.env.NOTIFY_SOCKET;
  }
});
