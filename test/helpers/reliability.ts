/**
 * Shared pieces of the reliability suite (test/reliability/):
 *
 *  - `rcli()`: the one wrapper every CLI invocation of the suite goes through. It records stdout and
 *    stderr of every run in `transcript`, so that a final test can assert that no registered secret
 *    (EAB HMAC key, hook environment values, private key material) ever appeared in any output.
 *  - `snapshotCert()` / `assertNothingLost()`: what "no previous good version was lost" means, checked
 *    the same way after every fault.
 *  - `startRewriteProxy()`: an HTTPS proxy that rewrites the JSON the CA answers (composed in front of
 *    Pebble or of a FaultProxy, which stays unchanged), e.g. an order stuck in "processing".
 *  - Fault injectors that need root: a size-limited tmpfs (ENOSPC), a read-only bind mount in a private
 *    mount namespace (EROFS), libfiu's POSIX preload (fsync/rename errors), each with a probe.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, X509Certificate, createPrivateKey } from "node:crypto";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
} from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { PEM_FILES } from "../../src/store/paths.js";
import { PROOF_FILE, pairProof } from "../../src/store/pair-proof.js";
import { recordedFacts } from "../../src/inspect/recorded.js";
import { factsOf } from "../../src/inspect/read.js";
import { CLI, sandbox, type CliOptions, type CliResult } from "./cli.js";
import type { Pebble } from "./pebble.js";

export type Sandbox = ReturnType<typeof sandbox>;

const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

// ---------------------------------------------------------------------------------------
// Sandboxes and the one CLI wrapper

const roots: string[] = [];

/** A fresh sandbox (cli.ts), remembered so that the suite can scan and remove it at the end. */
export function newSandbox(): Sandbox {
  const s = sandbox("acme-renew-rel-");
  roots.push(s.root);
  return s;
}

export function sandboxRoots(): readonly string[] {
  return roots;
}

export interface Recorded {
  /** The scenario that ran it. */
  label: string;
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  debug: boolean;
}

/** Every CLI invocation of the suite, with its complete output (and the hook environments recorded with `recordHookEnv`). */
export const transcript: Recorded[] = [];

/** What a hook of a scenario saw in its environment (e.g. postRun's `env` output): scanned like CLI output. */
export function recordHookEnv(label: string, hook: string, text: string): void {
  transcript.push({ label, args: [`(environment of ${hook})`], code: null, stdout: text, stderr: "", ms: 0, debug: false });
}

/** Runs the built CLI in sandbox `s` (through cli.ts) and records the output in `transcript`. */
export async function rcli(s: Sandbox, label: string, args: string[], o: CliOptions = {}): Promise<CliResult> {
  const r = await s.cli(args, o);
  transcript.push({ label, args, code: r.code, stdout: r.stdout, stderr: r.stderr, ms: r.ms, debug: !!o.env?.ACME_RENEW_DEBUG });
  return r;
}

export interface KillOnEvent {
  /** Directory watched (inotify) while the CLI runs. */
  watchDir: string;
  /** The first entry appearing in watchDir whose name matches arms the kill. */
  match: (entry: string) => boolean;
  /** Delay between that event and SIGKILL. */
  delayMs: number;
  /** Bound: SIGKILL anyway after this long. */
  timeoutMs: number;
  /** Instead of SIGKILL after delayMs (e.g. SIGSTOP, and SIGCONT later). */
  action?: (child: ChildProcess) => void;
}

/**
 * Like rcli(), but SIGKILLs the CLI `delayMs` after a matching entry appears in `watchDir` (e.g. the
 * temporary directory of a new version): a kill aimed at the instants the store is being written.
 */
export function rcliKillOnEvent(s: Sandbox, label: string, args: string[], k: KillOnEvent): Promise<CliResult & { triggered: boolean }> {
  const full = ["--config-dir", s.configDir, "--state-dir", s.stateDir, ...args];
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI, ...full], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let triggered = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const kill = () => child.kill("SIGKILL");
    const act = () => (k.action ? k.action(child) : kill());
    const watcher = watch(k.watchDir, (_ev, entry) => {
      if (triggered || !entry || !k.match(String(entry))) return;
      triggered = true;
      setTimeout(act, k.delayMs);
    });
    const bound = setTimeout(kill, k.timeoutMs);
    child.on("error", (e) => {
      watcher.close();
      clearTimeout(bound);
      rej(e);
    });
    child.on("close", (code) => {
      watcher.close();
      clearTimeout(bound);
      const r = { code, stdout, stderr, ms: Date.now() - t0 };
      transcript.push({ label, args, code, stdout, stderr, ms: r.ms, debug: false });
      res({ ...r, triggered });
    });
  });
}

