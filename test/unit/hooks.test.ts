/**
 * Hooks end with their whole process tree: a grandchild that keeps the output pipe open, or that
 * ignores SIGTERM, must not keep acme-renew waiting past hookTimeout + the kill grace.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { spawn } from "node:child_process";
import { Dns01Solver } from "../../src/challenges/dns01.js";
import type { CertConfig, DnsChallenge } from "../../src/config/types.js";
import { HOOK_VAR_NAMES, hookEnv } from "../../src/hooks/env.js";
import { runHooks } from "../../src/hooks/run-hooks.js";
import { describeEnd, outputLines, runProgram } from "../../src/hooks/spawn.js";
import { ROOT } from "../helpers/cli.js";
import { fastParse } from "../../src/cli/fastpath.js";
import { parseAndRun } from "../../src/cli/parser.js";
import { Logger } from "../../src/report/log.js";
import { certPaths } from "../../src/store/paths.js";

/** Generous for a loaded 2-core machine; the old code needed the grandchild's full 25 s. */
const GRACE_S = 5;
const HEADROOM_S = 4;
const SLEEP_S = 25;

function config(extra: Partial<CertConfig> = {}): CertConfig {
  return {
    name: "h.example.com",
    file: "/dev/null",
    domain: "h.example.com",
    extraDomainNames: [],
    email: null,
    acceptTerms: true,
    server: "https://127.0.0.1:1/dir",
    caBundle: null,
    keyType: "ec256",
    reuseKey: false,
    validMinDays: null,
    challenge: { type: "listenHTTP", host: "127.0.0.1", port: 1 },
    reloadServices: [],
    postRun: null,
    group: null,
    profile: null,
    preferredChain: null,
    stagingServer: null,
    ocspMustStaple: false,
    eab: null,
    ari: true,
    placeholder: false,
    keepVersions: 3,
    timeout: 60,
    hookTimeout: 1,
    cluster: null,
    ...extra,
  };
}

function capture() {
  const lines: string[] = [];
  return { lines, log: new Logger("json", (l) => void lines.push(l), {}) };
}

/** A `sleep` argument nobody else uses, so that /proc tells whether our grandchild still lives. */
const marker = () => `${SLEEP_S}.${String(randomInt(1e8)).padStart(8, "0")}`;

