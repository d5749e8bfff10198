/**
 * The fault scenarios: one test() per scenario, named as in README.md's table. Each injects one fault
 * into a run of the built CLI against the real Pebble and asserts the exit code, that cert and key on
 * disk are readable and belong together, and that no previous version was lost (assertNothingLost).
 * Every scenario has its own sandbox and its own proxies, so they run concurrently.
 */
import type { ChildProcess } from "node:child_process";
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import type { CliResult } from "../helpers/cli.js";
import { stubSystemctl, writeDnsHook } from "../helpers/acme-fixtures.js";
import { startFaultProxy, pass, type FaultProxy } from "../helpers/fault-proxy.js";
import { startPebble } from "../helpers/pebble.js";
import { testCa, writeCertDir } from "../helpers/pki.js";
import {
  assertCleanOutput,
  assertNothingLost,
  fiuWrapper,
  fillFilesystem,
  mountTmpfs,
  newSandbox,
  orderStuckProcessing,
  pidsWithArg,
  probeFiu,
  probeReadOnlyBind,
  probeTmpfs,
  rcli,
  rcliKillOnEvent,
  readOnlyBindWrapper,
  registerSecret,
  sleep,
  snapshotCert,
  startRewriteProxy,
  type Sandbox,
} from "../helpers/reliability.js";
import { NAME, S, cfg, dueManaged, subdir, withChallenge } from "./setup.js";

/** Names of all scenarios, in order (README.md's table must list exactly these). */
export const scenarioNames: string[] = [];

export function scenario(name: string, timeoutMs: number, fn: (t: TestContext) => Promise<void>, extra: { todo?: string } = {}): void {
  scenarioNames.push(name);
  // The timeout only catches a hang; what a scenario asserts about durations is in its own asserts.
  // At least 4 minutes: on a loaded 2-core machine a scenario of several forced runs takes minutes.
  test(name, { timeout: Math.max(timeoutMs, 240_000), ...extra }, fn);
}

// Bugs this suite found in src/ were fixed (see README.md, "Bugs found"); their assertions are strict.

const CERT_GARBAGE = "-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGUsIGp1c3QgZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n";
const KEY_GARBAGE = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";

function stateOf(s: Sandbox): Record<string, unknown> {
  return JSON.parse(readFileSync(join(s.stateDir, NAME, "state.json"), "utf8")) as Record<string, unknown>;
}

/** Exit 75 for a certificate that stays in use, one line per event, the failure class named. */
function expectSoftFailure(r: CliResult, cls?: string | RegExp): void {
  assert.equal(r.code, 75, `exit code\n${r.stderr}`);
  assertCleanOutput(r);
  assert.match(r.stderr, /the current certificate stays in use/, r.stderr);
  if (typeof cls === "string") assert.match(r.stderr, new RegExp(`renewal failed \\(${cls}\\)`), r.stderr);
  else if (cls) assert.match(r.stderr, cls, r.stderr);
}

function expectRenewed(r: CliResult): void {
  assert.equal(r.code, 0, `exit code\n${r.stderr}`);
  assertCleanOutput(r);
  assert.match(r.stderr, /renewed, valid until/, r.stderr);
}