const secrets = new Map<string, string>();
let explicitSecrets = 0;

/** A string that must never appear in any output of the suite (values shorter than 8 chars are refused). */
export function registerSecret(label: string, value: string): void {
  if (value.length < 8) throw new Error(`secret ${label} too short to search for`);
  if (!secrets.has(value) && !label.startsWith("private key line")) explicitSecrets++;
  secrets.set(value, label);
}

/** Distinct secret strings registered, and how many of them were registered explicitly (not key lines). */
export function secretCount(): { all: number; explicit: number } {
  return { all: secrets.size, explicit: explicitSecrets };
}

/** Registers every base64 body line of the private keys under `dir` (cert keys, full.pem, account keys). */
export function registerKeyMaterial(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && /^(key\.pem|full\.pem|account\.key)$/.test(e)) {
        const text = readFileSync(p, "utf8");
        for (const m of text.matchAll(/-----BEGIN ([A-Z ]*PRIVATE KEY)-----([\s\S]*?)-----END \1-----/g)) {
          for (const line of m[2]!.split("\n").map((l) => l.trim())) {
            if (line.length >= 40) {
              registerSecret(`private key line from ${p}`, line);
              n++;
            }
          }
        }
      }
    }
  };
  walk(dir);
  return n;
}

/** "label: secret <name> appeared in stdout/stderr of <args>" for every leak in the transcript. */
export function secretLeaks(): string[] {
  const leaks: string[] = [];
  for (const r of transcript) {
    for (const [value, name] of secrets) {
      for (const [stream, text] of [["stdout", r.stdout], ["stderr", r.stderr]] as const) {
        if (text.includes(value)) leaks.push(`${r.label}: secret "${name}" appeared in ${stream} of \`acme-renew ${r.args.join(" ")}\``);
      }
    }
  }
  return leaks;
}

/** Removes the suite's sandboxes (kept with RELIABILITY_KEEP=1). */
export function removeSandboxes(): void {
  if (process.env.RELIABILITY_KEEP) return;
  for (const r of roots) rmSync(r, { recursive: true, force: true });
}