function pidsWith(arg: string): number[] {
  const found: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").includes(arg)) found.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Asserts the marked processes are gone; kills leftovers (ours) so a failing run cleans up. */
function assertGone(arg: string) {
  const left = pidsWith(arg);
  for (const pid of left) process.kill(pid, "SIGKILL");
  assert.deepEqual(left, [], `no process of the hook outlives it (sleep ${arg})`);
}

async function timed<T>(p: Promise<T>): Promise<{ v: T; s: number }> {
  const t0 = Date.now();
  const v = await p;
  return { v, s: (Date.now() - t0) / 1000 };
}

const paths = () => certPaths(mkdtempSync(join(tmpdir(), "acme-renew-hooks-")), "h.example.com");
function dirOf(p: ReturnType<typeof paths>) {
  mkdirSync(p.dir, { recursive: true });
  return p;
}

test("postRun: a grandchild holding the output pipe is stopped at hookTimeout", { timeout: 60_000 }, async (t) => {
  const m = marker();
  const { log, lines } = capture();
  const c = config({ postRun: `echo started; sleep ${m}; echo never` });
  const { v, s } = await timed(runHooks(c, dirOf(paths()), log));
  assert.equal(v.length, 1);
  assert.match(v[0]!.why, /timed out after 1s/);
  t.diagnostic(`hookTimeout ${c.hookTimeout} s: returned, tree gone, after ${s} s`);
  assert.ok(s < c.hookTimeout + HEADROOM_S, `returned after ${s} s`);
  assertGone(m);
  assert.ok(lines.some((l) => l.includes("started")), "the output up to the timeout is logged");
});

test("postRun: a process tree that ignores SIGTERM is killed after the grace", { timeout: 60_000 }, async (t) => {
  const m = marker();
  const { log } = capture();
  // `trap '' TERM` makes SIGTERM ignored in the shell and in everything it starts.
  const c = config({ postRun: `trap '' TERM; sleep ${m}; sleep ${m}` });
  const { v, s } = await timed(runHooks(c, dirOf(paths()), log));
  assert.equal(v.length, 1);
  assert.match(v[0]!.why, /timed out after 1s/);
  t.diagnostic(`hookTimeout ${c.hookTimeout} s, SIGTERM ignored: returned, tree gone, after ${s} s`);
  assert.ok(s < c.hookTimeout + GRACE_S + HEADROOM_S, `returned after ${s} s`);
  assertGone(m);
});

test("postRun: a background process left holding the output after the hook exits does not keep us waiting", { timeout: 60_000 }, async (t) => {
  const m = marker();
  const { log } = capture();
  const c = config({ postRun: `sleep ${m} & echo done`, hookTimeout: 20 });
  const { v, s } = await timed(runHooks(c, dirOf(paths()), log));
  assert.deepEqual(v, [], "the hook itself succeeded");
  t.diagnostic(`returned after ${s} s`);
  assert.ok(s < GRACE_S + HEADROOM_S, `returned after ${s} s`);
  assertGone(m);
});

test("reloadServices: a systemctl that hangs with a child is stopped at hookTimeout", { timeout: 60_000 }, async (t) => {
  const m = marker();
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-bin-"));
  writeFileSync(join(dir, "systemctl"), `#!/bin/sh\ntrap '' TERM\nsleep ${m}\n`);
  chmodSync(join(dir, "systemctl"), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved}`;
  try {
    const { log } = capture();
    const c = config({ reloadServices: ["nginx.service"] });
    const { v, s } = await timed(runHooks(c, dirOf(paths()), log));
    assert.equal(v.length, 1);
    assert.match(v[0]!.why, /timed out after 1s/);
    t.diagnostic(`systemctl, SIGTERM ignored: returned, tree gone, after ${s} s`);
    assert.ok(s < c.hookTimeout + GRACE_S + HEADROOM_S, `returned after ${s} s`);
    assertGone(m);
  } finally {
    process.env.PATH = saved;
  }
});

function dnsHook(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-dnshook-"));
  const file = join(dir, "hook");
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}
const task = { identifier: "h.example.com", wildcard: false, token: "t", keyAuthorization: "digest" };

/** dnsHook is the exec provider: the dns-01 solver with it, no CNAME lookup (lego's switch for it) and no propagation check, so no network. */
function dnsHookSolver(hook: string, c: CertConfig, signal: AbortSignal): Dns01Solver {
  process.env.LEGO_DISABLE_CNAME_SUPPORT = "true";
  const challenge: DnsChallenge = { type: "dns01", provider: "exec", code: "exec", hook, resolvers: [], propagationCheck: false, propagationTimeout: null, environmentFile: null, credentialFiles: {} };
  // providerFor() prepares once per config file: one file per hook.
  return new Dns01Solver(challenge, { config: { ...c, file: `${hook}.json`, challenge }, log: capture().log, signal });
}

test("dnsHook: a grandchild that ignores SIGTERM and holds the pipe ends within hookTimeout + grace", { timeout: 60_000 }, async (t) => {
  const m = marker();
  const hook = dnsHook(`trap '' TERM\nsleep ${m}\nexit 0`);
  const c = config();
  const s = dnsHookSolver(hook, c, new AbortController().signal);
  const t0 = Date.now();
  await assert.rejects(s.prepare(task), /dnsHook .* present _acme-challenge\.h\.example\.com\.: timed out after 1s/);
  const took = (Date.now() - t0) / 1000;
  t.diagnostic(`returned, tree gone, after ${took} s`);
  assert.ok(took < c.hookTimeout + GRACE_S + HEADROOM_S, `returned after ${took} s`);
  assertGone(m);
});

test("dnsHook: the run's deadline (abort) stops the hook's process tree at once", { timeout: 60_000 }, async (t) => {
  const m = marker();
  const hook = dnsHook(`sleep ${m}\nexit 0`);
  const c = config({ hookTimeout: 600 });
  const ac = new AbortController();
  const s = dnsHookSolver(hook, c, ac.signal);
  setTimeout(() => ac.abort(), 500);
  const t0 = Date.now();
  await assert.rejects(s.prepare(task), /dnsHook .*: (cancelled|deadline)/);
  const took = (Date.now() - t0) / 1000;
  t.diagnostic(`returned, tree gone, after ${took} s`);
  assert.ok(took < 0.5 + HEADROOM_S, `returned after ${took} s`);
  assertGone(m);
});

test("runProgram: exit codes, output, environment, cwd, a program that cannot start", { timeout: 30_000 }, async () => {
  const ok = await runProgram("/bin/sh", ["-c", 'echo "out $X"; echo err >&2; pwd'], { timeoutMs: 10_000, env: { X: "1", PATH: process.env.PATH }, cwd: "/tmp" });
  assert.equal(ok.end, "exited");
  assert.equal(ok.ok, true);
  assert.deepEqual(outputLines(ok, 10).sort(), ["/tmp", "err", "out 1"]);
  const bad = await runProgram("/bin/sh", ["-c", "exit 3"], { timeoutMs: 10_000 });
  assert.equal(bad.ok, false);
  assert.equal(describeEnd(bad, 10_000), "exit code 3");
  const sig = await runProgram("/bin/sh", ["-c", "kill -9 $$"], { timeoutMs: 10_000 });
  assert.equal(describeEnd(sig, 10_000), "killed by SIGKILL");
  const missing = await runProgram("/nonexistent/hook", [], { timeoutMs: 10_000 });
  assert.equal(missing.end, "spawn-failed");
  assert.equal(describeEnd(missing, 10_000), "could not be started (ENOENT)");
  const aborted = await runProgram("/bin/sh", ["-c", "sleep 5"], { timeoutMs: 10_000, signal: AbortSignal.abort() });
  assert.equal(aborted.end, "aborted");
  assert.ok(aborted.ms < 3000, `an already aborted signal stops at once (${aborted.ms} ms)`);
});

test("runProgram: output is capped, a hook printing without end cannot exhaust memory", { timeout: 30_000 }, async () => {
  const r = await runProgram("/bin/sh", ["-c", "head -c 1000000 /dev/zero | tr '\\0' x"], { timeoutMs: 10_000 });
  assert.equal(r.ok, true);
  assert.equal(r.output.length, 64 * 1024);
});

test("hook environment: README documents exactly the variables the hooks get", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n### Hook environment"), readme.indexOf("\n## ", readme.indexOf("\n### Hook environment")));
  const listed = [...section.matchAll(/^\| `(ACME_RENEW_[A-Z_]+)` \|/gm)].map((x) => x[1]!);
  assert.deepEqual(listed.sort(), [...HOOK_VAR_NAMES].sort());
  // One meaning each: an outer hook's variables never reach an inner one, and NOTIFY_SOCKET never does.
  const env = hookEnv({ ACME_RENEW_CERT_NAME: "inner" }, { ACME_RENEW_CERT: "/outer/cert.pem", NOTIFY_SOCKET: "/run/x", PATH: "/bin" });
  assert.deepEqual(env, { ACME_RENEW_CERT_NAME: "inner", PATH: "/bin" });
});

test("acme-renew started by a hook: the hook's ACME_RENEW_* variables are no options (fast path and yargs)", async () => {
  const vars = { ACME_RENEW_CERT_NAME: "a", ACME_RENEW_DOMAINS: "a b", ACME_RENEW_CERT_DIR: "/d", ACME_RENEW_CERT: "/d/cert.pem", ACME_RENEW_KEY: "/d/key.pem", ACME_RENEW_CHAIN: "/d/chain.pem", ACME_RENEW_FULLCHAIN: "/d/fullchain.pem", ACME_RENEW_FULL: "/d/full.pem" };
  assert.ok(fastParse(["check", "x"], vars), "the fast path takes a plain check");
  const saved = { ...process.env };
  Object.assign(process.env, vars);
  try {
    let seen: Record<string, unknown> | null = null;
    const h = (a: never) => ((seen = a), 0 as const);
    const code = await parseAndRun(["status", "x", "--json"], () => {}, { check: h, run: h, ready: h, validate: h, schema: h, doctor: h, status: h, delete: h, import: h, revoke: h, account: h, completion: h, "serve-http01": h });
    assert.equal(code, 0);
    assert.ok(seen);
    for (const k of ["cert", "certName", "key", "full"]) assert.equal((seen as Record<string, unknown>)[k], undefined, k);
  } finally {
    for (const k of Object.keys(vars)) if (!(k in saved)) delete process.env[k];
  }
});

test("acme-renew stopped by SIGTERM/SIGINT while a hook runs: the hook's tree is stopped too, and we still die of the signal", { timeout: 30_000 }, async () => {
  const spawnModule = JSON.stringify(join(ROOT, "build/src/hooks/spawn.js"));
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    const m = marker();
    const script = `const { runProgram } = await import(${spawnModule}); setTimeout(() => process.kill(process.pid, "${sig}"), 300); await runProgram("/bin/sh", ["-c", "sleep ${m}; true"], { timeoutMs: 60000 });`;
    const c = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => c.on("exit", (a, b) => r([a, b])));
    assert.equal(signal, sig, `died of ${sig} (exit ${code})`);
    await new Promise((r) => setTimeout(r, 300));
    assertGone(m);
  }
});