async function withProxy<T>(fn: (p: FaultProxy) => Promise<T>): Promise<T> {
  const p = await startFaultProxy(S().pebble);
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

const tmpLeftovers = (s: Sandbox) => readdirSync(join(s.stateDir, NAME, "versions")).filter((v) => v.startsWith("."));

export function registerFaultScenarios(): void {
  // ------------------------------------------------------------------ the CA and the network

  scenario("ca-refused", 60_000, async () => {
    const { s, before } = dueManaged("https://127.0.0.1:1/dir");
    const r = await rcli(s, "ca-refused", ["run", NAME, "--timeout", "10"]);
    // Retried until the attempts or the deadline run out (the deadline during a retry's wait: timeout).
    expectSoftFailure(r, /renewal failed \((network|timeout)\)/);
    assert.match(r.stderr, /ECONNREFUSED.*\(network\); retry 1/);
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    assert.equal(stateOf(s).consecutiveFailures, 1);
  });

  scenario("ca-stalls", 60_000, async () => {
    await withProxy(async (proxy) => {
      const { s, before } = dueManaged(proxy.directoryUrl);
      proxy.setRule(({ path }) => (path.startsWith("/finalize-order/") ? { kind: "stall" } : { kind: "pass" }));
      // A deadline with room to spare on a loaded 2-core CI machine, so the run does reach finalize.
      const r = await rcli(s, "ca-stalls", ["run", NAME, "--timeout", "20"]);
      expectSoftFailure(r, "timeout");
      assert.ok(r.ms < 35_000, `bounded by --timeout 20: took ${r.ms} ms`);
      assert.ok(proxy.count((l) => l.startsWith("POST /finalize-order/")) >= 1, "it got as far as finalize");
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    });
  });

  scenario("ca-5xx", 60_000, async () => {
    await withProxy(async (proxy) => {
      const { s, before } = dueManaged(proxy.directoryUrl);
      proxy.setRule(({ path }) => (path.startsWith("/certZ/") ? { kind: "status", status: 503, detail: "certificate store on fire" } : { kind: "pass" }));
      const r = await rcli(s, "ca-5xx", ["run", NAME, "--timeout", "20"]);
      // Retried until the attempts or the deadline run out (a request in flight at the deadline: timeout).
      expectSoftFailure(r, /renewal failed \((server|timeout)\)/);
      assert.match(r.stderr, /certificate store on fire.*\(server\); retry 1/);
      assert.ok(proxy.count((l) => l.startsWith("POST /certZ/")) >= 2, "the download was retried");
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    });
  });

  scenario("ca-resets", 60_000, async () => {
    await withProxy(async (proxy) => {
      const { s, before } = dueManaged(proxy.directoryUrl);
      proxy.setRule(({ path }) => (path.startsWith("/chalZ/") ? { kind: "reset" } : { kind: "pass" }));
      const r = await rcli(s, "ca-resets", ["run", NAME, "--timeout", "8"]);
      // Retried with backoff until the attempts or the deadline run out (whichever comes first).
      expectSoftFailure(r, /renewal failed \((network|timeout)\)/);
      assert.match(r.stderr, /ECONNRESET.*\(network\); retry 1/);
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    });
  });

  scenario("tls-wrong-ca-bundle", 60_000, async () => {
    const { s, before } = dueManaged(S().pebble.directoryUrl);
    const other = join(s.root, "other-ca.pem");
    writeFileSync(other, (await testCa()).cert.toString("pem"));
    s.writeConfig(NAME, cfg(S().pebble.directoryUrl, { caBundle: other }));
    const r = await rcli(s, "tls-wrong-ca-bundle", ["run", NAME, "--timeout", "8"]);
    expectSoftFailure(r, "tls");
    assert.match(r.stderr, /certificate|self-signed|issuer/i);
    assert.match(r.stderr, /caBundle/);
    assert.doesNotMatch(r.stderr, /retry 1/, "an untrusted CA certificate is not retried within the run");
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
  });

  scenario("badnonce-storm", 90_000, async () => {
    const p2 = await startPebble({ env: { PEBBLE_WFE_NONCEREJECT: "100" } });
    try {
      const { s, before } = dueManaged(p2.directoryUrl, { caBundle: p2.caBundle, listenHTTP: `127.0.0.1:${p2.httpPort}` });
      const r = await rcli(s, "badnonce-storm", ["run", NAME, "--timeout", "10"]);
      expectSoftFailure(r, /renewal failed \((badNonce|timeout)\)/);
      assert.match(r.stderr, /\(badNonce\); retry 1/);
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    } finally {
      await p2.stop();
    }
  });

  scenario("rate-limited-429", 60_000, async () => {
    await withProxy(async (proxy) => {
      const { s, before } = dueManaged(proxy.directoryUrl);
      proxy.setRule(({ path }) =>
        path.startsWith("/finalize-order/") ? { kind: "status", status: 429, problem: "rateLimited", detail: "too many finalizations", retryAfter: "3600" } : { kind: "pass" },
      );
      const r = await rcli(s, "rate-limited-429", ["run", NAME]);
      expectSoftFailure(r, "rateLimited");
      assert.doesNotMatch(r.stderr, /retry 1/, "an hour is not waited for inside a run");
      const ra = Date.parse(String(stateOf(s).retryAfter));
      assert.ok(Math.abs(ra - (Date.now() + 3_600_000)) < 120_000, `Retry-After stored: ${String(stateOf(s).retryAfter)}`);
      const seen = proxy.seen.length;
      const r2 = await rcli(s, "rate-limited-429", ["run", NAME]);
      assert.equal(r2.code, 75, r2.stderr);
      assert.match(r2.stderr, /Retry-After/);
      assert.equal(proxy.seen.length, seen, "the next run does not contact the CA");
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    });
  });

  scenario("order-stuck-processing", 180_000, async (t) => {
    await withProxy(async (proxy) => {
      proxy.setRule(pass);
      const rw = await startRewriteProxy(S().pebble, proxy.directoryUrl, orderStuckProcessing);
      try {
        const { s, before } = dueManaged(rw.directoryUrl);
        const r = await rcli(s, "order-stuck-processing", ["run", NAME, "--timeout", "12"], { timeoutMs: 150_000 });
        expectSoftFailure(r, "timeout");
        assert.ok(r.ms < 120_000, `bounded: took ${r.ms} ms`);
        assert.ok(rw.rewritten() >= 1, "the order was reported as processing");
        const polls = proxy.count((l) => l.startsWith("POST /my-order/"));
        assert.ok(polls >= 1 && polls <= 20, `order polled a bounded number of times: ${polls}`);
        assert.equal(proxy.count((l) => l.startsWith("POST /certZ/")), 0, "no certificate URL was ever seen");
        assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
        t.diagnostic(`order-stuck-processing: --timeout 12 run took ${r.ms} ms, ${polls} order polls`);
        await t.test("the run ends at its deadline (--timeout 12, +8 s)", () => {
          assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
        });
      } finally {
        await rw.close();
      }
    });
  });

  scenario("challenge-invalid", 60_000, async () => {
    // The token goes to a webroot nobody serves: Pebble's request gets a 404 from the shared server.
    const s = newSandbox();
    const { before } = dueManaged(S().pebble.directoryUrl, withChallenge({ webroot: subdir(s, "unserved-www") }), { stateDirReady: s });
    const r = await rcli(s, "challenge-invalid", ["run", NAME]);
    expectSoftFailure(r, "challenge");
    assert.match(r.stderr, /http-01 validation failed/);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
  });

  scenario("no-network", 60_000, async () => {
    const { s, before } = dueManaged("https://acme.example.invalid/dir");
    const r = await rcli(s, "no-network", ["run", NAME], { wrapper: ["unshare", "-n"] });
    expectSoftFailure(r, /network down/);
    assert.ok(r.ms < 10_000, `no retries without a network: took ${r.ms} ms`);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
  });

  scenario("replaces-refused-other-account", 60_000, async (t) => {
    // The certificate was issued to another ACME account: here the account of the old email address
    // (the same happens with lego's files adopted after a migration, or a lost accounts/ directory).
    const s = newSandbox();
    s.writeConfig(NAME, cfg(S().pebble.directoryUrl, { email: "old@example.com", keyType: "ec256" }));
    const first = await rcli(s, "replaces-refused-other-account", ["run", NAME]);
    expectRenewed(first);
    s.writeConfig(NAME, cfg(S().pebble.directoryUrl, { email: "new@example.com" }));
    const before = snapshotCert(s.stateDir, NAME);
    const r = await rcli(s, "replaces-refused-other-account", ["run", NAME]);
    assert.ok(r.code === 0 || r.code === 75, `exit ${r.code}\n${r.stderr}`);
    assertCleanOutput(r);
    const after = assertNothingLost(s.stateDir, NAME, before);
    if (r.code === 75) t.diagnostic(`replaces-refused-other-account: ${r.stderr.split("\n").find((l) => /renewal failed/.test(l)) ?? ""}`);
    await t.test("ordered again without replaces, renewed", () => {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(after.changed, true);
    });
  });

  // ------------------------------------------------------------------ challenges and hooks

  scenario("dns-hook-fails", 60_000, async () => {
    const s = newSandbox();
    const hook = writeDnsHook(s.root, { fail: true });
    const { before } = dueManaged(S().pebble.directoryUrl, withChallenge({ dnsHook: hook, dnsResolver: `127.0.0.1:${S().pebble.dnsPort}`, dnsPropagationCheck: false }), { stateDirReady: s });
    const r = await rcli(s, "dns-hook-fails", ["run", NAME], { env: { CHALLTESTSRV_URL: S().pebble.challtestsrvUrl } });
    expectSoftFailure(r, "local");
    assert.match(r.stderr, /dnsHook .* present .*: exit code 3/);
    assert.match(r.stderr, /hook: refusing on purpose/, "the hook's output is logged");
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
  });

  scenario("dns-hook-times-out", 60_000, async () => {
    const s = newSandbox();
    const hook = writeDnsHook(s.root, { sleepSeconds: 120 });
    const { before } = dueManaged(S().pebble.directoryUrl, withChallenge({ dnsHook: hook, dnsResolver: `127.0.0.1:${S().pebble.dnsPort}`, dnsPropagationCheck: false, hookTimeout: 2 }), { stateDirReady: s });
    const r = await rcli(s, "dns-hook-times-out", ["run", NAME], { env: { CHALLTESTSRV_URL: S().pebble.challtestsrvUrl } });
    expectSoftFailure(r, "local");
    assert.match(r.stderr, /timed out after 2s/);
    assert.ok(r.ms < 30_000, `bounded by hookTimeout: took ${r.ms} ms`);
    let left = pidsWithArg(hook);
    for (let i = 0; i < 20 && left.length; i++) {
      await sleep(100);
      left = pidsWithArg(hook);
    }
    for (const pid of left) process.kill(pid, "SIGKILL"); // ours: the hook this test started
    assert.deepEqual(left, [], "no hook process outlives the run");
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
  });

  // Item 1 of issue 11: a hook's whole process tree ends at its timeout or the run's deadline.

  /** A `sleep` argument nobody else uses: /proc tells whether the hook's grandchild still lives. */
  const sleepMarker = () => `117.${randomBytes(4).readUInt32BE()}`;

  /** The marked processes are gone (waits up to 2 s for the kernel); kills leftovers, which are ours. */
  async function assertTreeGone(marker: string): Promise<void> {
    let left = pidsWithArg(marker);
    for (let i = 0; i < 20 && left.length; i++) {
      await sleep(100);
      left = pidsWithArg(marker);
    }
    for (const pid of left) process.kill(pid, "SIGKILL");
    assert.deepEqual(left, [], "no process of the hook outlives the run");
  }

  function shellHook(s: Sandbox, name: string, body: string): string {
    const file = join(s.root, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  scenario("post-run-tree-ignores-term", 90_000, async (t) => {
    // postRun starts a grandchild that ignores SIGTERM and keeps the output pipe (a curl that hangs).
    const m = sleepMarker();
    const { s, before } = dueManaged(S().pebble.directoryUrl, { postRun: `trap '' TERM; echo hook-started; sleep ${m}; true`, hookTimeout: 2 });
    const r = await rcli(s, "post-run-tree-ignores-term", ["run", NAME]);
    assert.equal(r.code, 75, r.stderr);
    assertCleanOutput(r);
    assert.match(r.stderr, /renewed, valid until/);
    assert.match(r.stderr, /postRun: timed out after 2s; the new certificate is installed/);
    assert.match(r.stderr, /hook-started/, "its output up to the timeout is logged");
    t.diagnostic(`renewal + postRun with a SIGTERM-ignoring grandchild, hookTimeout 2 s: run ended after ${r.ms} ms`);
    // hookTimeout 2 s + grace 5 s after a renewal of a few seconds; the grandchild sleeps 117 s.
    assert.ok(r.ms < 45_000, `bounded by renewal + hookTimeout + grace: took ${r.ms} ms`);
    await assertTreeGone(m);
    assert.ok(!existsSync(join(s.stateDir, NAME, ".lock")), "the lock was released");
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
    assert.equal((await rcli(s, "post-run-tree-ignores-term", ["check", NAME])).code, 0);
  });

  scenario("dns-hook-tree-holds-pipe", 60_000, async (t) => {
    const s = newSandbox();
    const m = sleepMarker();
    const hook = shellHook(s, "dns-hook.sh", `trap '' TERM\necho "hook $1 $2"\nsleep ${m}\nexit 0`);
    const { before } = dueManaged(S().pebble.directoryUrl, { dnsHook: hook, dnsResolver: `127.0.0.1:${S().pebble.dnsPort}`, dnsPropagationCheck: false, hookTimeout: 2 }, { stateDirReady: s });
    const r = await rcli(s, "dns-hook-tree-holds-pipe", ["run", NAME]);
    expectSoftFailure(r, "local");
    assert.match(r.stderr, /dnsHook .* present .*: timed out after 2s/);
    t.diagnostic(`dnsHook with a SIGTERM-ignoring grandchild, hookTimeout 2 s: run ended after ${r.ms} ms`);
    // present and then cleanup (also called for a failed present) each cost hookTimeout + 5 s grace;
    // the grandchild sleeps 117 s.
    assert.ok(r.ms < 45_000, `bounded by 2 × (hookTimeout + grace): took ${r.ms} ms`);
    await assertTreeGone(m);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
  });

  scenario("deadline-stops-dns-hook-tree", 60_000, async (t) => {
    // hookTimeout is long; the run's deadline (--timeout 20) is what ends the hook and its grandchild.
    const s = newSandbox();
    const m = sleepMarker();
    const started = join(s.root, "hook-started");
    const cleaned = join(s.root, "hook-cleanup-ran");
    // present hangs; cleanup (which runs after the deadline, with its own bound) returns at once.
    const hook = shellHook(s, "dns-hook.sh", `[ "$1" = cleanup ] && { touch ${cleaned}; exit 0; }\n[ "$1" = present ] && date +%s%N > ${started}\nsh -c 'sleep ${m}; echo never'\nexit 0`);
    const { before } = dueManaged(S().pebble.directoryUrl, { dnsHook: hook, dnsResolver: `127.0.0.1:${S().pebble.dnsPort}`, dnsPropagationCheck: false, hookTimeout: 600 }, { stateDirReady: s });
    const r = await rcli(s, "deadline-stops-dns-hook-tree", ["run", NAME, "--timeout", "20"]);
    expectSoftFailure(r);
    assert.ok(existsSync(started), "the deadline came while the hook ran");
    assert.match(r.stderr, /dnsHook .* present .*: cancelled \(run deadline\)/);
    assert.ok(existsSync(cleaned), "cleanup ran after the deadline");
    t.diagnostic(`--timeout 20, hookTimeout 600: run ended after ${r.ms} ms`);
    assert.ok(r.ms < 40_000, `bounded by the deadline, not the hook (117 s) nor hookTimeout: took ${r.ms} ms`);
    await assertTreeGone(m);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
  });

  scenario("webroot-read-only", 60_000, async (t) => {
    // As root, permissions do not stop writes. A read-only bind mount of the webroot in a private
    // mount namespace gives EROFS (what ProtectSystem=strict does to a webroot outside ReadWritePaths=).
    // Fallback where mounts are not allowed: a webroot below a regular file (ENOTDIR).
    const s = newSandbox();
    const probe = probeReadOnlyBind();
    let webroot: string;
    let wrapper: string[] | undefined;
    if (probe.ok) {
      webroot = subdir(s, "www-ro");
      wrapper = readOnlyBindWrapper(webroot);
    } else {
      t.diagnostic(`read-only bind mount unavailable (${probe.why}); using a webroot below a regular file (ENOTDIR)`);
      writeFileSync(join(s.root, "a-file"), "");
      webroot = join(s.root, "a-file", "www");
    }
    const { before } = dueManaged(S().pebble.directoryUrl, withChallenge({ webroot }), { stateDirReady: s });
    const r = await rcli(s, "webroot-read-only", ["run", NAME], wrapper ? { wrapper } : {});
    expectSoftFailure(r, "local");
    // The real errno, not the ENOENT that Node's recursive mkdir reports on a read-only file system.
    assert.match(r.stderr, probe.ok ? /cannot write the challenge file \(EROFS\)/ : /cannot write the challenge file \(ENOTDIR\)/);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
  });

  // ------------------------------------------------------------------ the state dir's filesystem

  /**
   * A due managed certificate whose state dir is a 1 MiB tmpfs filled up to `freeBytes`: a first
   * `run` loses nothing and goes to `judge`; with the filler removed the next run renews and leaves
   * no lock and no half-written version.
   */
  async function withFullStateDir(label: string, freeBytes: number, judge: (s: Sandbox, r: CliResult) => Promise<void>): Promise<void> {
    const probe = probeTmpfs();
    assert.ok(probe.ok, `needs root to mount a size-limited tmpfs (${probe.why})`);
    const s = newSandbox();
    const unmount = mountTmpfs(s.stateDir, 1 << 20);
    try {
      const { before } = dueManaged(S().pebble.directoryUrl, {}, { stateDirReady: s });
      const filler = fillFilesystem(s.stateDir, freeBytes);
      const r = await rcli(s, label, ["run", NAME, "--timeout", "20"]);
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
      await judge(s, r);
      rmSync(filler);
      expectRenewed(await rcli(s, label, ["run", NAME]));
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
      assert.ok(!existsSync(join(s.stateDir, NAME, ".lock")), "no lock left behind");
      assert.deepEqual(tmpLeftovers(s), [], "no half-written version left");
    } finally {
      unmount();
    }
  }

  scenario("state-fs-full", 90_000, async (t) => {
    await withFullStateDir("state-fs-full", 0, async (s, r) => {
      assert.ok(r.code !== null && r.code !== 0, `a renewal on a full disk does not claim success (exit ${r.code})\n${r.stderr}`);
      assert.match(r.stderr, /ENOSPC/);
      assert.equal((await rcli(s, "state-fs-full", ["check", NAME])).code, 0, "the certificate is still usable");
      await t.test("exit 75 and one line, no stack trace", () => {
        assert.equal(r.code, 75, r.stderr);
        assertCleanOutput(r);
      });
    });
  });

  scenario("state-fs-nearly-full", 90_000, async () => {
    // Two free pages: the lock file fits, a new version (six files) does not.
    await withFullStateDir("state-fs-nearly-full", 8192, async (_s, r) => {
      expectSoftFailure(r, "local");
      assert.match(r.stderr, /storing the new certificate .*ENOSPC/);
    });
  });

  scenario("fsync-enospc", 60_000, async () => {
    const probe = probeFiu();
    assert.ok(probe.ok, `libfiu (Debian fiu-utils) must be able to fail fsync() in Node: ${probe.why}`);
    const { s, before } = dueManaged(S().pebble.directoryUrl);
    const r = await rcli(s, "fsync-enospc", ["run", NAME], { wrapper: fiuWrapper(["enable name=posix/io/sync/fsync,failinfo=28"]) });
    expectSoftFailure(r, "local");
    assert.match(r.stderr, /storing the new certificate .*ENOSPC/);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    const r2 = await rcli(s, "fsync-enospc", ["run", NAME]);
    expectRenewed(r2);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
    assert.deepEqual(tmpLeftovers(s), []);
  });

  scenario("rename-eio", 60_000, async () => {
    const probe = probeFiu();
    assert.ok(probe.ok, `libfiu (Debian fiu-utils) must be able to fail calls in Node: ${probe.why}`);
    const { s, before } = dueManaged(S().pebble.directoryUrl);
    const r = await rcli(s, "rename-eio", ["run", NAME], { wrapper: fiuWrapper(["enable name=posix/io/dir/rename,failinfo=5"]) });
    expectSoftFailure(r, "local");
    assert.match(r.stderr, /storing the new certificate .*(EIO|i\/o error)/i);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    const r2 = await rcli(s, "rename-eio", ["run", NAME]);
    expectRenewed(r2);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
  });

  scenario("fsync-random-eio", 120_000, async (t) => {
    const probe = probeFiu();
    assert.ok(probe.ok, `libfiu (Debian fiu-utils) must be able to fail fsync() in Node: ${probe.why}`);
    const { s } = dueManaged(S().pebble.directoryUrl);
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const before = snapshotCert(s.stateDir, NAME);
      const r = await rcli(s, "fsync-random-eio", ["run", NAME, "--force"], { wrapper: fiuWrapper(["enable_random name=posix/io/sync/fsync,probability=0.06,failinfo=5"]) });
      assert.ok(r.code === 0 || r.code === 75, `exit 0 or 75, got ${r.code}\n${r.stderr}`);
      assertCleanOutput(r);
      const after = assertNothingLost(s.stateDir, NAME, before);
      outcomes.push(`${r.code}${after.changed ? "+new" : ""}`);
      // The report matches what is served: a new current version is a renewal (0), and a 0 means one.
      assert.equal(r.code === 0, after.changed, `exit ${r.code} but new version current: ${after.changed}\n${r.stderr}`);
      assert.equal((await rcli(s, "fsync-random-eio", ["check", NAME])).code, 0);
    }
    t.diagnostic(`fsync-random-eio outcomes (exit code, +new = a new version became current): ${outcomes.join(" ")}`);
  });

  scenario("post-commit-error", 60_000, async (t) => {
    // A deterministic stand-in for any error after the commit point (`current` swapped), e.g. fsync of
    // the cert dir failing with EIO: a leftover "*.tmp-<hex>" entry that is a directory makes prune() fail.
    const s = newSandbox();
    const bin = stubSystemctl(s.root);
    const { before } = dueManaged(S().pebble.directoryUrl, { reloadServices: ["web.service"] }, { stateDirReady: s });
    mkdirSync(join(s.stateDir, NAME, "cert.pem.tmp-deadbeef"));
    writeFileSync(join(s.stateDir, NAME, "cert.pem.tmp-deadbeef", "x"), "x");
    const r = await rcli(s, "post-commit-error", ["run", NAME], { env: { PATH: `${bin}:${process.env.PATH}` } });
    assert.ok(r.code === 0 || r.code === 75, `exit ${r.code}\n${r.stderr}`);
    assertCleanOutput(r);
    const after = assertNothingLost(s.stateDir, NAME, before);
    assert.equal(after.changed, true, "the new certificate was installed before the error");
    const c = await rcli(s, "post-commit-error", ["check", NAME, "--json"]);
    assert.equal(c.code, 0, "check: usable");
    assert.equal((JSON.parse(c.stdout) as Array<{ usable: boolean }>)[0]!.usable, true);
    await t.test("reported as renewed, reload hooks run", () => {
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(join(s.root, "systemctl.log")), "web.service was reloaded");
      assert.equal(stateOf(s).lastOutcome, "renewed");
    });
  });

  // ------------------------------------------------------------------ concurrency

  for (const n of [2, 10]) {
    scenario(`concurrent-runs-${n}`, 120_000, async () => {
      const s = newSandbox();
      await writeCertDir(s.stateDir, NAME, { names: [NAME] });
      s.writeConfig(NAME, cfg(S().pebble.directoryUrl));
      const before = snapshotCert(s.stateDir, NAME);
      const rs = await Promise.all(Array.from({ length: n }, () => rcli(s, `concurrent-runs-${n}`, ["run", NAME], { timeoutMs: 100_000 })));
      for (const r of rs) {
        assert.equal(r.code, 0, r.stderr);
        assertCleanOutput(r);
      }
      const renewed = rs.filter((r) => /renewed, valid until/.test(r.stderr)).length;
      assert.equal(renewed, 1, `exactly one issuance:\n${rs.map((r) => r.stderr).join("\n---\n")}`);
      for (const r of rs) if (!/renewed, valid until/.test(r.stderr)) assert.match(r.stderr, /renewed meanwhile by another run|event=not-due/);
      const after = assertNothingLost(s.stateDir, NAME, before);
      assert.equal(after.changed, true);
      assert.equal(after.versions.length, 2, `the adopted files and one new version: ${after.versions.join(", ")}`);
      assert.ok(!existsSync(join(s.stateDir, NAME, ".lock")), "no lock left behind");
    });
  }

  // Item 14 of issue 11: the per-certificate lock is a kernel lock (flock), held exactly while its holder lives.

  scenario("lock-holder-killed-then-stampede", 120_000, async (t) => {
    // A run is SIGKILLed while it holds the lock (mid-order); then 6 runs start at once. As in
    // concurrent-runs-*: a due certificate of the test CA, and what Pebble issues is not due.
    const s = newSandbox();
    await writeCertDir(s.stateDir, NAME, { names: [NAME] });
    s.writeConfig(NAME, cfg(S().pebble.directoryUrl, { validMinDays: 365 }));
    const before = snapshotCert(s.stateDir, NAME);
    const killed = await rcliKillOnEvent(s, "lock-holder-killed-then-stampede", ["run", NAME, "--force"], { watchDir: join(s.stateDir, NAME), match: (e) => e === ".lock", delayMs: 300, timeoutMs: 60_000 });
    assert.ok(killed.triggered, "the run took the lock before it was killed");
    assert.equal(killed.code, null, "killed");
    assertNothingLost(s.stateDir, NAME, before);
    const again = snapshotCert(s.stateDir, NAME);
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 6 }, () => rcli(s, "lock-holder-killed-then-stampede", ["run", NAME], { timeoutMs: 100_000 })));
    t.diagnostic(`6 runs after the holder's kill -9: all done in ${Date.now() - t0} ms`);
    for (const r of rs) {
      assert.equal(r.code, 0, r.stderr);
      assertCleanOutput(r);
    }
    const renewed = rs.filter((r) => /renewed, valid until/.test(r.stderr)).length;
    assert.equal(renewed, 1, `exactly one issuance:\n${rs.map((r) => r.stderr).join("\n---\n")}`);
    for (const r of rs) if (!/renewed, valid until/.test(r.stderr)) assert.match(r.stderr, /renewed meanwhile by another run|event=not-due/);
    assert.equal(assertNothingLost(s.stateDir, NAME, again).changed, true);
    assert.ok(!existsSync(join(s.stateDir, NAME, ".lock")), "no lock left behind");
  });

  scenario("lock-holder-stopped", 120_000, async (t) => {
    // A live holder that hangs (SIGSTOP) is never taken over: another run gives up (busy, 75) and
    // the holder, continued, finishes its renewal.
    const { s, before } = dueManaged(S().pebble.directoryUrl);
    let stopped: ChildProcess | null = null;
    const holder = rcliKillOnEvent(s, "lock-holder-stopped", ["run", NAME, "--force"], {
      watchDir: join(s.stateDir, NAME),
      match: (e) => e === ".lock",
      delayMs: 0,
      timeoutMs: 100_000,
      // Stopped once it holds the lock: its pid is in the file (written right after flock succeeds).
      action: (c) => {
        const lock = join(s.stateDir, NAME, ".lock");
        const tick = () => {
          let text = "";
          try {
            text = readFileSync(lock, "utf8");
          } catch {
            return; // released already: the assertion below reports it
          }
          if (/^\d+ /.test(text)) {
            c.kill("SIGSTOP");
            stopped = c;
          } else setTimeout(tick, 5);
        };
        tick();
      },
    });
    for (let i = 0; i < 300 && !stopped; i++) await sleep(100);
    assert.ok(stopped, "the first run took the lock and was stopped");
    let other: CliResult;
    try {
      other = await rcli(s, "lock-holder-stopped", ["run", NAME, "--force", "--timeout", "5"]);
    } finally {
      (stopped as ChildProcess | null)?.kill("SIGCONT");
    }
    t.diagnostic(`second run gave up after ${other.ms} ms`);
    assert.equal(other.code, 75, other.stderr);
    assert.match(other.stderr, /another run holds .*\.lock \(pid \d+\); not renewing now/);
    const first = await holder;
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /renewed, valid until/);
    const after = assertNothingLost(s.stateDir, NAME, before);
    assert.equal(after.changed, true);
    assert.ok(!existsSync(join(s.stateDir, NAME, ".lock")), "no lock left behind");
  });

  // ------------------------------------------------------------------ corrupt files

  scenario("corrupt-cert-pem", 60_000, async () => {
    const { s } = dueManaged(S().pebble.directoryUrl, { validMinDays: null });
    writeFileSync(join(s.stateDir, NAME, "cert.pem"), CERT_GARBAGE); // through the link, into the current version
    const before = snapshotCert(s.stateDir, NAME);
    const c = await rcli(s, "corrupt-cert-pem", ["check", NAME, "--json"]);
    assert.equal(c.code, 1);
    assert.equal((JSON.parse(c.stdout) as Array<{ status: string }>)[0]!.status, "unreadable");
    const r = await rcli(s, "corrupt-cert-pem", ["run", NAME]);
    expectRenewed(r);
    // The corrupt version is kept byte for byte (it is evidence), next to the older intact one.
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
  });

  scenario("corrupt-key-pem", 60_000, async () => {
    const s = newSandbox();
    await writeCertDir(s.stateDir, NAME, { names: [NAME] });
    writeFileSync(join(s.stateDir, NAME, "key.pem"), KEY_GARBAGE);
    s.writeConfig(NAME, cfg(S().pebble.directoryUrl, { validMinDays: null }));
    const before = snapshotCert(s.stateDir, NAME);
    assert.equal((await rcli(s, "corrupt-key-pem", ["check", NAME])).code, 1);
    const r = await rcli(s, "corrupt-key-pem", ["run", NAME]);
    expectRenewed(r);
    const after = assertNothingLost(s.stateDir, NAME, before);
    assert.equal(after.changed, true);
    const adopted = after.versions.filter((v) => v.endsWith("-adopted"));
    assert.equal(adopted.length, 1, "the plain files were adopted as a version");
    assert.equal(readFileSync(join(s.stateDir, NAME, "versions", adopted[0]!, "key.pem"), "utf8"), KEY_GARBAGE, "the corrupt key is kept as it was");
  });

  scenario("corrupt-cert-ca-down", 60_000, async () => {
    const s = newSandbox();
    await writeCertDir(s.stateDir, NAME, { names: [NAME] });
    writeFileSync(join(s.stateDir, NAME, "cert.pem"), CERT_GARBAGE);
    s.writeConfig(NAME, cfg("https://127.0.0.1:1/dir", { validMinDays: null }));
    const before = snapshotCert(s.stateDir, NAME);
    const r = await rcli(s, "corrupt-cert-ca-down", ["run", NAME, "--timeout", "10"]);
    assert.equal(r.code, 1, r.stderr);
    assertCleanOutput(r);
    assert.match(r.stderr, /no usable certificate \(unreadable\)/);
    assert.doesNotMatch(r.stderr, /placeholder/, "no placeholder over files that exist");
    const after = assertNothingLost(s.stateDir, NAME, before, { usable: false });
    assert.equal(after.changed, false, "the files are exactly as they were");
    assert.equal(after.current, null, "nothing was installed");
    assert.equal(stateOf(s).placeholderSerial, null);
  });

  scenario("corrupt-state-json", 60_000, async () => {
    const { s, before } = dueManaged(S().pebble.directoryUrl);
    writeFileSync(join(s.stateDir, NAME, "state.json"), '{"version": 1, "consecutiveFailures": ');
    const r = await rcli(s, "corrupt-state-json", ["run", NAME]);
    expectRenewed(r);
    assert.match(r.stderr, /state file .* is unusable .*using empty state/);
    assert.equal(stateOf(s).lastOutcome, "renewed", "a fresh state was written");
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
  });

  scenario("state-json-is-a-directory", 60_000, async () => {
    const { s, before } = dueManaged(S().pebble.directoryUrl);
    rmSync(join(s.stateDir, NAME, "state.json"));
    mkdirSync(join(s.stateDir, NAME, "state.json"));
    const r = await rcli(s, "state-json-is-a-directory", ["run", NAME]);
    expectRenewed(r);
    assert.match(r.stderr, /cannot read .*state\.json \(EISDIR\); using empty state/);
    assert.match(r.stderr, /cannot write .*state\.json/);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
    assert.equal((await rcli(s, "state-json-is-a-directory", ["check", NAME])).code, 0);
  });

  // ------------------------------------------------------------------ the clock

  scenario("clock-1970", 60_000, async () => {
    await withProxy(async (proxy) => {
      const { s, before } = dueManaged(proxy.directoryUrl);
      const r = await rcli(s, "clock-1970", ["run", NAME], { env: { ACME_RENEW_NOW: "1970-01-01T00:00:10Z" } });
      assert.equal(r.code, 75, r.stderr);
      assertCleanOutput(r);
      assert.match(r.stderr, /clock says 1970-01-01.*before this build of acme-renew/);
      assert.equal(proxy.seen.length, 0, "the CA is not contacted");
      assert.equal((await rcli(s, "clock-1970", ["check", NAME], { env: { ACME_RENEW_NOW: "1970-01-01T00:00:10Z" } })).code, 0);
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    });
  });

  scenario("clock-2100", 60_000, async (t) => {
    const { s, before } = dueManaged(S().pebble.directoryUrl);
    const r = await rcli(s, "clock-2100", ["run", NAME], { env: { ACME_RENEW_NOW: "2100-01-01T00:00:00Z" } });
    // In 2100 the certificate is expired, and so would be anything the CA issues today.
    assert.equal(r.code, 1, r.stderr);
    assertCleanOutput(r);
    assert.match(r.stderr, /already expired/);
    assert.doesNotMatch(r.stderr, /placeholder/, "no placeholder over a real certificate");
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    assert.equal((await rcli(s, "clock-2100", ["check", NAME], { env: { ACME_RENEW_NOW: "2100-01-01T00:00:00Z" } })).code, 1);
    assert.equal((await rcli(s, "clock-2100", ["check", NAME])).code, 0, "with the right clock the certificate is usable");
    await t.test("with the clock right again, the due certificate is renewed", async () => {
      const r2 = await rcli(s, "clock-2100", ["run", NAME]);
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
    });
  });

  scenario("debug-env-yargs-commands", 60_000, async (t) => {
    const { s, before } = dueManaged("https://127.0.0.1:1/dir");
    const env = { ACME_RENEW_DEBUG: "1" };
    const runs = [
      await rcli(s, "debug-env-yargs-commands", ["validate"], { env }),
      await rcli(s, "debug-env-yargs-commands", ["check", NAME, "--json"], { env }),
      await rcli(s, "debug-env-yargs-commands", ["run", NAME, "--timeout", "5"], { env }),
    ];
    for (const r of runs) assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.equal(runs[1]!.code, 0, runs[1]!.stderr);
    assertNothingLost(s.stateDir, NAME, before);
    await t.test("validate and run --timeout work with ACME_RENEW_DEBUG=1", () => {
      assert.equal(runs[0]!.code, 0, runs[0]!.stderr);
      assert.equal(runs[2]!.code, 75, runs[2]!.stderr);
    });
  });

  // ------------------------------------------------------------------ issued, owed, backed off (issue 11)

  scenario("issued-kept-install-fails", 90_000, async () => {
    // versions/ read-only (EROFS) in a private mount namespace: the CA issues, the install fails.
    const probe = probeReadOnlyBind();
    assert.ok(probe.ok, `needs a read-only bind mount (root): ${probe.why}`);
    await withProxy(async (proxy) => {
      proxy.setRule(pass);
      const { s, before } = dueManaged(proxy.directoryUrl);
      const dir = join(s.stateDir, NAME);
      const orders = () => proxy.count((l) => l.startsWith("POST /order-plz"));
      const r = await rcli(s, "issued-kept-install-fails", ["run", NAME], { wrapper: readOnlyBindWrapper(join(dir, "versions")) });
      expectSoftFailure(r, "local");
      assert.match(r.stderr, /storing the new certificate .*EROFS.*the issued certificate is kept in .*pending\.json/);
      // (Two newOrder POSTs when the CA refuses `replaces` for the shared template certificate.)
      const ordered = orders();
      assert.ok(ordered >= 1 && ordered <= 2, `newOrder POSTs: ${ordered}`);
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
      assert.equal(statSync(join(dir, "pending.json")).mode & 0o777, 0o600);
      // The next run (the disk writable again) installs what the CA issued: no second order.
      const r2 = await rcli(s, "issued-kept-install-fails", ["run", NAME]);
      expectRenewed(r2);
      assert.match(r2.stderr, /no new order/);
      assert.equal(orders(), ordered, "no second order");
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
      assert.ok(!existsSync(join(dir, "pending.json")));
    });
  });

  scenario("hooks-owed-retried", 90_000, async () => {
    const s = newSandbox();
    const bin = stubSystemctl(s.root, 1);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const { before } = dueManaged(S().pebble.directoryUrl, { reloadServices: ["web.service"] }, { stateDirReady: s });
    const reloads = () => readFileSync(join(s.root, "systemctl.log"), "utf8").split("\n").filter(Boolean).length;
    const r = await rcli(s, "hooks-owed-retried", ["run", NAME], { env });
    assert.equal(r.code, 75, r.stderr);
    assertCleanOutput(r);
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true, "installed; only the reload failed");
    const owed = stateOf(s).hooksPending as { attempts: number } | null;
    assert.equal(owed?.attempts, 1);
    // Not due any more, still owed: reloaded again, 75 again.
    const r2 = await rcli(s, "hooks-owed-retried", ["run", NAME], { env });
    assert.equal(r2.code, 75, r2.stderr);
    assert.equal(reloads(), 2);
    stubSystemctl(s.root, 0);
    const r3 = await rcli(s, "hooks-owed-retried", ["run", NAME], { env });
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(reloads(), 3);
    assert.equal(stateOf(s).hooksPending, null);
    const r4 = await rcli(s, "hooks-owed-retried", ["run", NAME], { env });
    assert.equal(r4.code, 0, r4.stderr);
    assert.equal(reloads(), 3, "nothing owed: not reloaded again");
  });

  scenario("backoff-no-certificate", 240_000, async (t) => {
    // No certificate, and validation always fails (the webroot is not served): a run every 5 minutes
    // of injected time for 2 hours.
    await withProxy(async (proxy) => {
      proxy.setRule(pass);
      const s = newSandbox();
      s.writeConfig(NAME, cfg(proxy.directoryUrl, { webroot: subdir(s, "unserved-www") }));
      const orders = () => proxy.count((l) => l.startsWith("POST /order-plz"));
      const t0 = Date.now();
      const perHour = [0, 0];
      for (let minute = 0; minute < 120; minute += 5) {
        const n = orders();
        const r = await rcli(s, "backoff-no-certificate", ["run", NAME, "--timeout", "20"], { env: { ACME_RENEW_NOW: new Date(t0 + minute * 60_000).toISOString() } });
        assert.equal(r.code, 3, `minute ${minute}: a placeholder serves\n${r.stderr}`);
        assertCleanOutput(r);
        perHour[Math.floor(minute / 60)]! += orders() - n;
      }
      t.diagnostic(`backoff-no-certificate: orders per simulated hour ${perHour.join(", ")}`);
      assert.ok(perHour[0]! >= 2 && perHour[0]! <= 6, `first hour ${perHour[0]}`);
      assert.ok(perHour[1]! <= 1, `second hour ${perHour[1]}`);
      assertNothingLost(s.stateDir, NAME, snapshotCert(s.stateDir, NAME));
    });
  });

  scenario("backoff-retry-after-503", 90_000, async () => {
    await withProxy(async (proxy) => {
      const { s, before } = dueManaged(proxy.directoryUrl);
      proxy.setRule(({ path }) => (path.startsWith("/order-plz") ? { kind: "status", status: 503, detail: "maintenance", retryAfter: "3600" } : { kind: "pass" }));
      const r = await rcli(s, "backoff-retry-after-503", ["run", NAME]);
      expectSoftFailure(r, "server");
      assert.doesNotMatch(r.stderr, /retry 1/, "an hour is not waited for inside a run");
      const ra = Date.parse(String(stateOf(s).retryAfter));
      assert.ok(Math.abs(ra - (Date.now() + 3_600_000)) < 120_000, `Retry-After stored for a 503: ${String(stateOf(s).retryAfter)}`);
      const seen = proxy.seen.length;
      const r2 = await rcli(s, "backoff-retry-after-503", ["run", NAME]);
      assert.equal(r2.code, 75, r2.stderr);
      assert.match(r2.stderr, /Retry-After/);
      assert.equal(proxy.seen.length, seen, "the next run does not contact the CA");
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
    });
  });

  // ------------------------------------------------------------------ secrets in play

  scenario("eab-wrong-then-right-hmac", 90_000, async () => {
    const good = randomBytes(32).toString("base64url");
    const wrong = randomBytes(32).toString("base64url");
    for (const [label, v] of [["EAB HMAC key", good], ["wrong EAB HMAC key", wrong]] as const) {
      registerSecret(label, v);
      registerSecret(`${label} (hex)`, Buffer.from(v, "base64url").toString("hex"));
      registerSecret(`${label} (base64)`, Buffer.from(v, "base64url").toString("base64"));
    }
    const p3 = await startPebble({ eab: { "kid-rel": good } });
    try {
      const s = newSandbox();
      const keyFile = join(s.root, "eab.key");
      writeFileSync(keyFile, `${wrong}\n`, { mode: 0o600 });
      const { before } = dueManaged(p3.directoryUrl, { caBundle: p3.caBundle, listenHTTP: `127.0.0.1:${p3.httpPort}`, eab: { kid: "kid-rel", hmacKeyFile: keyFile }, timeout: 15, ari: false }, { stateDirReady: s });
      const env = { ACME_RENEW_DEBUG: "1" };
      // (no --timeout: with ACME_RENEW_DEBUG set, options only yargs parses fail, see debug-env-yargs-commands)
      const r = await rcli(s, "eab-wrong-then-right-hmac", ["run", NAME], { env });
      expectSoftFailure(r);
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, false);
      writeFileSync(keyFile, `${good}\n`);
      const r2 = await rcli(s, "eab-wrong-then-right-hmac", ["run", NAME, "--force", "--log-format", "json"], { env }); // --force: past the backoff
      assert.equal(r2.code, 0, r2.stderr);
      assertCleanOutput(r2);
      assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
    } finally {
      await p3.stop();
    }
  });

  scenario("hook-secret-env-debug", 60_000, async () => {
    const token = `dns-api-token-${randomBytes(12).toString("hex")}`;
    registerSecret("DNS_API_TOKEN (hook environment)", token);
    const s = newSandbox();
    const inner = writeDnsHook(s.root);
    const hook = join(s.root, "dns-hook-with-token.sh");
    writeFileSync(
      hook,
      `#!/bin/sh\nif [ -z "$DNS_API_TOKEN" ]; then echo "hook: DNS_API_TOKEN missing" >&2; exit 9; fi\necho "hook: using a token of \${#DNS_API_TOKEN} characters"\nexec "${inner}" "$@"\n`,
    );
    chmodSync(hook, 0o755);
    const { before } = dueManaged(
      S().pebble.directoryUrl,
      withChallenge({
        dnsHook: hook,
        dnsResolver: `127.0.0.1:${S().pebble.dnsPort}`,
        dnsPropagationCheck: false,
        postRun: 'test -n "$DNS_API_TOKEN" && echo "postRun sees a token of ${#DNS_API_TOKEN} characters"',
      }),
      { stateDirReady: s },
    );
    const env = { CHALLTESTSRV_URL: S().pebble.challtestsrvUrl, DNS_API_TOKEN: token, ACME_RENEW_DEBUG: "1" };
    const r = await rcli(s, "hook-secret-env-debug", ["run", NAME], { env });
    expectRenewed(r);
    assert.match(r.stderr, new RegExp(`hook: using a token of ${token.length} characters`), "the hook saw the token");
    assert.match(r.stderr, new RegExp(`postRun sees a token of ${token.length} characters`), "postRun saw the token");
    assert.equal(assertNothingLost(s.stateDir, NAME, before).changed, true);
    const j = await rcli(s, "hook-secret-env-debug", ["run", NAME, "--force", "--log-format", "json"], { env });
    assert.equal(j.code, 0, j.stderr);
  });
}