/** No stack trace (an "internal-error"), no line that is not one log event. */
export function assertCleanOutput(r: CliResult, what = "output"): void {
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace\n${r.stderr}`);
  assert.doesNotMatch(r.stdout, /\n\s+at /, `${what}: no stack trace on stdout`);
  assert.doesNotMatch(r.stderr, /event=internal-error/, `${what}: no internal error\n${r.stderr}`);
}

// ---------------------------------------------------------------------------------------
// "Nothing lost"

export interface CertSnapshot {
  /** version id → file name → sha256 (complete versions only: names not starting with "."). */
  versions: Record<string, Record<string, string>>;
  /** The version `current` points at, or null (plain files, or nothing). */
  current: string | null;
  /** sha256 of the bytes cert.pem and key.pem resolve to, or null when either is missing. */
  pair: { cert: string; key: string } | null;
}

function hashDir(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(d).sort()) {
    const p = join(d, f);
    if (lstatSync(p).isFile()) out[f] = sha256(readFileSync(p));
  }
  return out;
}

function readOrNull(p: string): Buffer | null {
  try {
    return readFileSync(p);
  } catch {
    return null;
  }
}

function currentId(dir: string): string | null {
  try {
    const st = lstatSync(join(dir, "current"));
    if (!st.isSymbolicLink()) return null;
  } catch {
    return null;
  }
  return readlinkSync(join(dir, "current")).split("/").pop() ?? null;
}

export function snapshotCert(stateDir: string, name: string): CertSnapshot {
  const dir = join(stateDir, name);
  const versions: Record<string, Record<string, string>> = {};
  const vdir = join(dir, "versions");
  if (existsSync(vdir)) for (const v of readdirSync(vdir)) if (!v.startsWith(".")) versions[v] = hashDir(join(vdir, v));
  const cert = readOrNull(join(dir, "cert.pem"));
  const key = readOrNull(join(dir, "key.pem"));
  return { versions, current: currentId(dir), pair: cert && key ? { cert: sha256(cert), key: sha256(key) } : null };
}

export interface NothingLostOptions {
  /**
   * The stable files must hold a readable, matching pair (default). false: the run could not replace
   * an unusable certificate (e.g. a corrupt one with the CA down): only retention is checked.
   */
  usable?: boolean;
}

export interface AfterState {
  /** cert.pem/key.pem now resolve to other bytes than before. */
  changed: boolean;
  current: string | null;
  versions: string[];
  snapshot: CertSnapshot;
}

/**
 * After any fault: the stable files resolve; cert and key parse and belong together; `current` (when
 * there is one) points at a complete version the stable names agree with; every version's proof file
 * tells the truth; every version that existed `before` is still there, byte for byte (the suite sets
 * keepVersions high, so nothing is pruned); and the pair that was in use before is still on disk
 * (as a version, or as the plain files it was).
 */
export function assertNothingLost(stateDir: string, name: string, before: CertSnapshot, o: NothingLostOptions = {}): AfterState {
  const dir = join(stateDir, name);
  const read = (f: string) => {
    const b = readOrNull(join(dir, f));
    assert.ok(b !== null, `${name}/${f} resolves to a readable file`);
    return b.toString("utf8");
  };
  const files = Object.fromEntries(PEM_FILES.map((f) => [f, read(f)])) as Record<(typeof PEM_FILES)[number], string>;
  if (o.usable !== false) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(files["cert.pem"]);
    } catch (e) {
      assert.fail(`${name}/cert.pem parses: ${(e as Error).message}`);
    }
    let key;
    try {
      key = createPrivateKey(files["key.pem"]);
    } catch (e) {
      assert.fail(`${name}/key.pem parses: ${(e as Error).message}`);
    }
    assert.ok(cert.checkPrivateKey(key), `${name}: key.pem belongs to cert.pem`);
    assert.equal(files["fullchain.pem"], files["cert.pem"] + files["chain.pem"], `${name}: fullchain.pem = cert.pem + chain.pem (one consistent set)`);
    assert.equal(files["full.pem"], files["key.pem"] + files["fullchain.pem"], `${name}: full.pem = key.pem + fullchain.pem (one consistent set)`);
  }
  const cur = currentId(dir);
  const vdir = join(dir, "versions");
  const versions = existsSync(vdir) ? readdirSync(vdir).filter((v) => !v.startsWith(".")) : [];
  if (cur !== null) {
    assert.equal(readlinkSync(join(dir, "current")), join("versions", cur), `${name}: current is a relative link into versions/`);
    assert.ok(!cur.startsWith("."), `${name}: current points at a complete version, not ${cur}`);
    assert.ok(statSync(join(vdir, cur)).isDirectory(), `${name}: current → versions/${cur} exists`);
    for (const f of PEM_FILES) {
      assert.equal(readFileSync(join(vdir, cur, f), "utf8"), files[f], `${name}/${f} is the file of the current version ${cur}`);
    }
  }
  for (const v of versions) {
    const have = readdirSync(join(vdir, v));
    for (const f of PEM_FILES) assert.ok(have.includes(f), `${name}: version ${v} is complete (has ${f})`);
    // The pre-check trusts a proof file that matches the bytes without loading the key: such a proof
    // must never vouch for a pair that does not belong together (a stale proof, after someone edited
    // a file, is harmless: it no longer matches and the full check runs).
    const proof = readOrNull(join(vdir, v, PROOF_FILE));
    const k = readFileSync(join(vdir, v, "key.pem"), "utf8");
    const c = readFileSync(join(vdir, v, "cert.pem"), "utf8");
    if (proof !== null && proof.toString("utf8") === pairProof(k, c)) {
      assert.ok(new X509Certificate(c).checkPrivateKey(createPrivateKey(k)), `${name}: the ${PROOF_FILE} of version ${v} vouches for a pair that really matches`);
    }
    // Likewise a facts record the pre-check would take (its files unchanged) says what the files say.
    const recorded = recordedFacts(join(vdir, v));
    if (recorded !== null) {
      const chain = readOrNull(join(vdir, v, "chain.pem"));
      assert.deepEqual(recorded, factsOf({ cert: c, key: k, chain: chain === null ? null : chain.toString("utf8") }, { cert: "cert.pem", key: "key.pem" }), `${name}: the facts record of version ${v} says what its files say`);
    }
  }
  for (const [v, hashes] of Object.entries(before.versions)) {
    assert.ok(versions.includes(v), `${name}: version ${v} that existed before is still there`);
    assert.deepEqual(hashDir(join(vdir, v)), hashes, `${name}: version ${v} is unchanged`);
  }
  const after = snapshotCert(stateDir, name);
  if (before.pair) {
    const where = [
      ...(after.pair ? [after.pair] : []),
      ...versions.map((v) => ({ cert: after.versions[v]?.["cert.pem"], key: after.versions[v]?.["key.pem"] })),
    ];
    assert.ok(
      where.some((p) => p.cert === before.pair!.cert && p.key === before.pair!.key),
      `${name}: the pair in use before the run is still on disk (current, a version, or the adopted plain files)`,
    );
  }
  const changed = !after.pair || !before.pair || after.pair.cert !== before.pair.cert || after.pair.key !== before.pair.key;
  return { changed, current: cur, versions, snapshot: after };
}

/** Copies a cert dir (symlinks verbatim) into another state dir. */
export function copyCertDir(fromStateDir: string, toStateDir: string, name: string): void {
  cpSync(join(fromStateDir, name), join(toStateDir, name), { recursive: true, verbatimSymlinks: true });
}

// ---------------------------------------------------------------------------------------
// A JSON-rewriting proxy, composed in front of Pebble or a FaultProxy

export type Rewrite = (r: { method: string; path: string; status: number; json: unknown }) => unknown;

export interface RewriteProxy {
  directoryUrl: string;
  /** Responses changed so far. */
  rewritten: () => number;
  close(): Promise<void>;
}

/**
 * An HTTPS proxy (Pebble's TLS certificate) in front of `upstreamDirectoryUrl` (Pebble's directory, or a
 * FaultProxy's). The Host header is kept, so Pebble keeps building its URLs with this proxy's address.
 * JSON answers go through `rewrite`: return a new value to send instead, or undefined to pass them on.
 */
export async function startRewriteProxy(pebble: Pebble, upstreamDirectoryUrl: string, rewrite: Rewrite): Promise<RewriteProxy> {
  const up = new URL(upstreamDirectoryUrl);
  const ca = readFileSync(pebble.caBundle);
  let rewritten = 0;
  const server = createHttpsServer(
    { cert: readFileSync(join(pebble.dir, "wfe-cert.pem")), key: readFileSync(join(pebble.dir, "wfe-key.pem")) },
    async (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = { ...req.headers };
      delete headers["accept-encoding"];
      const path = (req.url ?? "/").split("?")[0]!;
      const upReq = httpsRequest(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers, ca, timeout: 30_000 },
        (ur) => {
          const body: Buffer[] = [];
          ur.on("data", (d: Buffer) => body.push(d));
          ur.on("error", () => res.destroy());
          ur.on("end", () => {
            let out = Buffer.concat(body);
            const h = { ...ur.headers };
            if (/json/.test(String(h["content-type"] ?? "")) && out.length > 0) {
              try {
                const next = rewrite({ method: req.method ?? "GET", path, status: ur.statusCode ?? 0, json: JSON.parse(out.toString("utf8")) });
                if (next !== undefined) {
                  out = Buffer.from(JSON.stringify(next));
                  rewritten++;
                }
              } catch {
                /* not JSON after all: pass it on */
              }
            }
            delete h["transfer-encoding"];
            h["content-length"] = String(out.length);
            res.writeHead(ur.statusCode ?? 502, h).end(out);
          });
        },
      );
      upReq.on("timeout", () => upReq.destroy(new Error("upstream timeout")));
      upReq.on("error", () => res.destroy());
      upReq.end(Buffer.concat(chunks));
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    directoryUrl: `https://127.0.0.1:${port}${up.pathname}`,
    rewritten: () => rewritten,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Rewrite rule: an order that became "valid" is reported as "processing" forever (no certificate URL). */
export const orderStuckProcessing: Rewrite = ({ json }) => {
  const o = json as { status?: unknown; finalize?: unknown; certificate?: unknown } | null;
  if (o && typeof o === "object" && typeof o.finalize === "string" && o.status === "valid") {
    const { certificate: _dropped, ...rest } = o;
    return { ...rest, status: "processing" };
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------
// Fault injectors that need root (each with a probe; the suite says which one it used)

function sh(cmd: string, args: string[], timeout = 10_000) {
  return spawnSync(cmd, args, { encoding: "utf8", timeout });
}

/** A command prefix running the CLI with `dir` bind-mounted read-only in a private mount namespace (EROFS). */
export function readOnlyBindWrapper(dir: string): string[] {
  return ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', dir];
}

/** Can we make a directory read-only for root (private mount namespace + read-only bind)? */
export function probeReadOnlyBind(): { ok: boolean; why: string } {
  const d = join(tmpdir(), `acme-renew-rel-probe-${process.pid}`);
  mkdirSync(d, { recursive: true });
  try {
    const r = sh(readOnlyBindWrapper(d)[0]!, [...readOnlyBindWrapper(d).slice(1), "sh", "-c", `touch "${d}/x"`]);
    const writable = existsSync(join(d, "x"));
    return { ok: r.status !== 0 && !writable && /Read-only/.test(r.stderr), why: `${r.status} ${r.stderr.trim()}` };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const mounted = new Set<string>();
let unmountHook = false;

/** Mounts a tmpfs of `bytes` at `dir` (must be empty); returns the unmount function. Needs root. */
export function mountTmpfs(dir: string, bytes: number): () => void {
  const r = sh("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0755`, "tmpfs", dir]);
  if (r.status !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr}`);
  mounted.add(dir);
  if (!unmountHook) {
    unmountHook = true;
    process.on("exit", () => {
      for (const m of mounted) spawnSync("umount", ["-l", m]);
    });
  }
  return () => {
    if (!mounted.has(dir)) return;
    sh("umount", ["-l", dir]);
    mounted.delete(dir);
  };
}

export function probeTmpfs(): { ok: boolean; why: string } {
  const d = join(tmpdir(), `acme-renew-rel-tmpfs-probe-${process.pid}`);
  mkdirSync(d, { recursive: true });
  try {
    const un = mountTmpfs(d, 16_384);
    try {
      writeFileSync(join(d, "a"), Buffer.alloc(8192));
      try {
        writeFileSync(join(d, "b"), Buffer.alloc(16_384));
        return { ok: false, why: "a 16 KiB tmpfs took 24 KiB" };
      } catch (e) {
        return { ok: (e as NodeJS.ErrnoException).code === "ENOSPC", why: String((e as NodeJS.ErrnoException).code) };
      }
    } finally {
      un();
    }
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** Fills the filesystem holding `dir` until ENOSPC, leaving `leaveBytes` (rounded to pages) free. */
export function fillFilesystem(dir: string, leaveBytes = 0): string {
  const filler = join(dir, `.filler-${process.pid}`);
  sh("dd", ["if=/dev/zero", `of=${filler}`, "bs=4096"], 30_000);
  if (leaveBytes > 0) sh("truncate", ["-s", `-${Math.ceil(leaveBytes / 4096) * 4096}`, filler]);
  return filler;
}

/**
 * libfiu's POSIX preload (Debian: fiu-utils). It wraps the libc functions; Node's fs goes through libuv
 * to libc's write/fsync/rename, so those calls can be made to fail. `write` itself cannot be failed
 * for Node: libuv's own internal writes (its async wake-up eventfd) then fail too and libuv aborts.
 * -f "": no remote-control FIFOs left in /tmp.
 */
export function fiuWrapper(commands: string[]): string[] {
  return ["fiu-run", "-x", "-f", "", ...commands.flatMap((c) => ["-c", c])];
}

/** Does fiu-run make fsync() fail with ENOSPC inside Node? */
export function probeFiu(): { ok: boolean; why: string } {
  const d = join(tmpdir(), `acme-renew-rel-fiu-probe-${process.pid}`);
  mkdirSync(d, { recursive: true });
  try {
    const script = `const fs=require("fs/promises");(async()=>{const h=await fs.open(${JSON.stringify(join(d, "f"))},"w");await h.writeFile("x");try{await h.sync();console.log("synced")}catch(e){console.log(e.code)}await h.close()})()`;
    const w = fiuWrapper(["enable name=posix/io/sync/fsync,failinfo=28"]);
    const r = sh(w[0]!, [...w.slice(1), process.execPath, "-e", script]);
    if (r.error) return { ok: false, why: r.error.message };
    return { ok: r.stdout.trim() === "ENOSPC", why: `${r.status} ${r.stdout.trim()} ${r.stderr.trim()}` };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** Pids of live processes whose command line contains `needle` (read from /proc; nothing is killed). */
export function pidsWithArg(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").some((a) => a.includes(needle))) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let signalCleanup = false;
/**
 * SIGTERM/SIGINT (e.g. the test runner's timeout) would end the process without its "exit" hooks:
 * Pebble's processes would be orphaned and a tmpfs left mounted. Turn them into a normal exit.
 */
export function exitCleanlyOnSignals(): void {
  if (signalCleanup) return;
  signalCleanup = true;
  for (const [sig, n] of [["SIGTERM", 15], ["SIGINT", 2]] as const) process.once(sig, () => process.exit(128 + n));
}
